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

test('updates are charged what they add, as Kubernetes charges the delta; table', () => {
  const SERVICES = { resource: 'services', group: '' };
  const CLAIMS = { resource: 'persistentvolumeclaims', group: '' };
  const svc = (type: string, ports = 1) => ({ metadata: { name: 's' }, spec: { type, ports: Array.from({ length: ports }, (_, i) => ({ port: 80 + i })) } });
  const pvc = (storage: string, cls = 'gold') => ({ metadata: { name: 'c' }, spec: { storageClassName: cls, resources: { requests: { storage } } } });
  const svcQuota = quota('svc', { services: '10', 'services.nodeports': '2', 'services.loadbalancers': '1' }, { services: '3', 'services.nodeports': '1', 'services.loadbalancers': '0' });
  const pvcQuota = quota('disk', { 'requests.storage': '2Gi', 'gold.storageclass.storage.k8s.io/requests.storage': '10Gi', persistentvolumeclaims: '5' },
    { 'requests.storage': '1Gi', 'gold.storageclass.storage.k8s.io/requests.storage': '1Gi', persistentvolumeclaims: '1' });
  const cases: [string, ResourceQuota, { resource: string; group: string }, unknown, unknown, Record<string, string> | string | undefined][] = [
    ['ClusterIP → NodePort: one node port more', svcQuota, SERVICES, svc('ClusterIP'), svc('NodePort'), { services: '3', 'services.nodeports': '2', 'services.loadbalancers': '0' }],
    ['ClusterIP → NodePort with two ports: over services.nodeports', svcQuota, SERVICES, svc('ClusterIP'), svc('NodePort', 2),
      'exceeded quota: svc, requested: services.nodeports=2, used: services.nodeports=1, limited: services.nodeports=2'],
    ['NodePort → LoadBalancer: a load balancer more, the node port already counted', svcQuota, SERVICES, svc('NodePort'), svc('LoadBalancer'), { services: '3', 'services.nodeports': '1', 'services.loadbalancers': '1' }],
    ['LoadBalancer → ClusterIP: nothing charged (the recount gives it back)', svcQuota, SERVICES, svc('LoadBalancer'), svc('ClusterIP'), undefined],
    ['a claim grows by 512Mi', pvcQuota, CLAIMS, pvc('1Gi'), pvc('1536Mi'), { 'requests.storage': '1536Mi', 'gold.storageclass.storage.k8s.io/requests.storage': '1536Mi', persistentvolumeclaims: '1' }],
    ['a claim grows past requests.storage', pvcQuota, CLAIMS, pvc('1Gi'), pvc('3Gi'),
      'exceeded quota: disk, requested: requests.storage=2Gi, used: requests.storage=1Gi, limited: requests.storage=2Gi'],
    ['an update that changes no usage (labels) is free', pvcQuota, CLAIMS, pvc('1Gi'), pvc('1Gi'), undefined],
  ];
  for (const [name, q, r, old, next, want] of cases) {
    const d = decideQuotas([q], r, next, old);
    if (typeof want === 'string') assert.deepEqual(d, { ok: false, message: want }, name);
    else assert.deepEqual(d.ok ? d.charges.map((c) => c.used) : d, want ? [want] : [], name);
  }
});
