import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../lib/log';
import { parseServiceCidr } from './allocators';
import { Registry } from './registry';
import { ResourceStorage, encode } from './resources';
import { MemoryStore } from './storage/memory';
import { bootstrap } from './bootstrap';
import type { StoreWatch, WatchEvent, WatchHandlers } from './storage/types';
import type { ApiObject } from './api-object';

/** A MemoryStore whose watch events can be held back: the watch cache then lags the store, as under load. */
class LaggingStore extends MemoryStore {
  held = false;
  gets = 0;
  private readonly queued: (() => void)[] = [];

  override watch(prefix: string, startRevision: number, h: WatchHandlers): StoreWatch {
    return super.watch(prefix, startRevision, {
      ...h,
      onEvents: (events: WatchEvent[], rev: number) => (this.held ? this.queued.push(() => h.onEvents(events, rev)) : h.onEvents(events, rev)),
    });
  }

  override get(key: string) {
    this.gets++;
    return super.get(key);
  }

  release(): void {
    this.held = false;
    for (const f of this.queued.splice(0)) f();
  }
}

async function setup() {
  const registry = new Registry();
  const store = new LaggingStore();
  const storage = new ResourceStorage({ store, registry, log: createLogger('apiserver-test'), serviceCidr: parseServiceCidr('10.96.0.0/12'), nodePortRange: [30000, 32767] });
  await storage.start();
  await bootstrap(storage, registry, { advertiseAddress: '127.0.0.1', securePort: 6443, kubernetesServiceIP: '10.96.0.1' });
  const pods = registry.lookup('', 'v1', 'pods')!;
  const cms = registry.lookup('', 'v1', 'configmaps')!;
  return { store, storage, pods, cms };
}

const pod = (name: string) => ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } });
const nodeOf = (o: ApiObject) => (o as unknown as { spec: { nodeName?: string } }).spec.nodeName;
const dataOf = (o: ApiObject | undefined) => (o as unknown as { data?: Record<string, string> } | undefined)?.data;
const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 1000 && !ok(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(ok(), what);
};

test('an update while the watch cache lags other writes starts from the cached object: no store read, the write lands', async () => {
  const { store, storage, pods } = await setup();
  try {
    await storage.create(pods, 'default', pod('a'));
    await until('the cache holds pod a', () => storage.cache(pods).get('/registry/core/pods/default/a') !== undefined);
    store.held = true;
    await storage.create(pods, 'default', pod('b')); // the cache is now behind this server's last pod write
    const gets = store.gets;
    await storage.bind(pods, 'default', 'a', { target: { name: 'n1' } });
    assert.equal(store.gets, gets, 'the binding read pod a from the cache');
    const { kv } = await store.get('/registry/core/pods/default/a');
    assert.equal(JSON.parse(kv!.value.toString()).spec.nodeName, 'n1');
  } finally {
    store.release();
    storage.stop();
  }
});

test('an update computed from a stale cached copy is retried on the store object: nothing lost, refusals and no-ops decided on the current object', async () => {
  const { store, storage, pods, cms } = await setup();
  try {
    await storage.create(pods, 'default', pod('a'));
    await storage.create(cms, 'default', { metadata: { name: 'cm' }, data: { x: '1' } });
    await until('the cache holds both', () => !!storage.cache(pods).get('/registry/core/pods/default/a') && !!storage.cache(cms).get('/registry/core/configmaps/default/cm'));
    store.held = true;
    // Another apiserver (here: a direct store write) binds pod a and changes the ConfigMap; this cache does not see it.
    const key = '/registry/core/pods/default/a';
    const cur = (await store.get(key)).kv!;
    const bound = JSON.parse(cur.value.toString()) as ApiObject & { spec: { nodeName?: string } };
    bound.spec.nodeName = 'elsewhere';
    await store.txn([{ key, target: 'mod', equals: cur.modRevision }], [{ put: { key, value: encode(bound) } }], []);
    const cmKey = '/registry/core/configmaps/default/cm';
    const cmKv = (await store.get(cmKey)).kv!;
    const cm = JSON.parse(cmKv.value.toString()) as ApiObject & { data: Record<string, string> };
    cm.data = { x: '2' };
    await store.txn([{ key: cmKey, target: 'mod', equals: cmKv.modRevision }], [{ put: { key: cmKey, value: encode(cm) } }], []);
    await storage.create(pods, 'default', pod('other')); // this server's own write: the caches are now known to lag
    await storage.create(cms, 'default', { metadata: { name: 'other' } });

    // The cached copy says unbound; the store says bound: a 409 as for a fresh read.
    await assert.rejects(storage.bind(pods, 'default', 'a', { target: { name: 'n1' } }), /pod a is already assigned to node "elsewhere"/);
    // A patch computed on the stale copy conflicts and is redone on the store's object.
    const { obj: patched } = await storage.patch(cms, 'default', 'cm', 'merge', { data: { y: '3' } });
    assert.deepEqual(dataOf(patched), { x: '2', y: '3' });
    // A write that is a no-op on the stale copy (x back to what the cache shows) is a real change on the store's object.
    const { obj: reverted } = await storage.patch(cms, 'default', 'cm', 'merge', { data: { x: '1' } });
    assert.deepEqual(dataOf(reverted), { x: '1', y: '3' });
    assert.notEqual(reverted.metadata.resourceVersion, patched.metadata.resourceVersion);
    const stored = JSON.parse((await store.get(cmKey)).kv!.value.toString()) as ApiObject;
    assert.deepEqual(dataOf(stored), { x: '1', y: '3' });
    assert.equal(nodeOf(JSON.parse((await store.get(key)).kv!.value.toString()) as ApiObject), 'elsewhere');
  } finally {
    store.release();
    storage.stop();
  }
});
