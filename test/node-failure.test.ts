/**
 * A host that goes silent, end to end on a `coxswain up` cluster: one real
 * node (its kubelet is SIGSTOPped: a host that stops answering without a
 * word) and two hollow nodes (test/lib/hollow-nodes.ts) the test keeps alive.
 * Checks what a user sees: the node turns Unknown and is tainted, its pods
 * leave the Service's Endpoints, they are evicted after their
 * tolerationSeconds and replaced elsewhere; when the kubelet wakes up the node
 * is Ready again, the evicted pods' containers are removed and the pods are
 * gone, none twice. Then most nodes go silent at once: nothing is evicted.
 * Prints the measured times.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Endpoints, Event, Node, Pod } from 'kubernetes-types/core/v1';
import type { ApiClient, KubeObject } from '../lib/client';
import { ENDPOINTS, EVENTS, NODES, PODS } from '../lib/resources';
import { waitFor } from './lib/cluster';
import { containersWithLabels } from './lib/docker';
import { HollowNodes } from './lib/hollow-nodes';
import { coxctl, pidsMatching, startUp, tearDownUp, type UpCluster } from './lib/up';

const NODE = 'cxl-node';
const HOLLOW = ['cxl-hollow-1', 'cxl-hollow-2'];
const SERVICE_CIDR = '10.116.0.0/16';
const CLUSTER_CIDR = '10.247.0.0/16';
const NS = 'default';

const MANIFEST = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: busybox:1.36
        imagePullPolicy: IfNotPresent
        command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done']
        ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
`;

const ready = (n: Node | undefined) => n?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
const podReady = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status;
const taintsOf = (n: Node | undefined) => (n?.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

async function webPods(client: ApiClient): Promise<Pod[]> {
  return (await client.list<Pod & KubeObject>(PODS, { namespace: NS, labelSelector: 'app=web' })).items;
}

function kubeletPid(home: string): number {
  const pids = pidsMatching('coxswain.js kubelet ').filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(home));
  assert.equal(pids.length, 1, 'one kubelet process of this cluster');
  return pids[0]!;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe('node failure: a silent host heals in seconds', { timeout: 10 * 60_000 }, () => {
  let home: string;
  let cluster: UpCluster;
  let client: ApiClient;
  let hollow: HollowNodes;
  let kubelet = 0;
  let stoppedKubelet = false;
  let original: Pod[] = [];

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-cxl-'));
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: '30000-32767' });
    client = cluster.client();
  });

  after(async () => {
    if (stoppedKubelet) process.kill(kubelet, 'SIGCONT');
    await hollow?.stop();
    client?.close();
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('a Deployment runs on the real node and the default tolerations are set', async () => {
    await coxctl(cluster.kubeconfig, ['apply', '-f', '-'], MANIFEST);
    original = await waitFor('2 Running, Ready web pods', async () => {
      const pods = (await webPods(client)).filter((p) => p.status?.phase === 'Running' && podReady(p) === 'True');
      return pods.length === 2 ? pods : undefined;
    }, 120_000, 250);
    for (const p of original) {
      assert.equal(p.spec?.nodeName, NODE);
      const tols = (p.spec?.tolerations ?? []).map((t) => `${t.key}:${t.effect}:${t.tolerationSeconds}`).sort();
      assert.deepEqual(tols, ['node.kubernetes.io/not-ready:NoExecute:2', 'node.kubernetes.io/unreachable:NoExecute:2']);
    }
    await waitFor('both pods in the Endpoints', async () => (await client.get<Endpoints & KubeObject>(ENDPOINTS, 'web', NS)).subsets?.[0]?.addresses?.length === 2, 30_000);
    // Only now the hollow nodes join, so the pods above ran on the real one.
    hollow = new HollowNodes(client, HOLLOW);
    await hollow.start();
    await waitFor('hollow nodes Ready', async () => {
      const nodes = (await client.list<Node & KubeObject>(NODES)).items;
      return nodes.length === 3 && nodes.every((n) => ready(n) === 'True');
    }, 30_000);
  });

  it('SIGSTOP the kubelet: Unknown, tainted, pods NotReady and out of the Endpoints, evicted and replaced', async (t) => {
    kubelet = kubeletPid(home);
    process.kill(kubelet, 'SIGSTOP');
    stoppedKubelet = true;
    const t0 = Date.now();

    await waitFor('node Ready Unknown', async () => ready(await client.get<Node & KubeObject>(NODES, NODE)) === 'Unknown', 30_000, 100);
    const detected = Date.now() - t0;
    const node = await waitFor('unreachable taints', async () => {
      const n = await client.get<Node & KubeObject>(NODES, NODE);
      return taintsOf(n).includes('node.kubernetes.io/unreachable:NoExecute') ? n : undefined;
    }, 10_000, 100);
    assert.deepEqual(taintsOf(node), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    const tainted = Date.now() - t0;

    const ep = await waitFor('no ready endpoints', async () => {
      const e = await client.get<Endpoints & KubeObject>(ENDPOINTS, 'web', NS);
      return (e.subsets ?? []).every((s) => !s.addresses?.length) ? e : undefined;
    }, 10_000, 100);
    const unready = Date.now() - t0;
    assert.ok(detected > 5_000, `Unknown after ${secs(detected)}: not before the grace period (8 s) could have passed`);

    const evictedPods = await waitFor('the old pods marked for deletion', async () => {
      const pods = (await webPods(client)).filter((p) => original.some((o) => o.metadata?.uid === p.metadata?.uid));
      return pods.length === 2 && pods.every((p) => p.metadata?.deletionTimestamp) ? pods : undefined;
    }, 20_000, 100);
    const evicted = Date.now() - t0;
    for (const p of evictedPods) assert.equal(podReady(p), 'False', 'the evicted pods were marked not ready');

    const replacements = await waitFor('2 replacements bound to hollow nodes', async () => {
      const fresh = (await webPods(client)).filter((p) => !p.metadata?.deletionTimestamp && !original.some((o) => o.metadata?.uid === p.metadata?.uid));
      return fresh.length === 2 && fresh.every((p) => HOLLOW.includes(p.spec?.nodeName ?? '')) ? fresh : undefined;
    }, 20_000, 100);
    const replaced = Date.now() - t0;
    assert.equal(replacements.length, 2);

    await waitFor('a TaintManagerEviction event per evicted pod', async () => {
      const events = (await client.list<Event & KubeObject>(EVENTS, { namespace: NS })).items.filter((e) => e.reason === 'TaintManagerEviction');
      return original.every((o) => events.some((e) => e.involvedObject.uid === o.metadata?.uid));
    }, 10_000, 200);
    assert.ok(ep.subsets?.some((s) => s.notReadyAddresses?.length === 2) || !ep.subsets?.length, 'the pods are at most among notReadyAddresses');

    const report = `kubelet SIGSTOP → node Unknown ${secs(detected)}, tainted ${secs(tainted)}, out of the Endpoints ${secs(unready)}, pods evicted ${secs(evicted)}, replacements bound ${secs(replaced)}`;
    t.diagnostic(report);
    console.log(`# ${report}`);
    assert.ok(replaced < 15_000, report);

    // Evicted pods stay Terminating while their kubelet cannot confirm: never force-deleted.
    const still = (await webPods(client)).filter((p) => original.some((o) => o.metadata?.uid === p.metadata?.uid));
    assert.equal(still.length, 2, 'the evicted pods are still in the API (Terminating)');
  });

  it('SIGCONT: the node is Ready again, untainted; the old pods stopped, removed and gone; nothing twice', async (t) => {
    process.kill(kubelet, 'SIGCONT');
    stoppedKubelet = false;
    const t0 = Date.now();
    await waitFor('node Ready and untainted', async () => {
      const n = await client.get<Node & KubeObject>(NODES, NODE);
      return ready(n) === 'True' && taintsOf(n).length === 0;
    }, 30_000, 100);
    const back = Date.now() - t0;
    await waitFor('the old pods gone from the API', async () => (await webPods(client)).every((p) => !original.some((o) => o.metadata?.uid === p.metadata?.uid)), 60_000, 200);
    const gone = Date.now() - t0;
    for (const o of original) {
      assert.deepEqual(await containersWithLabels([`io.kubernetes.pod.uid=${o.metadata!.uid}`]), [], `no container of ${o.metadata?.name} is left`);
    }
    const pods = await webPods(client);
    assert.equal(pods.length, 2, 'two web pods in all: the replacements');
    assert.ok(pods.every((p) => HOLLOW.includes(p.spec?.nodeName ?? '')));
    t.diagnostic(`kubelet SIGCONT → node Ready ${secs(back)}, old pods gone ${secs(gone)}`);
    console.log(`# kubelet SIGCONT → node Ready ${secs(back)}, old pods gone ${secs(gone)}`);
  });

  it('most nodes silent at once (2 of 3): they go Unknown but nothing is evicted; evictions resume after', async () => {
    const before = await webPods(client);
    assert.equal(before.length, 2);
    for (const n of HOLLOW) hollow.silence(n);
    await waitFor('both hollow nodes Unknown', async () => {
      const nodes = await Promise.all(HOLLOW.map((n) => client.get<Node & KubeObject>(NODES, n)));
      return nodes.every((n) => ready(n) === 'Unknown');
    }, 30_000, 200);
    const unknownAt = Date.now();
    // Past the pods' 2 s tolerationSeconds, with room: no NoExecute taint, no deletion.
    await waitFor('4 s past the pods\' tolerationSeconds', () => Date.now() - unknownAt > 6_000, 10_000, 200);
    for (const name of HOLLOW) {
      const n = await client.get<Node & KubeObject>(NODES, name);
      assert.deepEqual(taintsOf(n), ['node.kubernetes.io/unreachable:NoSchedule'], `${name}: NoSchedule only, no NoExecute while most nodes are down`);
    }
    const after = await webPods(client);
    assert.deepEqual(after.map((p) => p.metadata?.uid).sort(), before.map((p) => p.metadata?.uid).sort());
    assert.ok(after.every((p) => !p.metadata?.deletionTimestamp), 'nothing evicted');

    // One comes back: 1 of 3 down is not a disruption; the other one's pods are evicted.
    hollow.resume(HOLLOW[0]!);
    await waitFor(`${HOLLOW[1]} tainted NoExecute`, async () => taintsOf(await client.get<Node & KubeObject>(NODES, HOLLOW[1]!)).includes('node.kubernetes.io/unreachable:NoExecute'), 30_000, 200);
    const onSilent = before.filter((p) => p.spec?.nodeName === HOLLOW[1]);
    await waitFor('the silent node\'s pods evicted', async () => {
      const pods = await webPods(client);
      return onSilent.every((o) => !pods.some((p) => p.metadata?.uid === o.metadata?.uid && !p.metadata?.deletionTimestamp));
    }, 20_000, 200);
    hollow.resume(HOLLOW[1]!);
  });
});
