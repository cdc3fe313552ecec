/**
 * Issue 14, InterPodAffinity and PodTopologySpread end to end on hollow nodes, one `coxswain up`
 * cluster: three hollow nodes, two in zone a and one in zone b (tainted, so only our pods go
 * there). A Deployment of 4 replicas with required anti-affinity on kubernetes.io/hostname gets 3
 * pods on 3 distinct nodes and leaves the 4th Pending with kube-scheduler's message; a Deployment
 * of 6 replicas spread over zones with maxSkew 1 ends 3 and 3 (plain least-allocated spreading
 * over the three nodes would give zone a 4 and zone b 2).
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

const NODE = 'af-up';
const SERVICE_CIDR = '10.181.0.0/16';
const CLUSTER_CIDR = '10.182.0.0/16';
const NODE_PORTS = '32060-32099';
const ZONE_OF: Record<string, string> = { 'af-za-0': 'a', 'af-za-1': 'a', 'af-zb-0': 'b' };

const deployment = (name: string, replicas: number, rules: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      nodeSelector: {coxswain.test/pool: af}
      tolerations:
      - {key: hollow, operator: Exists, effect: NoSchedule}
${rules}
      containers:
      - name: app
        image: busybox:1.36
        command: [sleep, "3600"]
`;

const ANTI = `      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: ha}}
            topologyKey: kubernetes.io/hostname`;

const SPREAD = `      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: DoNotSchedule
        labelSelector: {matchLabels: {app: spread}}`;

describe('InterPodAffinity and PodTopologySpread on hollow nodes', { timeout: 3 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;
  const hollow: ChildProcess[] = [];
  let hollowOut = '';

  const { kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache }));
  const podsOf = async (app: string): Promise<Pod[]> => (JSON.parse(await kok(['get', 'pods', '-l', `app=${app}`, '-o', 'json'])) as { items: Pod[] }).items;
  const startHollow = (prefix: string, count: number, zone: string) => {
    hollow.push(spawnHollowNodes(cluster.kubeconfig, [
      '--count', String(count), '--prefix', prefix, '--labels', `coxswain.test/pool=af,topology.kubernetes.io/zone=${zone}`, '--taints', 'hollow=true:NoSchedule',
    ], (t) => (hollowOut += t)));
  };

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-af-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    startHollow('af-za-', 2, 'a');
    startHollow('af-zb-', 1, 'b');
    await waitFor('3 hollow nodes Ready', async () => {
      const ready = await jp(['get', 'nodes', '-l', 'coxswain.test/pool=af'], '{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}');
      return ready.split(' ').filter((s) => s.endsWith('=True')).length === 3;
    }, 30_000, 250);
  });

  after(async () => {
    for (const p of hollow) if (p.exitCode === null) p.kill('SIGKILL');
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('required anti-affinity: 3 replicas on 3 distinct nodes, the 4th Pending with the upstream message', async () => {
    await kok(['apply', '-f', '-'], { input: deployment('ha', 4, ANTI) });
    const running = await waitFor('3 ha pods Running and 1 Pending', async () => {
      const items = await podsOf('ha');
      const run = items.filter((p) => p.status?.phase === 'Running');
      return items.length === 4 && run.length === 3 && items.filter((p) => p.status?.phase === 'Pending').length === 1 ? run : undefined;
    }, 60_000, 250);
    const nodes = running.map((p) => p.spec?.nodeName ?? '').sort();
    assert.deepEqual(nodes, Object.keys(ZONE_OF).sort(), `ha pods on ${nodes.join(' ')}`);
    const pending = (await podsOf('ha')).find((p) => p.status?.phase === 'Pending')!;
    const message = await waitFor('a FailedScheduling event for the 4th replica', async () => {
      const m = await jp(['get', 'events', '--field-selector', `involvedObject.name=${pending.metadata?.name},reason=FailedScheduling`], '{.items[0].message}');
      return m || undefined;
    }, 30_000, 250);
    // The real node lacks the pool label; the three hollow nodes each hold a replica the new one must avoid.
    assert.match(message, /^0\/4 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector, 3 node\(s\) didn't match pod anti-affinity rules\./);
    assert.equal(pending.spec?.nodeName, undefined);
  });

  it('topology spread: 6 replicas over zones a (2 nodes) and b (1 node) end 3 and 3', async () => {
    await kok(['apply', '-f', '-'], { input: deployment('spread', 6, SPREAD) });
    const pods = await waitFor('6 spread pods Running', async () => {
      const items = await podsOf('spread');
      return items.length === 6 && items.every((p) => p.status?.phase === 'Running') ? items : undefined;
    }, 60_000, 250);
    const perZone: Record<string, number> = { a: 0, b: 0 };
    for (const p of pods) perZone[ZONE_OF[p.spec?.nodeName ?? '']]++;
    assert.deepEqual(perZone, { a: 3, b: 3 }, hollowOut.slice(-1000));
  });
});
