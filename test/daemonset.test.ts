/**
 * Issue 12, DaemonSets and pod garbage collection, end to end on a `coxswain
 * up` cluster (real scheduler, controllers, kubelet and Docker) with the real
 * kubectl 1.32. Nodes: the cluster's own real node, plus hollow nodes
 * (test/lib/hollow-nodes.ts, kept Ready by the test) whose pods a hollow
 * kubelet (test/lib/hollow-kubelet.ts) reports Running and confirms deleted.
 * Checks what a user sees: exactly one pod per eligible node; a node that
 * stops matching loses its pod and gets it back; a joining node gets one; a
 * failed pod is replaced; a user's NoSchedule taint keeps pods off unless the
 * DaemonSet tolerates it; a
 * rolling update replaces every pod and `kubectl rollout status` returns, also
 * when the controllers are killed with SIGKILL mid-rollout, and no node ever
 * holds two pods of the set at once; `rollout history` and `undo`; and a
 * controllers process with a small --terminated-pod-gc-threshold deletes the
 * oldest finished pods.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DaemonSet } from 'kubernetes-types/apps/v1';
import type { Event, Pod } from 'kubernetes-types/core/v1';
import type { ApiClient, KubeObject } from '../lib/client';
import { Informer } from '../lib/informer';
import { DAEMONSETS, EVENTS, PODS } from '../lib/resources';
import { freePort, startProcess, stopProcess, type Proc } from './lib/cluster';
import { HollowKubelet } from './lib/hollow-kubelet';
import { HollowNodes } from './lib/hollow-nodes';
import { pidsMatching, startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';
import { kubectlFor } from './lib/kubectl';

const NODE = 'cxds-node';
const HOLLOW = ['cxds-h1', 'cxds-h2'];
const JOINER = 'cxds-h3';
const SERVICE_CIDR = '10.149.0.0/16';
const CLUSTER_CIDR = '10.229.0.0/16';
const NODE_PORTS = '32700-32749';
const NS = 'default';

const DAEMONSET = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  minReadySeconds: 2
  selector:
    matchLabels: {app: agent}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 1}
  template:
    metadata:
      labels: {app: agent}
    spec:
      terminationGracePeriodSeconds: 1
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: agent, operator: NotIn, values: ["off"]}
      containers:
      - name: agent
        image: busybox:1.36
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
        env:
        - {name: VERSION, value: "1"}
`;


const podReady = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
const hashOf = (p: Pod) => p.metadata?.labels?.['controller-revision-hash'];

describe('DaemonSets: one pod per eligible node, rolling updates, pod GC', { timeout: 12 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;
  let client: ApiClient;
  let hollow: HollowNodes;
  let joiner: HollowNodes | undefined;
  let kubelet: HollowKubelet;
  let monitor: Informer<Pod & KubeObject>;
  let podgc: Proc | undefined;
  /** Every moment a node held two unfinished pods of the set (terminating ones included), as seen by a watch. */
  const doubles: string[] = [];

  const { k, kok } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache }));
  const agentPods = async () => (await client.list<Pod & KubeObject>(PODS, { namespace: NS, labelSelector: 'app=agent' })).items;
  const ds = () => client.get<DaemonSet & KubeObject>(DAEMONSETS, 'agent', NS);
  /** The live (not terminating) agent pods by node, once every node in `nodes` has exactly one, Running and Ready, and no other node has any. */
  const onePerNode = (nodes: string[], opts: { hash?: string } = {}) => waitFor(`one Ready agent pod on each of ${nodes.join(', ')}`, async () => {
    const pods = await agentPods();
    if (pods.some((p) => p.metadata?.deletionTimestamp)) return undefined;
    const by = new Map<string, Pod[]>();
    for (const p of pods) by.set(p.spec?.nodeName ?? '', [...(by.get(p.spec?.nodeName ?? '') ?? []), p]);
    if (by.size !== nodes.length || !nodes.every((n) => by.get(n)?.length === 1)) return undefined;
    if (!pods.every((p) => p.status?.phase === 'Running' && podReady(p))) return undefined;
    if (opts.hash && !pods.every((p) => hashOf(p) === opts.hash)) return undefined;
    return by;
  }, 90_000, 250);
  const status = (want: Partial<Record<'desired' | 'current' | 'ready' | 'updated' | 'available' | 'misscheduled', number>>) => waitFor(`DaemonSet status ${JSON.stringify(want)}`, async () => {
    const s = (await ds()).status;
    const got = { desired: s?.desiredNumberScheduled, current: s?.currentNumberScheduled, ready: s?.numberReady, updated: s?.updatedNumberScheduled, available: s?.numberAvailable, misscheduled: s?.numberMisscheduled };
    return Object.entries(want).every(([key, v]) => got[key as keyof typeof got] === v) ? got : undefined;
  }, 60_000, 250);

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-cxds-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    client = cluster.client();
    hollow = new HollowNodes(client, HOLLOW);
    await hollow.start();
    kubelet = new HollowKubelet(client, [...HOLLOW, JOINER]);
    await kubelet.start();
    monitor = new Informer<Pod & KubeObject>(client, PODS, { namespace: NS, labelSelector: 'app=agent' });
    const check = () => {
      const count = new Map<string, string[]>();
      for (const p of monitor.list()) {
        const n = p.spec?.nodeName;
        // a finished pod runs nothing; a terminating one may still run its containers, so it counts
        if (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') continue;
        if (n) count.set(n, [...(count.get(n) ?? []), p.metadata!.name!]);
      }
      for (const [n, names] of count) if (names.length > 1) doubles.push(`${n}: ${names.join(', ')}`);
    };
    monitor.on({ add: check, update: check });
    await monitor.start();
  });

  after(async () => {
    await monitor?.stop();
    await kubelet?.stop();
    await hollow?.stop();
    await joiner?.stop();
    if (podgc) await stopProcess(podgc);
    client?.close();
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('kubectl apply: one pod on every node, bound by the scheduler through a matchFields affinity, with the default tolerations', async () => {
    await kok(['apply', '-f', '-'], { input: DAEMONSET });
    const by = await onePerNode([NODE, ...HOLLOW]);
    const real = by.get(NODE)![0];
    assert.deepEqual(real.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
      [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [NODE] }] }]);
    const tols = (real.spec?.tolerations ?? []).map((t) => `${t.key}:${t.effect}`).sort();
    for (const t of ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule', 'node.kubernetes.io/pid-pressure:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule']) assert.ok(tols.includes(t), `toleration ${t}`);
    assert.ok(real.metadata?.labels?.['controller-revision-hash'] && real.metadata?.labels?.['pod-template-generation'], 'revision labels');
    await status({ desired: 3, current: 3, ready: 3, updated: 3, available: 3, misscheduled: 0 });
    const row = (await kok(['get', 'ds', 'agent'])).split('\n')[1];
    assert.match(row, /^agent\s+3\s+3\s+3\s+3\s+3\s+<none>/);
  });

  it('a node labelled to stop matching loses its pod; unlabelled, it gets one again; a joining node gets one', async () => {
    await kok(['label', 'node', HOLLOW[1], 'agent=off']);
    await onePerNode([NODE, HOLLOW[0]]);
    await status({ desired: 2, current: 2, misscheduled: 0 });
    await kok(['label', 'node', HOLLOW[1], 'agent-']);
    await onePerNode([NODE, ...HOLLOW]);
    joiner = new HollowNodes(client, [JOINER]);
    await joiner.start();
    await onePerNode([NODE, ...HOLLOW, JOINER]);
    await status({ desired: 4, current: 4, ready: 4 });
  });

  it('a failed pod is deleted and replaced, with a FailedDaemonPod event', async () => {
    const victim = (await agentPods()).find((p) => p.spec?.nodeName === HOLLOW[0])!;
    await client.patch(PODS, victim.metadata!.name!, { status: { phase: 'Failed', reason: 'Test' } }, { namespace: NS, subresource: 'status', type: 'merge' });
    const by = await onePerNode([NODE, ...HOLLOW, JOINER]);
    assert.notEqual(by.get(HOLLOW[0])![0].metadata?.uid, victim.metadata?.uid, 'a new pod on the node');
    await waitFor('a FailedDaemonPod event naming the failed pod', async () => (await client.list<Event & KubeObject>(EVENTS, { namespace: NS })).items
      .some((e) => e.reason === 'FailedDaemonPod' && e.message?.includes(victim.metadata!.name!)), 10_000, 200);
  });

  it('a user NoSchedule taint keeps a new pod off the node unless the DaemonSet tolerates it', async () => {
    await kok(['taint', 'node', JOINER, 'dedicated=infra:NoSchedule']);
    // NoSchedule does not evict: the pod stays until deleted
    await status({ desired: 3, current: 3 });
    const onJoiner = (await agentPods()).filter((p) => p.spec?.nodeName === JOINER);
    assert.equal(onJoiner.length, 1, 'the running pod is not evicted by NoSchedule');
    await kok(['delete', 'pod', onJoiner[0].metadata!.name!, '--wait=true']);
    await onePerNode([NODE, ...HOLLOW]);
    const s = await status({ desired: 3, current: 3, ready: 3 });
    assert.equal(s.desired, 3);
    assert.ok((await agentPods()).every((p) => p.spec?.nodeName !== JOINER), 'no pod on the tainted node');
    await kok(['patch', 'ds', 'agent', '--type', 'json', '-p', JSON.stringify([{ op: 'add', path: '/spec/template/spec/tolerations', value: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }] }])]);
    const out = await kok(['rollout', 'status', 'ds/agent', '--timeout=120s'], { timeoutMs: 130_000 });
    assert.match(out, /daemon set "agent" successfully rolled out/);
    const rev = hashOf((await agentPods())[0]);
    await onePerNode([NODE, ...HOLLOW, JOINER], { hash: rev });
  });

  it('a rolling update survives kill -9 of the controllers; no node ever has two pods; rollout status returns', async (t) => {
    const before = new Set((await agentPods()).map((p) => p.metadata!.uid!));
    const oldHash = hashOf((await agentPods())[0]);
    await kok(['set', 'env', 'ds/agent', 'VERSION=2']);
    const atKill = await waitFor('the first replacement pod', async () => {
      const pods = await agentPods();
      return pods.some((p) => hashOf(p) !== oldHash) ? pods : undefined;
    }, 60_000, 50);
    const oldLeft = atKill.filter((p) => hashOf(p) === oldHash && !p.metadata?.deletionTimestamp).length;
    assert.ok(oldLeft >= 2, `killed mid-rollout: ${oldLeft} old pods still running`);
    const pids = pidsMatching('coxswain.js controllers ').filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(home));
    assert.equal(pids.length, 1, 'one controllers process of this cluster');
    process.kill(pids[0], 'SIGKILL');
    const t0 = Date.now();
    const out = await kok(['rollout', 'status', 'ds/agent', '--timeout=180s'], { timeoutMs: 190_000 });
    assert.match(out, /daemon set "agent" successfully rolled out/);
    const newHash = hashOf((await agentPods()).find((p) => hashOf(p) !== oldHash)!);
    const by = await onePerNode([NODE, ...HOLLOW, JOINER], { hash: newHash });
    for (const [, [p]] of by) assert.ok(!before.has(p.metadata!.uid!), 'every pod was replaced');
    assert.deepEqual(doubles, [], 'no node ever held two pods of the set');
    t.diagnostic(`controllers killed with ${oldLeft} of 4 old pods left; rollout finished ${((Date.now() - t0) / 1000).toFixed(1)} s later (a new leader waits out the old Lease, 15 s)`);
    const real = by.get(NODE)![0];
    assert.equal(real.spec?.containers[0].env?.find((e) => e.name === 'VERSION')?.value, '2');
  });

  it('kubectl rollout history and undo', async () => {
    const hist = await kok(['rollout', 'history', 'ds/agent']);
    const revs = hist.split('\n').filter((l) => /^\d+\s/.test(l)).map((l) => Number(l.split(/\s+/)[0]));
    assert.deepEqual(revs, [1, 2, 3], hist);
    const r2 = await kok(['rollout', 'history', 'ds/agent', '--revision=2']);
    assert.match(r2, /VERSION:\s+1/);
    await kok(['rollout', 'undo', 'ds/agent']);
    await kok(['rollout', 'status', 'ds/agent', '--timeout=120s'], { timeoutMs: 130_000 });
    const by = await onePerNode([NODE, ...HOLLOW, JOINER]);
    assert.equal(by.get(NODE)![0].spec?.containers[0].env?.find((e) => e.name === 'VERSION')?.value, '1');
    const after = await kok(['rollout', 'history', 'ds/agent']);
    const revsAfter = after.split('\n').filter((l) => /^\d+\s/.test(l)).map((l) => Number(l.split(/\s+/)[0]));
    assert.deepEqual(revsAfter, [1, 3, 4], `the restored template is the newest revision: ${after}`);
    await kok(['rollout', 'restart', 'ds/agent']);
    await kok(['rollout', 'status', 'ds/agent', '--timeout=120s'], { timeoutMs: 130_000 });
    const restarted = await onePerNode([NODE, ...HOLLOW, JOINER]);
    assert.ok(restarted.get(NODE)![0].metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], 'restarted pods carry the annotation');
    const hist5 = await kok(['rollout', 'history', 'ds/agent']);
    assert.ok(hist5.split('\n').some((l) => /^5\s/.test(l)), `rollout restart made revision 5: ${hist5}`);
    assert.deepEqual(doubles, [], 'no node ever held two pods of the set');
  });

  it('podgc with --terminated-pod-gc-threshold 3 deletes the oldest finished pods', async () => {
    const port = await freePort();
    podgc = startProcess('podgc', home, ['controllers', '--kubeconfig', cluster.kubeconfig, '--controllers', 'podgc', '--terminated-pod-gc-threshold', '3', '--port', String(port)]);
    const pod = (i: number) => ({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: `done-${i}`, namespace: NS, labels: { app: 'done' } },
      spec: { restartPolicy: 'Never', nodeName: NODE, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox:1.36', imagePullPolicy: 'IfNotPresent', command: ['true'] }] },
    });
    const done = async () => (await client.list<Pod & KubeObject>(PODS, { namespace: NS, labelSelector: 'app=done' })).items;
    for (let i = 1; i <= 5; i++) {
      await client.create(PODS, pod(i) as KubeObject, NS);
      // one at a time, so creation order is age order
      await waitFor(`done-${i} Succeeded`, async () => (await done()).find((p) => p.metadata?.name === `done-${i}`)?.status?.phase === 'Succeeded', 60_000, 200);
    }
    const left = await waitFor('3 finished pods left', async () => {
      const pods = await done();
      return pods.length === 3 ? pods : undefined;
    }, 60_000, 250);
    assert.deepEqual(left.map((p) => p.metadata?.name).sort(), ['done-3', 'done-4', 'done-5'], 'the oldest went first');
  });
});
