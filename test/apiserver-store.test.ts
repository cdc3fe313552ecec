import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3Store } from '../apiserver/storage/etcd3';
import { CompactedError, FutureRevisionError, createKey, deleteKey, updateKey, type WatchEvent } from '../apiserver/storage/types';
import { startEtcd } from './lib/etcd';
import { freePort, waitFor } from './lib/util';

test('etcd3 client against a real etcd: CRUD, txn compares, watch, compaction', async () => {
  const etcd = await startEtcd(1);
  const deadPort = await freePort();
  // a dead endpoint first: the client must fail over to the live one
  const store = new Etcd3Store([`http://127.0.0.1:${deadPort}`, ...etcd.endpoints], { opTimeoutMs: 15_000 });
  try {
    await waitFor('etcd', () => store.ping(1_000));
    const c = await createKey(store, '/registry/t/a', Buffer.from('1'));
    assert.ok(c.ok);
    const again = await createKey(store, '/registry/t/a', Buffer.from('x'));
    assert.equal(again.ok, false);
    const got = await store.get('/registry/t/a');
    assert.equal(got.kv?.value.toString(), '1');
    const rev = got.kv!.modRevision;
    const u = await updateKey(store, '/registry/t/a', Buffer.from('2'), rev);
    assert.ok(u.ok);
    const stale = await updateKey(store, '/registry/t/a', Buffer.from('3'), rev);
    assert.equal(stale.ok, false);
    if (!stale.ok) assert.equal(stale.current?.value.toString(), '2');
    await createKey(store, '/registry/t/b', Buffer.from('b'));
    const list = await store.list('/registry/t/');
    assert.deepEqual(list.kvs.map((kv) => kv.key), ['/registry/t/a', '/registry/t/b']);
    assert.ok(list.revision >= list.kvs[1].modRevision);

    const events: WatchEvent[] = [];
    const w = store.watch('/registry/t/', rev, { onEvents: (evs) => events.push(...evs), onCompacted: () => assert.fail('unexpected compaction') });
    const d = await deleteKey(store, '/registry/t/b');
    assert.ok(d.ok);
    await waitFor('watch events', () => events.length >= 4);
    assert.deepEqual(events.map((e) => `${e.type}:${e.kv.key}`), ['PUT:/registry/t/a', 'PUT:/registry/t/a', 'PUT:/registry/t/b', 'DELETE:/registry/t/b']);
    assert.equal(events[3].prevKv?.value.toString(), 'b');
    w.cancel();

    const head = await store.ping();
    await store.compact(head);
    let compacted = 0;
    store.watch('/registry/t/', rev, { onEvents: () => {}, onCompacted: (r) => { compacted = r; } });
    await waitFor('compaction notice', () => compacted > 0);
    assert.equal(compacted, head);
    // a list at a compacted or future revision: typed errors, not message text
    await assert.rejects(store.list('/registry/t/', { revision: rev }), (e: unknown) => e instanceof CompactedError && e.revision === rev);
    await assert.rejects(store.list('/registry/t/', { revision: head + 1_000 }), FutureRevisionError);
  } finally {
    await store.close();
    await etcd.stop();
  }
});

test('etcd3 client fails over within 5 s when the leader is SIGKILLed; watches resume', async () => {
  const etcd = await startEtcd(3);
  const store = new Etcd3Store(etcd.endpoints);
  try {
    await waitFor('etcd cluster', () => store.ping(1_000), 30_000);
    const events: WatchEvent[] = [];
    const start = (await createKey(store, '/registry/f/k0', Buffer.from('0'))) as { ok: true; revision: number };
    store.watch('/registry/f/', start.revision, { onEvents: (evs) => events.push(...evs), onCompacted: () => assert.fail('compacted') });
    await waitFor('first event', () => events.length >= 1);

    const statuses = await Promise.all(etcd.members.map((_m, i) => store.memberStatus(i)));
    const leaderIdx = statuses.findIndex((s) => s.memberId === s.leader);
    assert.ok(leaderIdx >= 0, 'a leader exists');
    await etcd.kill(etcd.members[leaderIdx]);
    const killedAt = Date.now();
    const r = await createKey(store, '/registry/f/k1', Buffer.from('1'));
    const took = Date.now() - killedAt;
    assert.ok(r.ok);
    assert.ok(took < 5_000, `write after leader kill took ${took} ms`);
    await waitFor('watch event after failover', () => events.some((e) => e.kv.key === '/registry/f/k1'), 10_000);
    assert.equal(new Set(events.map((e) => e.kv.modRevision)).size, events.length, 'no duplicate events');
  } finally {
    await store.close();
    await etcd.stop();
  }
});

test('etcd3 client sends requests to the Raft leader, and to the new leader after the old one dies', async () => {
  const etcd = await startEtcd(3);
  const probe = new Etcd3Store(etcd.endpoints, { leaderProbeMs: 0 });
  let store: Etcd3Store | undefined;
  try {
    await waitFor('etcd cluster', () => probe.ping(1_000), 30_000);
    const leaderUrl = async (alive: number[]) => {
      const st = await Promise.all(alive.map((i) => probe.memberStatus(i).catch(() => undefined)));
      const i = st.findIndex((s) => s && s.leader !== '0' && s.memberId === s.leader);
      return i >= 0 && st.filter((s) => s?.leader === st[i]!.leader).length === alive.length ? etcd.endpoints[alive[i]] : undefined;
    };
    const leader = await waitFor('an agreed leader', () => leaderUrl([0, 1, 2]), 30_000);
    // the leader last: a client that kept to its first endpoint would talk to a follower
    const ordered = [...etcd.endpoints.filter((u) => u !== leader), leader];
    store = new Etcd3Store(ordered, { leaderProbeMs: 300 });
    await waitFor('the client to pick the leader', () => store!.currentEndpoint === leader, 10_000);
    assert.ok((await createKey(store, '/registry/l/a', Buffer.from('a'))).ok);

    const leaderIdx = etcd.endpoints.indexOf(leader);
    await etcd.kill(etcd.members[leaderIdx]);
    const alive = [0, 1, 2].filter((i) => i !== leaderIdx);
    assert.ok((await createKey(store, '/registry/l/b', Buffer.from('b'))).ok, 'a write after the leader died');
    const next = await waitFor('a new leader', () => leaderUrl(alive), 30_000);
    await waitFor(`the client to move to the new leader ${next}`, () => store!.currentEndpoint === next, 10_000);
  } finally {
    await store?.close();
    await probe.close();
    await etcd.stop();
  }
});

test('etcd3 client against a real etcd: a key put with a granted lease goes when the lease expires', async () => {
  const etcd = await startEtcd(1);
  const store = new Etcd3Store(etcd.endpoints);
  try {
    await waitFor('etcd', () => store.ping(1_000));
    const lease = await store.grantLease(2);
    assert.match(lease, /^[1-9]\d*$/);
    const r = await store.txn([], [{ put: { key: '/registry/l/ev', value: Buffer.from('e'), lease } }, { put: { key: '/registry/l/keep', value: Buffer.from('k') } }], []);
    assert.ok(r.succeeded);
    const events: WatchEvent[] = [];
    store.watch('/registry/l/', r.revision + 1, { onEvents: (evs) => events.push(...evs), onCompacted: () => assert.fail('compacted') });
    await waitFor('the leased key to be deleted, with a watch event', () => events.some((e) => e.type === 'DELETE' && e.kv.key === '/registry/l/ev'), 15_000);
    assert.equal((await store.get('/registry/l/ev')).kv, undefined);
    assert.equal((await store.get('/registry/l/keep')).kv?.value.toString(), 'k');
  } finally {
    await store.close();
    await etcd.stop();
  }
});
