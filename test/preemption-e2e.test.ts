/**
 * Issue 14, priority and preemption on a `coxswain up` cluster with one hollow node (1 cpu):
 * PriorityClasses are served (`kubectl get pc`, the built-ins not deletable, an unknown class
 * refused), a Deployment of low-priority pods fills the node, a high-priority pod arrives: one
 * victim gets a Preempted event and is deleted, the high-priority pod is bound there, and the
 * Deployment's replacement stays Pending with kube-scheduler's message, preemption included.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import { spawnHollowNodes, startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';
import { kubectlFor } from './lib/kubectl';

const NODE = 'pp-up';
const HOLLOW = 'pp-hollow-0';
const SERVICE_CIDR = '10.186.0.0/16';
const CLUSTER_CIDR = '10.196.0.0/16';
const NODE_PORTS = '32950-32999';

const classes = `apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: low}
value: 100
description: batch work
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000000
`;

const placement = `      nodeSelector: {coxswain.test/pool: pp}
      tolerations:
      - {key: pp, operator: Exists, effect: NoSchedule}`;

const filler = `apiVersion: apps/v1
kind: Deployment
metadata: {name: filler}
spec:
  replicas: 4
  selector:
    matchLabels: {app: filler}
  template:
    metadata:
      labels: {app: filler}
    spec:
      priorityClassName: low
${placement}
      containers:
      - name: app
        image: busybox:1.36
        resources: {requests: {cpu: 250m}}
`;

const urgent = (name: string, cls: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  priorityClassName: ${cls}
${placement.replace(/^ {4}/gm, '')}
  containers:
  - name: app
    image: busybox:1.36
    resources: {requests: {cpu: 250m}}
`;

describe('priority and preemption', { timeout: 2 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;
  let hollow: ChildProcess | undefined;

  const { k, kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache }));
  const fillerPods = async (): Promise<Pod[]> => (JSON.parse(await kok(['get', 'pods', '-l', 'app=filler', '-o', 'json'])) as { items: Pod[] }).items;

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-preempt-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    hollow = spawnHollowNodes(cluster.kubeconfig, [
      '--count', '1', '--prefix', 'pp-hollow-', '--labels', 'coxswain.test/pool=pp', '--taints', 'pp=true:NoSchedule', '--cpu', '1', '--memory', '4Gi', '--pods', '20',
    ]);
  });

  after(async () => {
    if (hollow && hollow.exitCode === null) hollow.kill('SIGKILL');
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('serves PriorityClasses: kubectl get pc, built-ins not deletable, unknown classes refused', async () => {
    await kok(['apply', '-f', '-'], { input: classes });
    // kubectl's generator sends protobuf
    await kok(['create', 'priorityclass', 'mid', '--value=500', '--preemption-policy=Never', '--description=made by kubectl create']);
    assert.equal(await jp(['get', 'pc', 'mid'], '{.value} {.preemptionPolicy} {.description}'), '500 Never made by kubectl create');
    const table = await kok(['get', 'pc']);
    assert.match(table, /^NAME\s+VALUE\s+GLOBAL-DEFAULT\s+AGE\s*$/m);
    assert.match(table, /^system-node-critical\s+2000001000\s+false\s+/m);
    assert.match(table, /^system-cluster-critical\s+2000000000\s+false\s+/m);
    assert.match(table, /^high\s+1000000\s+false\s+/m);
    assert.match(await kok(['get', 'pc', 'low', '-o', 'wide']), /^low\s+100\s+false\s+\S+\s+PreemptLowerPriority\s*$/m);
    const del = await k(['delete', 'pc', 'system-node-critical']);
    assert.notEqual(del.code, 0);
    assert.match(del.stderr, /this is a system priority class and cannot be deleted/);
    const bad = await k(['apply', '-f', '-'], { input: urgent('nowhere', 'nope') });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /pods "nowhere" is forbidden: no PriorityClass with name nope was found/);
  });

  it('preempts a low-priority pod for a high-priority one; the Deployment replaces its victim, which stays Pending', async () => {
    await waitFor(`node ${HOLLOW} Ready`, async () => (await jp(['get', 'nodes', HOLLOW, '--ignore-not-found'], '{.status.conditions[?(@.type=="Ready")].status}')) === 'True', 30_000, 250);
    await kok(['apply', '-f', '-'], { input: filler });
    const before = await waitFor('4 filler pods Running on the hollow node', async () => {
      const items = await fillerPods();
      return items.length === 4 && items.every((p) => p.status?.phase === 'Running' && p.spec?.nodeName === HOLLOW) ? items : undefined;
    }, 30_000, 250);
    assert.equal(before[0]!.spec?.priority, 100, 'priority admission filled spec.priority');
    await kok(['apply', '-f', '-'], { input: urgent('urgent', 'high') });
    assert.equal(await jp(['get', 'pod', 'urgent'], '{.spec.priority} {.spec.preemptionPolicy}'), '1000000 PreemptLowerPriority');
    await waitFor('urgent Running on the hollow node', async () => (await jp(['get', 'pod', 'urgent'], '{.status.phase} {.spec.nodeName}')) === `Running ${HOLLOW}`, 30_000, 250);
    assert.equal(await jp(['get', 'pod', 'urgent'], '{.status.nominatedNodeName}'), HOLLOW);
    const uid = await jp(['get', 'pod', 'urgent'], '{.metadata.uid}');
    const oldNames = new Set(before.map((p) => p.metadata?.name));
    const [victim, replacement] = await waitFor('3 old filler pods left and one Pending replacement', async () => {
      const items = await fillerPods();
      const gone = before.filter((p) => !items.some((i) => i.metadata?.name === p.metadata?.name));
      const fresh = items.filter((p) => !oldNames.has(p.metadata?.name));
      return items.length === 4 && gone.length === 1 && fresh.length === 1 && fresh[0]!.status?.phase === 'Pending' ? [gone[0]!, fresh[0]!] as const : undefined;
    }, 30_000, 250);
    const preempted = await jp(['get', 'events', '--field-selector', `involvedObject.name=${victim.metadata?.name},reason=Preempted`], '{.items[0].message}');
    assert.equal(preempted, `Preempted by pod ${uid} on node ${HOLLOW}`);
    const message = await waitFor('a FailedScheduling event for the replacement', async () => {
      const m = await jp(['get', 'events', '--field-selector', `involvedObject.name=${replacement.metadata?.name},reason=FailedScheduling`], '{.items[-1:].message}');
      return m || undefined;
    }, 20_000, 250);
    assert.equal(message, "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector. "
      + 'preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.');
    assert.equal(await jp(['get', 'pod', replacement.metadata!.name!], '{.status.phase}'), 'Pending');
  });
});
