import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, ResourceQuota } from 'kubernetes-types/core/v1';
import { decideQuotas } from './resourcequota-admission';

const PODS = { resource: 'pods', group: '' };
const quota = (name: string, hard: Record<string, string>, used?: Record<string, string>, scopes?: string[]): ResourceQuota =>
  ({ metadata: { name, namespace: 'ns', resourceVersion: '5' }, spec: { hard, scopes }, status: { hard, used: used ?? Object.fromEntries(Object.keys(hard).map((k) => [k, '0'])) } });
const pod = (requests?: Record<string, string>, limits?: Record<string, string>, extra: Partial<Pod['spec']> = {}): Pod =>
  ({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x', resources: { requests, limits } }], ...extra } });

test('a pod that fits is charged to every quota that applies', () => {
  const d = decideQuotas([quota('compute', { 'requests.cpu': '2', pods: '3' }, { 'requests.cpu': '500m', pods: '1' }), quota('other', { configmaps: '1' })], PODS, pod({ cpu: '1' }));
  assert.ok(d.ok);
  assert.deepEqual(d.charges.map((c) => [c.quota.metadata?.name, c.used]), [['compute', { 'requests.cpu': '1500m', pods: '2' }]]);
});

test('a pod that does not fit is refused, naming the quota, as Kubernetes words it', () => {
  const d = decideQuotas([quota('compute', { 'requests.cpu': '2', pods: '10' }, { 'requests.cpu': '1', pods: '1' })], PODS, pod({ cpu: '2' }));
  assert.deepEqual(d, { ok: false, message: 'exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=1, limited: requests.cpu=2' });
  const count = decideQuotas([quota('n', { pods: '1' }, { pods: '1' })], PODS, pod());
  assert.deepEqual(count, { ok: false, message: 'exceeded quota: n, requested: pods=1, used: pods=1, limited: pods=1' });
});

test('a pod that states no request for a limited resource is refused', () => {
  const d = decideQuotas([quota('compute', { 'requests.cpu': '2', 'limits.memory': '1Gi' })], PODS, pod({ memory: '1Mi' }));
  assert.deepEqual(d, { ok: false, message: 'failed quota: compute: must specify limits.memory for: c; requests.cpu for: c' });
});

test('a quota the controller has not counted yet refuses what it limits', () => {
  const q: ResourceQuota = { metadata: { name: 'new' }, spec: { hard: { pods: '2' } }, status: { hard: { pods: '2' } } };
  assert.deepEqual(decideQuotas([q], PODS, pod()), { ok: false, message: 'status unknown for quota: new, resources: pods' });
});

test('object counts: count/<resource>.<group> and the legacy core names', () => {
  const d = decideQuotas([quota('objects', { 'count/deployments.apps': '1', configmaps: '4' })], { resource: 'deployments', group: 'apps' }, {});
  assert.ok(d.ok);
  assert.deepEqual(d.charges[0].used, { 'count/deployments.apps': '1', configmaps: '0' });
  const full = decideQuotas([quota('objects', { 'count/deployments.apps': '1' }, { 'count/deployments.apps': '1' })], { resource: 'deployments', group: 'apps' }, {});
  assert.equal(full.ok, false);
  const cm = decideQuotas([quota('objects', { configmaps: '4', 'count/configmaps': '4' })], { resource: 'configmaps', group: '' }, {});
  assert.ok(cm.ok);
  assert.deepEqual(cm.charges[0].used, { configmaps: '1', 'count/configmaps': '1' });
});

test('claims charge requests.storage; the used amount keeps a readable unit', () => {
  const d = decideQuotas([quota('storage', { 'requests.storage': '10Gi', persistentvolumeclaims: '5' }, { 'requests.storage': '1Gi', persistentvolumeclaims: '1' })],
    { resource: 'persistentvolumeclaims', group: '' }, { spec: { resources: { requests: { storage: '512Mi' } } } });
  assert.ok(d.ok);
  assert.deepEqual(d.charges[0].used, { 'requests.storage': '1536Mi', persistentvolumeclaims: '2' });
});

test('scopes: a BestEffort quota counts only BestEffort pods; a scoped quota ignores other kinds', () => {
  const be = quota('be', { pods: '1' }, { pods: '1' }, ['BestEffort']);
  assert.equal(decideQuotas([be], PODS, pod()).ok, false);
  assert.deepEqual(decideQuotas([be], PODS, pod({ cpu: '100m' })), { ok: true, charges: [] });
  const term = quota('t', { pods: '1' }, { pods: '1' }, ['Terminating']);
  assert.equal(decideQuotas([term], PODS, pod(undefined, undefined, { activeDeadlineSeconds: 30 })).ok, false);
  assert.deepEqual(decideQuotas([term], PODS, pod()), { ok: true, charges: [] });
  assert.deepEqual(decideQuotas([quota('s', { configmaps: '0' }, undefined, ['BestEffort'])], { resource: 'configmaps', group: '' }, {}), { ok: true, charges: [] });
});

test('finished pods use no quota', () => {
  const done: Pod = { ...pod({ cpu: '1' }), status: { phase: 'Succeeded' } };
  assert.deepEqual(decideQuotas([quota('q', { pods: '0', 'requests.cpu': '0' })], PODS, done), { ok: true, charges: [] });
});
