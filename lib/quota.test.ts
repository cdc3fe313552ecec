import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amountOf, chargedOnUpdate, countName, formatAmount, parseCountName, podUsage, usageIncrease } from './quota';

test('amounts: millicores for CPU names, bytes or counts for the rest, and back', () => {
  const cases: [string, string, number, string][] = [
    ['requests.cpu', '1500m', 1500, '1500m'], ['cpu', '2', 2000, '2'], ['limits.cpu', '0.1', 100, '100m'],
    ['requests.memory', '128Mi', 134217728, '128Mi'], ['requests.storage', '5G', 5e9, '5G'], ['pods', '7', 7, '7'],
    ['requests.memory', '1000', 1000, '1k'], ['limits.memory', '1536Mi', 1610612736, '1536Mi'], ['pods', '0', 0, '0'],
  ];
  for (const [name, q, n, back] of cases) {
    assert.equal(amountOf(name, q), n, `${name}=${q}`);
    assert.equal(formatAmount(name, n), back, `${name}=${n}`);
  }
  assert.equal(amountOf('cpu', 'lots'), undefined);
});

test('count names', () => {
  assert.equal(countName({ resource: 'deployments', group: 'apps' }), 'count/deployments.apps');
  assert.equal(countName({ resource: 'pods', group: '' }), 'count/pods');
  assert.deepEqual(parseCountName('count/cronjobs.batch'), { resource: 'cronjobs', group: 'batch' });
  assert.deepEqual(parseCountName('count/secrets'), { resource: 'secrets', group: '' });
  assert.equal(parseCountName('requests.cpu'), undefined);
});

test('a pod uses the larger of its containers sum and any one init container', () => {
  const u = podUsage({ spec: {
    containers: [{ name: 'a', resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m' } } }, { name: 'b', resources: { requests: { cpu: '100m' } } }],
    initContainers: [{ name: 'i', resources: { requests: { cpu: '500m' } } }],
  } });
  assert.deepEqual(Object.fromEntries(u), { pods: 1, 'count/pods': 1, 'requests.cpu': 500, cpu: 500, 'requests.memory': 67108864, memory: 67108864, 'limits.cpu': 200 });
});

test('usageIncrease: what an update adds, names that stay or fall left out; chargedOnUpdate', () => {
  const u = (o: Record<string, number>) => new Map(Object.entries(o));
  assert.deepEqual(usageIncrease(u({ a: 3, b: 1, c: 5 }), u({ a: 1, b: 1, c: 9 })), u({ a: 2 }));
  assert.deepEqual(usageIncrease(u({ 'services.nodeports': 2 }), u({})), u({ 'services.nodeports': 2 }));
  assert.deepEqual(usageIncrease(u({}), u({ pods: 1 })), u({}));
  assert.equal(chargedOnUpdate({ resource: 'services', group: '' }), true);
  assert.equal(chargedOnUpdate({ resource: 'persistentvolumeclaims', group: '' }), true);
  assert.equal(chargedOnUpdate({ resource: 'pods', group: '' }), false);
  assert.equal(chargedOnUpdate({ resource: 'deployments', group: 'apps' }), false);
});
