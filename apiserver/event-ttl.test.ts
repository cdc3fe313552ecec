import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../lib/log';
import { parseServiceCidr } from './allocators';
import { Registry } from './registry';
import { ResourceStorage } from './resources';
import { MemoryStore } from './storage/memory';
import { bootstrap } from './bootstrap';
import { objectKey } from './registry';

async function storageWith(eventTtlSeconds: number | undefined) {
  const store = new MemoryStore();
  const registry = new Registry();
  const storage = new ResourceStorage({ store, registry, log: createLogger('apiserver-test'), serviceCidr: parseServiceCidr('10.96.0.0/12'), nodePortRange: [30000, 32767], eventTtlSeconds });
  await storage.start();
  await bootstrap(storage, registry, { advertiseAddress: '127.0.0.1', securePort: 6443, kubernetesServiceIP: '10.96.0.1' });
  return { store, storage, def: (r: string) => registry.lookup('', 'v1', r)! };
}

const event = (name: string) => ({ apiVersion: 'v1', kind: 'Event', metadata: { name }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Test', message: 'm', count: 1 });

test('events are written with one shared lease of the event TTL (+ reuse window); other kinds with none', async () => {
  const { store, storage, def } = await storageWith(3600);
  try {
    await storage.create(def('events'), 'default', event('e1'));
    await storage.create(def('events'), 'default', event('e2'));
    await storage.create(def('configmaps'), 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
    const l1 = store.leaseOf(objectKey(def('events'), 'default', 'e1'));
    const l2 = store.leaseOf(objectKey(def('events'), 'default', 'e2'));
    assert.equal(l1?.ttl, 3660);
    assert.equal(l2?.id, l1?.id, 'writes within the reuse window share a lease');
    assert.equal(store.leaseOf(objectKey(def('configmaps'), 'default', 'c')), undefined);
    assert.equal(storage.leases?.granted, 1);

    // an update (count++) attaches the event to a lease again
    await storage.patch(def('events'), 'default', 'e1', 'merge', { count: 2 });
    assert.equal(store.leaseOf(objectKey(def('events'), 'default', 'e1'))?.id, l1?.id);

    // the lease expires: both events go, from the store and from what the apiserver lists
    await store.expireLease(l1!.id);
    assert.equal((await store.get(objectKey(def('events'), 'default', 'e1'))).kv, undefined);
    const { items } = await storage.list(def('events'), 'default');
    assert.deepEqual(items.map((c) => c.obj.metadata.name), []);
    assert.ok(await storage.read(def('configmaps'), 'default', 'c'));
  } finally {
    storage.stop();
  }
});

test('without an event TTL (0) events are written without a lease', async () => {
  const { store, storage, def } = await storageWith(0);
  try {
    await storage.create(def('events'), 'default', event('e1'));
    assert.equal(store.leaseOf(objectKey(def('events'), 'default', 'e1')), undefined);
    assert.equal(storage.leases, undefined);
  } finally {
    storage.stop();
  }
});
