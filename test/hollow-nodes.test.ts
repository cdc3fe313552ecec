/**
 * Issue 14, `coxswain hollow-nodes` on a `coxswain up` cluster: three hollow nodes register
 * Ready with the kubelet's labels, their --labels and --taints, and renew their Leases; a
 * Deployment that tolerates the taint gets its pods Running and Ready there with distinct pod
 * IPs, without Docker; scaling down finishes the deleted pods; a pod that does not tolerate the
 * taint stays Pending with kube-scheduler's message; SIGTERM with --delete-nodes removes the nodes.
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

const NODE = 'ho-up';
const SERVICE_CIDR = '10.174.0.0/16';
const CLUSTER_CIDR = '10.226.0.0/16';
const NODE_PORTS = '32900-32949';
const HOLLOW = ['ho-hollow-0', 'ho-hollow-1', 'ho-hollow-2'];

const deployment = (replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      nodeSelector: {coxswain.test/pool: hollow}
      tolerations:
      - {key: hollow, operator: Equal, value: "true", effect: NoSchedule}
      containers:
      - name: app
        image: busybox:1.36
        command: [sleep, "3600"]
`;

const untolerating = `apiVersion: v1
kind: Pod
metadata:
  name: untolerating
spec:
  nodeSelector: {coxswain.test/pool: hollow}
  containers:
  - name: app
    image: busybox:1.36
`;

describe('coxswain hollow-nodes', { timeout: 4 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;
  let hollow: ChildProcess | undefined;
  let hollowOut = '';

  const { kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache }));
  const webPods = async (): Promise<Pod[]> => (JSON.parse(await kok(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: Pod[] }).items;

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-hollow-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    hollow = spawnHollowNodes(cluster.kubeconfig, [
      '--count', '3', '--prefix', 'ho-hollow-', '--labels', 'coxswain.test/pool=hollow,topology.kubernetes.io/zone=z1',
      '--taints', 'hollow=true:NoSchedule', '--cpu', '2', '--memory', '4Gi', '--pods', '20',
    ], (t) => (hollowOut += t));
    hollow.stderr!.on('data', (c) => (hollowOut += c));
  });

  after(async () => {
    if (hollow && hollow.exitCode === null) hollow.kill('SIGKILL');
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('registers Ready nodes with the kubelet labels, --labels, --taints and capacity, and renews their Leases', async () => {
    await waitFor('3 hollow nodes Ready', async () => {
      const ready = await jp(['get', 'nodes', '-l', 'coxswain.test/pool=hollow'], '{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}');
      return ready.split(' ').filter((s) => s.endsWith('=True')).length === 3;
    }, 30_000, 250);
    const node = JSON.parse(await kok(['get', 'node', 'ho-hollow-1', '-o', 'json'])) as { metadata: { labels: Record<string, string> }; spec: { taints?: unknown[] }; status: { allocatable: Record<string, string> } };
    assert.equal(node.metadata.labels['kubernetes.io/hostname'], 'ho-hollow-1');
    assert.equal(node.metadata.labels['kubernetes.io/os'], 'linux');
    assert.ok(node.metadata.labels['kubernetes.io/arch']);
    assert.equal(node.metadata.labels['topology.kubernetes.io/zone'], 'z1');
    assert.deepEqual(node.spec.taints, [{ key: 'hollow', value: 'true', effect: 'NoSchedule' }]);
    assert.equal(node.status.allocatable.cpu, '2');
    assert.equal(node.status.allocatable.memory, '4Gi');
    assert.equal(node.status.allocatable.pods, '20');
    // The Lease is renewed: its renewTime moves.
    const renew = () => jp(['get', 'lease', '-n', 'kube-node-lease', 'ho-hollow-2'], '{.spec.renewTime}');
    const first = await waitFor('the Lease of ho-hollow-2', async () => (await renew()) || undefined, 10_000, 200);
    await waitFor('a renewal of the Lease of ho-hollow-2', async () => (await renew()) !== first, 10_000, 200);
  });

  it('runs a tolerating Deployment on the hollow nodes: Running, Ready, distinct pod IPs', async () => {
    await kok(['apply', '-f', '-'], { input: deployment(6) });
    const pods = await waitFor('6 web pods Running and Ready', async () => {
      const items = await webPods();
      const ok = items.filter((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ok.length === 6 && items.length === 6 ? items : undefined;
    }, 60_000, 250);
    for (const p of pods) assert.ok(HOLLOW.includes(p.spec?.nodeName ?? ''), `${p.metadata?.name} is on ${p.spec?.nodeName}`);
    const ips = pods.map((p) => p.status?.podIP);
    assert.equal(new Set(ips).size, 6, `pod IPs not distinct: ${ips.join(' ')}`);
    assert.equal(pods[0]!.status?.containerStatuses?.[0]?.ready, true);
    assert.ok(pods[0]!.status?.containerStatuses?.[0]?.state?.running?.startedAt);
    await kok(['rollout', 'status', 'deployment/web', '--timeout=30s']);
  });

  it('finishes pods deleted by a scale-down (graceful deletion completed by the hollow kubelet)', async () => {
    await kok(['scale', 'deployment/web', '--replicas=2']);
    await waitFor('2 web pods left, none terminating', async () => {
      const items = await webPods();
      return items.length === 2 && items.every((p) => !p.metadata?.deletionTimestamp);
    }, 30_000, 250);
  });

  it('keeps a pod that does not tolerate the taint off the hollow nodes, with the upstream message', async () => {
    await kok(['apply', '-f', '-'], { input: untolerating });
    const message = await waitFor('a FailedScheduling event for the untolerating pod', async () => {
      const m = await jp(['get', 'events', '--field-selector', 'involvedObject.name=untolerating,reason=FailedScheduling'], '{.items[0].message}');
      return m || undefined;
    }, 30_000, 250);
    assert.match(message, /^0\/4 nodes are available: /);
    assert.match(message, /3 node\(s\) had untolerated taint \{hollow: true\}/);
    assert.match(message, /1 node\(s\) didn't match Pod's node affinity\/selector/);
    assert.equal(await jp(['get', 'pod', 'untolerating'], '{.status.phase}'), 'Pending');
  });

  it('stops on SIGTERM and, with --delete-nodes, removes its nodes', async () => {
    const exited = new Promise<number | null>((resolve) => hollow!.on('exit', (code) => resolve(code)));
    hollow!.kill('SIGTERM');
    assert.equal(await exited, 0, hollowOut.slice(-2000));
    await waitFor('the hollow nodes gone', async () => (await jp(['get', 'nodes', '-l', 'coxswain.test/pool=hollow'], '{.items[*].metadata.name}')) === '', 20_000, 250);
  });
});
