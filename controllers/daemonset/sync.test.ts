import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DaemonSet, DaemonSetUpdateStrategy } from 'kubernetes-types/apps/v1';
import type { Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1';
import { Backoff } from './backoff';
import { planHistory, revisionData, revisionsToPrune, newRevision } from './history';
import { affinityForNode, daemonPodTolerations, HASH_LABEL, newDaemonPod, nodeShouldRunDaemonPod, targetNodeName } from './placement';
import { computeDaemonSetStatus, planManage, planRollingUpdate, podsByNode, surgeAndUnavailable } from './sync';

const NOW = Date.parse('2024-01-01T00:10:00Z');

function ds(o: { nodeSelector?: Record<string, string>; tolerations?: Toleration[]; strategy?: DaemonSetUpdateStrategy; image?: string; hostNetwork?: boolean; minReady?: number } = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'default', uid: 'ds-uid', generation: 2 },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      updateStrategy: o.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      minReadySeconds: o.minReady,
      template: {
        metadata: { labels: { app: 'agent' } },
        spec: { nodeSelector: o.nodeSelector, tolerations: o.tolerations, hostNetwork: o.hostNetwork, containers: [{ name: 'c', image: o.image ?? 'busybox:1.36' }] },
      },
    },
  };
}

function node(name: string, o: { labels?: Record<string, string>; taints?: Taint[] } = {}): Node {
  return { metadata: { name, labels: o.labels ?? {} }, spec: { taints: o.taints } };
}

type PodOpts = { hash?: string; phase?: string; ready?: boolean; deleting?: boolean; created?: string; bound?: boolean };
function pod(name: string, nodeName: string, o: PodOpts = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      creationTimestamp: o.created ?? '2024-01-01T00:00:00Z',
      labels: { app: 'agent', [HASH_LABEL]: o.hash ?? 'h1' },
      ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:09:00Z' } : {}),
    },
    spec: { nodeName: o.bound === false ? undefined : nodeName, affinity: affinityForNode(undefined, nodeName), containers: [] },
    status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: '2024-01-01T00:01:00Z' }] },
  };
}

const names = (ps: Pod[]) => ps.map((p) => p.metadata?.name).sort();

test('nodeShouldRunDaemonPod: selector, taints and the tolerations DaemonSet pods get by default', () => {
  const t = (key: string, effect: string): Taint => ({ key, effect });
  const cases: [string, DaemonSet, Node, boolean, boolean][] = [
    ['plain node', ds(), node('a'), true, true],
    ['selector matches', ds({ nodeSelector: { role: 'edge' } }), node('a', { labels: { role: 'edge' } }), true, true],
    ['selector does not match', ds({ nodeSelector: { role: 'edge' } }), node('a'), false, false],
    ['user NoSchedule taint, not tolerated: no new pod, keep a running one', ds(), node('a', { taints: [t('dedicated', 'NoSchedule')] }), false, true],
    ['user NoSchedule taint, tolerated', ds({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] }), node('a', { taints: [t('dedicated', 'NoSchedule')] }), true, true],
    ['user NoExecute taint, not tolerated', ds(), node('a', { taints: [t('dedicated', 'NoExecute')] }), false, false],
    ['cordoned node (unschedulable taint) is tolerated', ds(), node('a', { taints: [t('node.kubernetes.io/unschedulable', 'NoSchedule')] }), true, true],
    ['memory pressure is tolerated', ds(), node('a', { taints: [t('node.kubernetes.io/memory-pressure', 'NoSchedule')] }), true, true],
    ['unreachable NoExecute tolerated, its NoSchedule not', ds(), node('a', { taints: [t('node.kubernetes.io/unreachable', 'NoExecute'), t('node.kubernetes.io/unreachable', 'NoSchedule')] }), false, true],
    ['network-unavailable only for hostNetwork', ds(), node('a', { taints: [t('node.kubernetes.io/network-unavailable', 'NoSchedule')] }), false, true],
    ['network-unavailable with hostNetwork', ds({ hostNetwork: true }), node('a', { taints: [t('node.kubernetes.io/network-unavailable', 'NoSchedule')] }), true, true],
  ];
  for (const [name, d, n, run, cont] of cases) assert.deepEqual(nodeShouldRunDaemonPod(n, d), { shouldRun: run, shouldContinueRunning: cont }, name);
});

test('daemon pods: default tolerations added once, required affinity names the node, labels carry the revision', () => {
  const tol = daemonPodTolerations({ containers: [], tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }] });
  assert.equal(tol.filter((x) => x.key === 'node.kubernetes.io/not-ready').length, 1);
  assert.equal(tol.length, 6);
  const p = newDaemonPod(ds(), 'node-b', 'h9', 'agent-xxxxx');
  assert.deepEqual(p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-b'] }] }] });
  assert.equal(p.spec?.nodeName, undefined, 'the scheduler binds it');
  assert.deepEqual(p.metadata?.labels, { app: 'agent', [HASH_LABEL]: 'h9', 'pod-template-generation': '2' });
  assert.equal(p.metadata?.ownerReferences?.[0].kind, 'DaemonSet');
  assert.equal(targetNodeName(p), 'node-b');
  assert.equal(targetNodeName(pod('x', 'node-c')), 'node-c');
});

test('planManage: one pod per eligible node, table', () => {
  const nodes = [node('a'), node('b', { labels: { role: 'edge' } }), node('c')];
  const cases: [string, DaemonSet, Node[], Pod[], { create: string[]; delete: string[]; failed: string[] }][] = [
    ['empty cluster', ds(), nodes, [], { create: ['a', 'b', 'c'], delete: [], failed: [] }],
    ['all placed', ds(), nodes, [pod('pa', 'a'), pod('pb', 'b'), pod('pc', 'c')], { create: [], delete: [], failed: [] }],
    ['a node joins', ds(), [...nodes, node('d')], [pod('pa', 'a'), pod('pb', 'b'), pod('pc', 'c')], { create: ['d'], delete: [], failed: [] }],
    ['a node stops matching', ds({ nodeSelector: { role: 'edge' } }), nodes, [pod('pa', 'a'), pod('pb', 'b')], { create: [], delete: ['pa'], failed: [] }],
    ['two pods on one node: the newer goes', ds(), nodes, [pod('old', 'a'), pod('new', 'a', { created: '2024-01-01T00:05:00Z' }), pod('pb', 'b'), pod('pc', 'c')], { create: [], delete: ['new'], failed: [] }],
    ['terminating pod: no second pod until it is gone', ds(), nodes, [pod('pa', 'a', { deleting: true }), pod('pb', 'b'), pod('pc', 'c')], { create: [], delete: [], failed: [] }],
    ['failed pod: replaced (after backoff)', ds(), nodes, [pod('pa', 'a', { phase: 'Failed' }), pod('pb', 'b'), pod('pc', 'c')], { create: [], delete: [], failed: ['pa'] }],
    ['succeeded pod: deleted', ds(), nodes, [pod('pa', 'a', { phase: 'Succeeded' }), pod('pb', 'b'), pod('pc', 'c')], { create: [], delete: ['pa'], failed: [] }],
    ['unscheduled pod for a node that left: deleted', ds(), nodes, [pod('pa', 'a'), pod('pb', 'b'), pod('pc', 'c'), pod('pz', 'gone', { bound: false })], { create: [], delete: ['pz'], failed: [] }],
    ['bound pod on a node that left: left to the orphan rule', ds(), nodes, [pod('pa', 'a'), pod('pb', 'b'), pod('pc', 'c'), pod('pz', 'gone')], { create: [], delete: [], failed: [] }],
    ['untolerated NoExecute: evicted', ds(), [node('a', { taints: [{ key: 'x', effect: 'NoExecute' }] })], [pod('pa', 'a')], { create: [], delete: ['pa'], failed: [] }],
  ];
  for (const [name, d, ns, pods, want] of cases) {
    const plan = planManage(d, ns, podsByNode(pods), 'h1', NOW);
    assert.deepEqual({ create: [...plan.create].sort(), delete: names(plan.delete), failed: plan.failed.map((f) => f.pod.metadata?.name) }, want, name);
  }
});

test('planManage with maxSurge: an old and a new pod share a node until the new one is available', () => {
  const d = ds({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } });
  const oldP = pod('old', 'a', { hash: 'h0' });
  let plan = planManage(d, [node('a')], podsByNode([oldP, pod('new', 'a', { ready: false, created: '2024-01-01T00:05:00Z' })]), 'h1', NOW);
  assert.deepEqual(names(plan.delete), []);
  plan = planManage(d, [node('a')], podsByNode([oldP, pod('new', 'a', { created: '2024-01-01T00:05:00Z' })]), 'h1', NOW);
  assert.deepEqual(names(plan.delete), ['old']);
  plan = planManage(d, [node('a')], podsByNode([pod('old', 'a', { hash: 'h0', deleting: true })]), 'h1', NOW);
  assert.deepEqual(plan.create, ['a'], 'surging: a terminating pod does not hold the node');
});

test('planRollingUpdate without surge: at most maxUnavailable nodes down; unavailable old pods go at once', () => {
  const nodes = [node('a'), node('b'), node('c')];
  const old = (n: string, o: PodOpts = {}) => pod(`p${n}`, n, { hash: 'h0', ...o });
  const cases: [string, number | string, Pod[], string[]][] = [
    ['all old and available: one goes', 1, [old('a'), old('b'), old('c')], ['pa']],
    ['maxUnavailable 2', 2, [old('a'), old('b'), old('c')], ['pa', 'pb']],
    ['maxUnavailable 50% of 3 rounds up to 2', '50%', [old('a'), old('b'), old('c')], ['pa', 'pb']],
    ['one being replaced (terminating): wait', 1, [old('a', { deleting: true }), old('b'), old('c')], []],
    ['new pod not yet available: wait', 1, [pod('na', 'a', { ready: false }), old('b'), old('c')], []],
    ['new pod available: next one', 1, [pod('na', 'a'), old('b'), old('c')], ['pb']],
    ['unavailable old pod replaced beyond the budget', 1, [old('a', { ready: false }), old('b'), old('c')], ['pa']],
    ['done', 1, [pod('na', 'a'), pod('nb', 'b'), pod('nc', 'c')], []],
  ];
  for (const [name, mu, pods, want] of cases) {
    const d = ds({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: mu, maxSurge: 0 } } });
    const plan = planRollingUpdate(d, nodes, podsByNode(pods), 'h1', NOW);
    assert.deepEqual(names(plan.delete), want, name);
    assert.deepEqual(plan.create, [], name);
  }
  assert.deepEqual(planRollingUpdate(ds({ strategy: { type: 'OnDelete' } }), nodes, podsByNode([old('a'), old('b'), old('c')]), 'h1', NOW), { create: [], delete: [], failed: [] }, 'OnDelete waits for the user');
});

test('planRollingUpdate with surge: new pods beside old ones on up to maxSurge nodes, old ones go when the new are available', () => {
  const d = ds({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } });
  const nodes = [node('a'), node('b')];
  let plan = planRollingUpdate(d, nodes, podsByNode([pod('oa', 'a', { hash: 'h0' }), pod('ob', 'b', { hash: 'h0' })]), 'h1', NOW);
  assert.deepEqual(plan.create, ['a']);
  const notReady = pod('na', 'a', { ready: false });
  plan = planRollingUpdate(d, nodes, podsByNode([pod('oa', 'a', { hash: 'h0' }), notReady, pod('ob', 'b', { hash: 'h0' })]), 'h1', NOW);
  assert.deepEqual([plan.create, names(plan.delete)], [[], []], 'surge budget used');
  plan = planRollingUpdate(d, nodes, podsByNode([pod('oa', 'a', { hash: 'h0' }), pod('na', 'a'), pod('ob', 'b', { hash: 'h0' })]), 'h1', NOW);
  assert.deepEqual([plan.create, names(plan.delete)], [['b'], ['oa']]);
  assert.deepEqual(surgeAndUnavailable(ds({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } }), 3), { maxSurge: 0, maxUnavailable: 1 });
});

test('computeDaemonSetStatus counts per node, from the oldest pod', () => {
  const nodes = [node('a'), node('b'), node('c'), node('x', { labels: { role: 'no' } })];
  const d = ds({ nodeSelector: {} });
  d.spec!.template.spec!.nodeSelector = undefined;
  d.spec!.template.spec!.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'role', operator: 'DoesNotExist' }] }] } } };
  const pods = [pod('pa', 'a'), pod('pb', 'b', { ready: false, hash: 'h0' }), pod('px', 'x')];
  const s = computeDaemonSetStatus(d, nodes, podsByNode(pods), 'h1', NOW, true);
  assert.deepEqual(s, { desiredNumberScheduled: 3, currentNumberScheduled: 2, numberMisscheduled: 1, numberReady: 1, updatedNumberScheduled: 1, numberAvailable: 1, numberUnavailable: 2, observedGeneration: 2 });
  const withMinReady = computeDaemonSetStatus(ds({ minReady: 3600 }), [node('a')], podsByNode([pod('pa', 'a')]), 'h1', NOW, false);
  assert.equal(withMinReady.numberAvailable, 0, 'ready for less than minReadySeconds');
  assert.equal(withMinReady.observedGeneration, undefined, 'not observed while expectations are pending');
});

test('history: a revision per template, renumbered on rollback, pruned beyond the limit unless a pod uses it', () => {
  const v1 = ds({ image: 'busybox:1' });
  const v2 = ds({ image: 'busybox:2' });
  let h = planHistory(v1, []);
  assert.equal(h.create?.revision, 1);
  assert.deepEqual(h.create?.data, revisionData(v1));
  assert.equal((h.create?.data as { spec: { template: { $patch: string } } }).spec.template.$patch, 'replace');
  assert.equal(h.create?.metadata?.name, `agent-${h.hash}`);
  assert.equal(h.create?.metadata?.labels?.[HASH_LABEL], h.hash);
  const r1 = h.create!;
  h = planHistory(v2, [r1]);
  assert.equal(h.create?.revision, 2);
  assert.notEqual(h.hash, r1.metadata?.labels?.[HASH_LABEL]);
  const r2 = h.create!;
  h = planHistory(v1, [r1, r2]);
  assert.equal(h.create, undefined);
  assert.equal(h.current, r1);
  assert.equal(h.renumber?.revision, 3, 'rollback: the old template becomes the newest revision');
  h = planHistory(v2, [r1, r2]);
  assert.equal(h.renumber, undefined);
  const old = [1, 2, 3, 4].map((i) => newRevision(ds({ image: `busybox:${i}` }), i));
  const d = ds();
  d.spec!.revisionHistoryLimit = 2;
  const live = pod('p', 'a', { hash: old[0].metadata!.labels![HASH_LABEL] });
  assert.deepEqual(revisionsToPrune(d, old, [live]).map((c) => c.revision), [2, 3]);
});

test('Backoff doubles per key and resets after quiet', () => {
  const b = new Backoff(1000, 8000);
  assert.equal(b.remaining('k', 0), 0);
  b.next('k', 0);
  assert.equal(b.remaining('k', 500), 500);
  b.next('k', 1000);
  assert.equal(b.remaining('k', 1000), 2000);
  b.next('k', 3000);
  b.next('k', 7000);
  b.next('k', 15000);
  assert.equal(b.remaining('k', 15000), 8000, 'capped');
  b.next('k', 100_000);
  assert.equal(b.remaining('k', 100_000), 1000, 'forgotten after 2 * max');
});
