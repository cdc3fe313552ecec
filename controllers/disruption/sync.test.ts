import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import type { BudgetStatus } from '../../lib/disruption';
import { type Owners, scaledValue, syncBudget } from './sync';
import { resetDisruptionTarget, staleDisruptionIn } from './stale';

const NOW = new Date('2026-01-01T00:10:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString().replace('.000Z', 'Z');

const deploy: Deployment = { metadata: { name: 'web', namespace: 'ns', uid: 'd-uid' }, spec: { replicas: 4, selector: {}, template: {} } };
const rs: ReplicaSet = { metadata: { name: 'web-1', namespace: 'ns', uid: 'rs-uid', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true }] }, spec: { replicas: 4, selector: {} } };
const bareRs: ReplicaSet = { metadata: { name: 'bare', namespace: 'ns', uid: 'bare-uid' }, spec: { replicas: 3, selector: {} } };
const ss: StatefulSet = { metadata: { name: 'db', namespace: 'ns', uid: 'ss-uid' }, spec: { replicas: 5, selector: {}, template: {}, serviceName: 'db' } };
const owners: Owners = {
  replicaSet: (_ns, n) => [rs, bareRs].find((x) => x.metadata?.name === n),
  deployment: (_ns, n) => (n === 'web' ? deploy : undefined),
  statefulSet: (_ns, n) => (n === 'db' ? ss : undefined),
};

type PodOpts = { ready?: boolean; owner?: 'rs' | 'bare' | 'ss' | 'none' | 'lost'; deleting?: boolean; labels?: Record<string, string> };
function pod(name: string, o: PodOpts = {}): Pod {
  const refs = {
    rs: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'rs-uid', controller: true },
    bare: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'bare', uid: 'bare-uid', controller: true },
    ss: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'ss-uid', controller: true },
    lost: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone', uid: 'gone-uid', controller: true },
  };
  const owner = o.owner ?? 'rs';
  return {
    metadata: { name, namespace: 'ns', labels: o.labels ?? { app: 'web' }, ...(owner !== 'none' ? { ownerReferences: [refs[owner]] } : {}), ...(o.deleting ? { deletionTimestamp: ago(1) } : {}) },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}
function pdb(spec: Partial<NonNullable<PodDisruptionBudget['spec']>>, status?: BudgetStatus, generation = 1): PodDisruptionBudget {
  return { metadata: { name: 'budget', namespace: 'ns', generation }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, status: status as PodDisruptionBudget['status'] };
}
const counts = (s: ReturnType<typeof syncBudget>['status']) =>
  s && [s.expectedPods, s.desiredHealthy, s.currentHealthy, s.disruptionsAllowed, s.conditions?.find((c) => c.type === 'DisruptionAllowed')?.reason];

test('scaledValue: integers as they are, percentages rounded up or down', () => {
  assert.equal(scaledValue(2, 10, true), 2);
  assert.equal(scaledValue('50%', 3, true), 2);
  assert.equal(scaledValue('50%', 3, false), 1);
  assert.equal(scaledValue('0%', 3, true), 0);
  assert.throws(() => scaledValue('half', 3, true), /invalid value/);
});

test('syncBudget: expected, desired, healthy and allowed, table', () => {
  const three = [pod('a'), pod('b'), pod('c')];
  const cases: [string, PodDisruptionBudget, Pod[], unknown[]][] = [
    ['minAvailable int: expected = selected pods', pdb({ minAvailable: 2 }), three, [3, 2, 3, 1, 'SufficientPods']],
    ['minAvailable int, budget exactly met', pdb({ minAvailable: 3 }), three, [3, 3, 3, 0, 'InsufficientPods']],
    ['unready pods are not healthy', pdb({ minAvailable: 2 }), [pod('a'), pod('b', { ready: false }), pod('c')], [3, 2, 2, 0, 'InsufficientPods']],
    ['terminating pods are not healthy', pdb({ minAvailable: 1 }), [pod('a'), pod('b', { deleting: true })], [2, 1, 1, 0, 'InsufficientPods']],
    ['other labels are not selected', pdb({ minAvailable: 1 }), [pod('a'), pod('x', { labels: { app: 'db' } })], [1, 1, 1, 0, 'InsufficientPods']],
    ['minAvailable %: the Deployment scale, rounded up', pdb({ minAvailable: '50%' }), three, [4, 2, 3, 1, 'SufficientPods']],
    ['maxUnavailable int: scale minus it', pdb({ maxUnavailable: 1 }), three, [4, 3, 3, 0, 'InsufficientPods']],
    ['maxUnavailable %: rounded up', pdb({ maxUnavailable: '30%' }), [...three, pod('d')], [4, 2, 4, 2, 'SufficientPods']],
    ['a StatefulSet and a bare ReplicaSet add up', pdb({ maxUnavailable: 0 }), [pod('s0', { owner: 'ss' }), pod('r0', { owner: 'bare' })], [8, 8, 2, 0, 'InsufficientPods']],
    ['no pods: nothing allowed', pdb({ minAvailable: 0 }), [], [0, 0, 0, 0, 'InsufficientPods']],
    ['unmanaged pods are left out of the scale', pdb({ maxUnavailable: 1 }), [pod('a'), pod('u', { owner: 'none' })], [4, 3, 2, 0, 'InsufficientPods']],
  ];
  for (const [name, budget, pods, want] of cases) assert.deepEqual(counts(syncBudget(budget, pods, owners, NOW).status), want, name);
  assert.deepEqual(syncBudget(pdb({ maxUnavailable: 1 }), [pod('u', { owner: 'none' })], owners, NOW).unmanaged, ['u']);
});

test('syncBudget: observedGeneration, no write when current, fail-safe when a controller is unknown', () => {
  const first = syncBudget(pdb({ minAvailable: 1 }, undefined, 3), [pod('a'), pod('b')], owners, NOW).status!;
  assert.equal(first.observedGeneration, 3);
  assert.deepEqual(first.conditions, [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 3, lastTransitionTime: NOW.toISOString().replace('.000Z', 'Z') }]);
  assert.equal(syncBudget(pdb({ minAvailable: 1 }, first, 3), [pod('a'), pod('b')], owners, NOW).status, undefined, 'nothing to write');
  const later = new Date(NOW.getTime() + 60_000);
  const down = syncBudget(pdb({ minAvailable: 1 }, first, 3), [pod('a')], owners, later).status!;
  assert.equal(down.conditions![0].status, 'False');
  assert.equal(down.conditions![0].lastTransitionTime, later.toISOString().replace('.000Z', 'Z'), 'transition time moves with the status');

  const failed = syncBudget(pdb({ minAvailable: '50%' }, first, 3), [pod('a', { owner: 'lost' })], owners, NOW);
  assert.equal(failed.error, 'found no controllers for pod "a"');
  assert.equal(failed.status!.disruptionsAllowed, 0);
  assert.deepEqual([failed.status!.conditions![0].status, failed.status!.conditions![0].reason, failed.status!.conditions![0].message], ['False', 'SyncFailed', 'found no controllers for pod "a"']);
});

test('syncBudget: evictions recorded in disruptedPods hold for 2 minutes, then expire', () => {
  const pods = [pod('a'), pod('b'), pod('c')];
  const s = syncBudget(pdb({ minAvailable: 1 }, { disruptedPods: { a: ago(30), b: ago(150), gone: ago(10) }, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 }), pods, owners, NOW);
  assert.deepEqual(s.status!.disruptedPods, { a: ago(30) }, 'b expired, gone is gone');
  assert.deepEqual(counts(s.status), [3, 1, 2, 1, 'SufficientPods'], 'a is not counted healthy while its eviction is pending');
  assert.equal(s.recheckAfterMs, 90_000);
  const terminating = syncBudget(pdb({ minAvailable: 1 }, { disruptedPods: { a: ago(30) }, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 }), [pod('a', { deleting: true }), pod('b')], owners, NOW);
  assert.equal(terminating.status!.disruptedPods, undefined, 'the pod is being deleted: the entry is done');
  assert.equal(terminating.recheckAfterMs, undefined);
});

test('staleDisruptionIn: a DisruptionTarget mark on a pod not deleted is reset after 2 minutes', () => {
  const marked = (since: string, deleting = false): Pod => ({
    metadata: { name: 'p', ...(deleting ? { deletionTimestamp: since } : {}) },
    status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', lastTransitionTime: since }] },
  });
  assert.equal(staleDisruptionIn(pod('a'), NOW.getTime()), undefined, 'no mark');
  assert.equal(staleDisruptionIn(marked(ago(30), true), NOW.getTime()), undefined, 'being deleted: not stale');
  assert.equal(staleDisruptionIn(marked(ago(30)), NOW.getTime()), 90_000);
  assert.equal(staleDisruptionIn(marked(ago(300)), NOW.getTime()), 0);
  assert.deepEqual(resetDisruptionTarget(marked(ago(300)), NOW).map((c) => [c.type, c.status]), [['Ready', 'True'], ['DisruptionTarget', 'False']]);
});
