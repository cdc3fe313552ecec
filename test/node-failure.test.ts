/**
 * A host that goes silent, end to end on a `coxswain up` cluster. Nodes: A, the
 * cluster's own (its kubelet is SIGSTOPped: a host that stops answering
 * without a word); B, a second real kubelet on the same Docker; and two hollow
 * nodes (test/lib/hollow-nodes.ts, cordoned, kept alive by the test) so that
 * one silent node out of four is not a disruption.
 * Checks what a user sees: A turns Unknown and is tainted, its pods leave the
 * Service's Endpoints, they are evicted after their tolerationSeconds and
 * replaced on B, Running and Ready; when A's kubelet wakes up A is Ready again,
 * the evicted pods' containers are removed and the pods are gone, none twice.
 * Then three of four nodes go silent at once: nothing is evicted until all but
 * one are back. Prints the measured times.
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
import { freePort, startProcess, stopProcess, waitFor, type Proc } from './lib/cluster';
import { containersWithLabels, dockerCleanup, sh } from './lib/docker';
import { HollowNodes } from './lib/hollow-nodes';
import { removePodTmpfs } from './lib/kubelet-harness';
import { coxctl, pidsMatching, startUp, tearDownUp, type UpCluster } from './lib/up';

const NODE_A = 'cxl-node';
const NODE_B = 'cxl-node-b';
const PREFIX_B = 'cxl';
const HOLLOW = ['cxl-hollow-1', 'cxl-hollow-2'];
const SERVICE_CIDR = '10.116.0.0/16';
const CLUSTER_CIDR = '10.247.0.0/16';
const NS = 'default';
const UNREACHABLE_NOEXECUTE = 'node.kubernetes.io/unreachable:NoExecute';

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
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const uids = (pods: Pod[]) => pods.map((p) => p.metadata!.uid!).sort();

describe('node failure: a silent host heals in seconds', { timeout: 10 * 60_000 }, () => {
  let home: string;
  let cluster: UpCluster;
  let client: ApiClient;
  let hollow: HollowNodes | undefined;
  let kubeletB: Proc | undefined;
  let pidA = 0;
  const stopped = new Set<number>();
  let original: Pod[] = [];
  let onB: Pod[] = [];

  const webPods = async () => (await client.list<Pod & KubeObject>(PODS, { namespace: NS, labelSelector: 'app=web' })).items;
  const node = (name: string) => client.get<Node & KubeObject>(NODES, name);
  const sigstop = (pid: number) => {
    process.kill(pid, 'SIGSTOP');
    stopped.add(pid);
  };
  const sigcont = (pid: number) => {
    process.kill(pid, 'SIGCONT');
    stopped.delete(pid);
  };

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-cxl-'));
    cluster = await startUp({ home, nodeName: NODE_A, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: '30000-32767' });
    client = cluster.client();
  });

  after(async () => {
    for (const pid of stopped) process.kill(pid, 'SIGCONT');
    await hollow?.stop();
    if (kubeletB) await stopProcess(kubeletB);
    const label = `coxswain.node=${NODE_B}`;
    const podUids = (await sh('docker', ['ps', '-a', '--filter', `label=${label}`, '--format', '{{.Label "io.kubernetes.pod.uid"}}']).catch(() => '')).split('\n').filter(Boolean);
    await dockerCleanup(await containersWithLabels([label]).catch(() => []), [`${PREFIX_B}-${NODE_B}`]);
    await removePodTmpfs(podUids).catch(() => undefined);
    client?.close();
    await tearDownUp(cluster, home, NODE_A, SERVICE_CIDR);
  });

  it('a Deployment runs on node A; its pods got the default tolerations; B and two hollow nodes join', async () => {
    await coxctl(cluster.kubeconfig, ['apply', '-f', '-'], MANIFEST);
    original = await waitFor('2 Running, Ready web pods', async () => {
      const pods = (await webPods()).filter((p) => p.status?.phase === 'Running' && podReady(p) === 'True');
      return pods.length === 2 ? pods : undefined;
    }, 120_000, 250);
    for (const p of original) {
      assert.equal(p.spec?.nodeName, NODE_A);
      const tols = (p.spec?.tolerations ?? []).map((t) => `${t.key}:${t.effect}:${t.tolerationSeconds}`).sort();
      assert.deepEqual(tols, ['node.kubernetes.io/not-ready:NoExecute:2', 'node.kubernetes.io/unreachable:NoExecute:2']);
    }
    await waitFor('both pods in the Endpoints', async () => (await client.get<Endpoints & KubeObject>(ENDPOINTS, 'web', NS)).subsets?.[0]?.addresses?.length === 2, 30_000);
    const pids = pidsMatching('coxswain.js kubelet ').filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(home));
    assert.equal(pids.length, 1, 'one kubelet process of this cluster');
    pidA = pids[0]!;
    // Only now the other nodes join, so the pods above run on A.
    hollow = new HollowNodes(client, HOLLOW, { cordoned: true });
    await hollow.start();
    kubeletB = startProcess('kubelet-b', home, [
      'kubelet', '--kubeconfig', cluster.kubeconfig, '--node-name', NODE_B, '--node-ip', '127.0.0.1',
      '--healthz-port', String(await freePort()), '--network-prefix', PREFIX_B, '--root-dir', path.join(home, 'kubelet-b'),
    ]);
    await waitFor('4 nodes Ready', async () => {
      const nodes = (await client.list<Node & KubeObject>(NODES)).items;
      return nodes.length === 4 && nodes.every((n) => ready(n) === 'True');
    }, 60_000, 200);
  });

  it('SIGSTOP A\'s kubelet: Unknown, tainted, pods out of the Endpoints, evicted, replaced on B and Running there', async (t) => {
    sigstop(pidA);
    const t0 = Date.now();

    await waitFor('A Ready Unknown', async () => ready(await node(NODE_A)) === 'Unknown', 30_000, 100);
    const detected = Date.now() - t0;
    assert.ok(detected > 5_000, `Unknown after ${secs(detected)}: not before the grace period (8 s) could have passed`);
    const a = await waitFor('unreachable taints on A', async () => {
      const n = await node(NODE_A);
      return taintsOf(n).includes(UNREACHABLE_NOEXECUTE) ? n : undefined;
    }, 10_000, 100);
    assert.deepEqual(taintsOf(a), [UNREACHABLE_NOEXECUTE, 'node.kubernetes.io/unreachable:NoSchedule']);
    await waitFor('no ready address in the Endpoints', async () => {
      const e = await client.get<Endpoints & KubeObject>(ENDPOINTS, 'web', NS);
      return (e.subsets ?? []).every((s) => !s.addresses?.length);
    }, 10_000, 100);
    const unready = Date.now() - t0;

    const evicted = await waitFor('the old pods marked for deletion', async () => {
      const pods = (await webPods()).filter((p) => uids(original).includes(p.metadata!.uid!));
      return pods.length === 2 && pods.every((p) => p.metadata?.deletionTimestamp) ? pods : undefined;
    }, 20_000, 100);
    const evictedAt = Date.now() - t0;
    for (const p of evicted) assert.equal(podReady(p), 'False', 'the evicted pods were marked not ready');

    onB = await waitFor('2 replacements Running and Ready on B', async () => {
      const fresh = (await webPods()).filter((p) => !p.metadata?.deletionTimestamp && !uids(original).includes(p.metadata!.uid!));
      return fresh.length === 2 && fresh.every((p) => p.spec?.nodeName === NODE_B && p.status?.phase === 'Running' && podReady(p) === 'True') ? fresh : undefined;
    }, 30_000, 100);
    const runningAt = Date.now() - t0;
    await waitFor('the replacements in the Endpoints', async () => {
      const e = await client.get<Endpoints & KubeObject>(ENDPOINTS, 'web', NS);
      const ips = (e.subsets ?? []).flatMap((s) => s.addresses ?? []).map((x) => x.ip).sort();
      return JSON.stringify(ips) === JSON.stringify(onB.map((p) => p.status?.podIP).sort());
    }, 10_000, 100);
    const servingAt = Date.now() - t0;

    const report = `A's kubelet SIGSTOP → A Unknown ${secs(detected)}, out of the Endpoints ${secs(unready)}, pods evicted ${secs(evictedAt)}, replacements Running and Ready on B ${secs(runningAt)}, in the Endpoints ${secs(servingAt)}`;
    t.diagnostic(report);
    console.log(`# ${report}`);
    assert.ok(runningAt < 15_000, report);

    await waitFor('a TaintManagerEviction event per evicted pod', async () => {
      const events = (await client.list<Event & KubeObject>(EVENTS, { namespace: NS })).items.filter((e) => e.reason === 'TaintManagerEviction');
      return original.every((o) => events.some((e) => e.involvedObject.uid === o.metadata?.uid));
    }, 10_000, 200);
    // Evicted pods stay Terminating while their kubelet cannot confirm: never force-deleted.
    const still = (await webPods()).filter((p) => uids(original).includes(p.metadata!.uid!));
    assert.equal(still.length, 2, 'the evicted pods are still in the API, Terminating');
  });

  it('SIGCONT: A is Ready again, untainted; the old pods stopped, removed and gone; nothing twice', async (t) => {
    sigcont(pidA);
    const t0 = Date.now();
    await waitFor('A Ready and untainted', async () => {
      const n = await node(NODE_A);
      return ready(n) === 'True' && taintsOf(n).length === 0;
    }, 30_000, 100);
    const back = Date.now() - t0;
    await waitFor('the old pods gone from the API', async () => (await webPods()).every((p) => !uids(original).includes(p.metadata!.uid!)), 60_000, 200);
    const gone = Date.now() - t0;
    for (const o of original) assert.deepEqual(await containersWithLabels([`io.kubernetes.pod.uid=${o.metadata!.uid}`]), [], `no container of ${o.metadata?.name} is left`);
    const pods = await webPods();
    assert.deepEqual(uids(pods), uids(onB), 'the two replacements on B, nothing else');
    // No flapping: while A was down and the machine busy moving its pods, no other node was taken for dead.
    const notReady = (await client.list<Event & KubeObject>(EVENTS, { namespace: 'default' })).items.filter((e) => e.reason === 'NodeNotReady');
    assert.deepEqual([...new Set(notReady.map((e) => e.involvedObject.name))], [NODE_A], 'NodeNotReady for A only');
    t.diagnostic(`SIGCONT → A Ready ${secs(back)}, old pods gone ${secs(gone)}`);
    console.log(`# SIGCONT → A Ready ${secs(back)}, old pods gone ${secs(gone)}`);
  });

  it('three of four nodes silent at once: all Unknown, nothing evicted; evictions resume when only one is left silent', async () => {
    const pidB = kubeletB!.child.pid!;
    for (const n of HOLLOW) hollow!.silence(n);
    sigstop(pidB);
    await waitFor('B and both hollow nodes Unknown', async () => (await Promise.all([NODE_B, ...HOLLOW].map(node))).every((n) => ready(n) === 'Unknown'), 30_000, 200);
    const unknownAt = Date.now();
    // Well past the pods' 2 s tolerationSeconds: no NoExecute taint, no deletion.
    await waitFor('5 s past the pods\' tolerationSeconds', () => Date.now() - unknownAt > 7_000, 10_000, 200);
    for (const name of [NODE_B, ...HOLLOW]) assert.ok(!taintsOf(await node(name)).includes(UNREACHABLE_NOEXECUTE), `${name}: no NoExecute taint while most nodes are down`);
    assert.deepEqual(taintsOf(await node(NODE_B)), ['node.kubernetes.io/unreachable:NoSchedule']);
    const pods = await webPods();
    assert.deepEqual(uids(pods), uids(onB));
    assert.ok(pods.every((p) => !p.metadata?.deletionTimestamp), 'nothing evicted');

    // The hollow nodes come back; B alone silent (1 of 4) is no disruption: its pods are evicted and run on A.
    for (const n of HOLLOW) hollow!.resume(n);
    await waitFor('B tainted NoExecute', async () => taintsOf(await node(NODE_B)).includes(UNREACHABLE_NOEXECUTE), 30_000, 200);
    await waitFor('2 pods Running and Ready on A', async () => {
      const live = (await webPods()).filter((p) => !p.metadata?.deletionTimestamp);
      return live.length === 2 && live.every((p) => p.spec?.nodeName === NODE_A && p.status?.phase === 'Running' && podReady(p) === 'True');
    }, 30_000, 200);
    sigcont(pidB);
    await waitFor('B\'s old pods gone', async () => (await webPods()).every((p) => !uids(onB).includes(p.metadata!.uid!)), 60_000, 200);
  });

  it('a pod evicted from a silent node stays Terminating until the Node is deleted, then it is removed', async (t) => {
    const name = HOLLOW[0]!;
    const pod = await client.create<Pod & KubeObject>(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'pinned', namespace: NS },
      spec: { nodeName: name, containers: [{ name: 'c', image: 'busybox:1.36' }] },
    } as Pod & KubeObject, NS);
    hollow!.silence(name);
    const terminating = await waitFor('the pinned pod evicted', async () => {
      const p = await client.tryGet<Pod & KubeObject>(PODS, 'pinned', NS);
      return p?.metadata?.deletionTimestamp ? p : undefined;
    }, 30_000, 200);
    assert.equal(terminating.metadata?.uid, pod.metadata?.uid);
    const evictedAt = Date.now();
    // Nobody confirms it stopped: it stays.
    await waitFor('3 s more', () => Date.now() - evictedAt > 3_000, 10_000, 200);
    assert.ok(await client.tryGet<Pod & KubeObject>(PODS, 'pinned', NS), 'still Terminating: never force-deleted while its node exists');
    const t0 = Date.now();
    await client.delete(NODES, name);
    await waitFor('the pinned pod gone', async () => !(await client.tryGet<Pod & KubeObject>(PODS, 'pinned', NS)), 40_000, 500);
    t.diagnostic(`Node deleted → its Terminating pod removed ${secs(Date.now() - t0)} (PodGC's 20 s quarantine)`);
  });
});
