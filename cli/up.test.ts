import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkedDuration, clusterPlan, type UpOptions } from './up';

const o: UpOptions = {
  home: '/h', nodeName: 'n1', storeClientPorts: [2379, 22379, 32379], storePeerPorts: [2380, 22380, 32380], storeMetricsPorts: [2381, 22381, 32381],
  apiserverPort: 6443, schedulerPort: 10259, controllersPort: 10257, kubeletHealthzPort: 10248, proxyPort: 10256,
  serviceCidr: '10.96.0.0/12', clusterCidr: '10.244.0.0/16', nodePortRange: '30000-32767', readyTimeoutSec: 60, clusterDomain: 'cluster.local', eventTtl: '2h', metricResolution: '3s',
};
const flag = (args: string[], name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

test('coxswain up: each store replica serves /metrics on its loopback port; the apiserver gets --event-ttl', () => {
  const plan = clusterPlan(o, 'node', 'coxswain.js');
  const stores = plan.filter((c) => c.name.startsWith('store-'));
  assert.deepEqual(stores.map((c) => flag(c.args, '--listen-metrics-urls')), ['http://127.0.0.1:2381', 'http://127.0.0.1:22381', 'http://127.0.0.1:32381']);
  assert.equal(flag(plan.find((c) => c.name === 'apiserver')!.args, '--event-ttl'), '2h');
  assert.equal(flag(plan.find((c) => c.name === 'apiserver')!.args, '--metric-resolution'), '3s');
  // without the options: no metrics listener, the apiserver's own default TTL
  const bare = clusterPlan({ ...o, storeMetricsPorts: undefined, eventTtl: undefined }, 'node', 'coxswain.js');
  assert.equal(flag(bare[0].args, '--listen-metrics-urls'), undefined);
  assert.equal(flag(bare.find((c) => c.name === 'apiserver')!.args, '--event-ttl'), undefined);
  assert.throws(() => clusterPlan({ ...o, storeMetricsPorts: [2381] }, 'node', 'e'), /--store-metrics-ports needs as many ports as --store-client-ports/);
});

test('checkedDuration: a Go duration passes, anything else names the flag', () => {
  assert.equal(checkedDuration('--event-ttl', '90s'), '90s');
  assert.throws(() => checkedDuration('--event-ttl', 'an hour'), /--event-ttl: want a duration such as 1h, 30m or 90s, got "an hour"/);
});
