import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceQuota } from 'kubernetes-types/core/v1';
import { quotaStatus, resourceFor, resourceKey, resourcesNeeded } from './sync';

const pod = (name: string, cpu?: string, memLimit?: string, phase = 'Running') =>
  ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'x', resources: { requests: cpu ? { cpu } : undefined, limits: memLimit ? { memory: memLimit } : undefined } }] }, status: { phase } });

const world: Record<string, unknown[]> = {
  pods: [pod('a', '250m', '64Mi'), pod('b', '1', '64Mi'), pod('done', '4', '1Gi', 'Succeeded'), pod('be')],
  services: [{ spec: { type: 'NodePort', ports: [{ port: 80 }, { port: 443 }] } }, { spec: { type: 'ClusterIP' } }],
  configmaps: [{}, {}, {}],
  secrets: [],
  persistentvolumeclaims: [{ spec: { storageClassName: 'local-path', resources: { requests: { storage: '1Gi' } } } }, { spec: { resources: { requests: { storage: '500Mi' } } } }],
  'deployments.apps': [{}, {}],
};
const objects = (r: { resource: string; group: string }) => world[resourceKey(r)];

test('a quota is recounted from the objects of its namespace, one used entry per hard name', () => {
  const cases: [string, Record<string, string>, Record<string, string>][] = [
    ['compute', { pods: '10', 'requests.cpu': '4', 'limits.memory': '1Gi', cpu: '8' }, { pods: '3', 'requests.cpu': '1250m', 'limits.memory': '128Mi', cpu: '1250m' }],
    ['objects', { services: '5', 'services.nodeports': '2', configmaps: '10', secrets: '1', 'count/deployments.apps': '3', 'count/configmaps': '9' },
      { services: '2', 'services.nodeports': '2', configmaps: '3', secrets: '0', 'count/deployments.apps': '2', 'count/configmaps': '3' }],
    ['storage', { persistentvolumeclaims: '4', 'requests.storage': '10Gi', 'local-path.storageclass.storage.k8s.io/requests.storage': '5Gi' },
      { persistentvolumeclaims: '2', 'requests.storage': '1524Mi', 'local-path.storageclass.storage.k8s.io/requests.storage': '1Gi' }],
    ['unknown names count zero', { 'example.com/widgets': '3' }, { 'example.com/widgets': '0' }],
  ];
  for (const [name, hard, used] of cases) {
    const q: ResourceQuota = { metadata: { name }, spec: { hard } };
    assert.deepEqual(quotaStatus(q, objects), { hard, used }, name);
  }
});

test('scoped quotas count only the pods their scopes select', () => {
  const be: ResourceQuota = { metadata: { name: 'be' }, spec: { hard: { pods: '5' }, scopes: ['BestEffort'] } };
  assert.deepEqual(quotaStatus(be, objects).used, { pods: '1' });
  const nbe: ResourceQuota = { metadata: { name: 'nbe' }, spec: { hard: { pods: '5', 'requests.cpu': '9' }, scopes: ['NotBestEffort'] } };
  assert.deepEqual(quotaStatus(nbe, objects).used, { pods: '2', 'requests.cpu': '1250m' });
});

test('a resource that could not be listed keeps what the quota said', () => {
  const q: ResourceQuota = { metadata: { name: 'q' }, spec: { hard: { 'count/widgets.example.com': '3' } }, status: { used: { 'count/widgets.example.com': '2' } } };
  assert.deepEqual(quotaStatus(q, () => undefined).used, { 'count/widgets.example.com': '2' });
});

test('which objects each hard name needs', () => {
  assert.deepEqual(resourceFor('requests.storage'), { resource: 'persistentvolumeclaims', group: '' });
  assert.deepEqual(resourceFor('requests.nvidia.com/gpu'), { resource: 'pods', group: '' });
  assert.deepEqual(resourceFor('count/jobs.batch'), { resource: 'jobs', group: 'batch' });
  assert.equal(resourceFor('example.com/widgets'), undefined);
  const q: ResourceQuota = { spec: { hard: { pods: '1', 'requests.cpu': '1', services: '1', 'count/services': '1' } } };
  assert.deepEqual(resourcesNeeded(q).map(resourceKey), ['pods', 'services']);
});
