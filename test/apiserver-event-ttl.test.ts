/**
 * Events expire after the apiserver's --event-ttl through store leases, on Coxswain's
 * Raft store; other objects stay. The store serves /metrics where --listen-metrics-urls says.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startControlPlane, waitFor, type ControlPlane } from './lib/cluster';
import { kubectlFor } from './lib/kubectl';
import { etcdctl } from './lib/store-cluster';

const TTL_S = 3;
let cp: ControlPlane;
const { k, kok } = kubectlFor(() => ({ kubeconfig: cp.kubeconfig, cacheDir: path.join(cp.dir, 'kube-cache') }));

before(async () => {
  cp = await startControlPlane({ store: 'coxswain', replicas: 1, apiserverArgs: ['--event-ttl', `${TTL_S}s`] });
});
after(async () => { await cp?.stop(); });

const eventYaml = (name: string) => `apiVersion: v1
kind: Event
metadata: {name: ${name}, namespace: default}
involvedObject: {kind: ConfigMap, name: keep, namespace: default}
reason: Testing
message: expires after the event TTL
type: Normal
count: 1
`;

/** The store's view of a key: its lease id (0: none), or undefined when the key is absent. */
async function storeLease(key: string): Promise<string | undefined> {
  const r = await etcdctl(cp.store.endpoints[0], ['get', key, '-w', 'json']);
  assert.equal(r.code, 0, r.stderr);
  if (!/"kvs":/.test(r.stdout)) return undefined;
  // read as text: lease ids are int64s, which JSON.parse would round
  return /"lease":(\d+)/.exec(r.stdout)?.[1] ?? '0';
}

const EVENT_KEY = (name: string) => `/registry/core/events/default/${name}`;
const listed = async (name: string) => (await kok(['get', 'events', '-o', 'name'])).split('\n').includes(`event/${name}`);

test(`an event leaves kubectl get events and the store ${TTL_S}s after its last write; other objects stay`, async () => {
  await kok(['create', 'configmap', 'keep', '--from-literal=a=b']);
  const t0 = Date.now();
  await kok(['create', '-f', '-'], { input: eventYaml('short-lived') });
  await kok(['create', '-f', '-'], { input: eventYaml('renewed') });
  assert.ok(await listed('short-lived'), 'the event is listed right after its creation');
  const lease = await storeLease(EVENT_KEY('short-lived'));
  assert.ok(lease && lease !== '0', `the event's key has a store lease (got ${lease})`);
  const firstLease = await storeLease(EVENT_KEY('renewed'));
  assert.ok(firstLease && firstLease !== '0');
  assert.equal(await storeLease('/registry/core/configmaps/default/keep'), '0', 'a ConfigMap has no lease');

  // an update (count++) puts the event on a fresh lease, so it lives TTL after that write
  await kok(['patch', 'event', 'renewed', '--type=merge', '-p', '{"count":2}']);
  const renewedAt = Date.now();
  const newLease = await storeLease(EVENT_KEY('renewed'));
  assert.ok(newLease && newLease !== '0' && newLease !== firstLease, `the update attached a new lease (${firstLease} -> ${newLease})`);

  await waitFor('the event to leave kubectl get events', async () => !(await listed('short-lived')), 20_000);
  await waitFor('the event key to leave the store', async () => (await storeLease(EVENT_KEY('short-lived'))) === undefined, 10_000);
  const lived = Date.now() - t0;
  assert.ok(lived >= (TTL_S - 1) * 1000, `the event lived its TTL (${lived} ms)`);

  await waitFor('the renewed event to go too', async () => !(await listed('renewed')) && (await storeLease(EVENT_KEY('renewed'))) === undefined, 20_000);
  assert.ok(Date.now() - renewedAt >= (TTL_S - 1) * 1000, 'the renewed event lived a TTL after its update');

  assert.equal((await k(['get', 'configmap', 'keep', '-o', 'name'])).stdout.trim(), 'configmap/keep');
  assert.equal(await storeLease('/registry/core/configmaps/default/keep'), '0');
});

test('the store serves Prometheus /metrics on its --listen-metrics-urls', async () => {
  const url = cp.store.metricsUrls?.[0];
  assert.ok(url, 'the test store was started with a metrics URL');
  const text = await waitFor('store /metrics', async () => {
    const r = await fetch(url);
    return r.ok ? r.text() : undefined;
  }, 10_000);
  for (const series of ['coxswain_store_raft_is_leader 1', 'coxswain_store_mvcc_revision', 'coxswain_store_mvcc_keys', 'process_cpu_seconds_total']) {
    assert.ok(text.includes(series), `/metrics has ${series}`);
  }
});
