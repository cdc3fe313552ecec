import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mvcc, serializeCut } from './mvcc';
import type { DeleteOp, PutOp, RangeOp, TxnOp } from './commands';
import { prefixEnd } from './commands';

const put = (key: string, value: string, extra: Partial<PutOp> = {}): PutOp => ({
  type: 'put', key, value, lease: '0', prevKv: false, ignoreValue: false, ignoreLease: false, ...extra,
});
const del = (key: string, rangeEnd = '', prevKv = false): DeleteOp => ({ type: 'delete', key, rangeEnd, prevKv });
const rng = (key: string, extra: Partial<RangeOp> = {}): RangeOp => ({
  type: 'range', key, rangeEnd: '', limit: 0, revision: 0, sortOrder: 'NONE', sortTarget: 'KEY', keysOnly: false,
  countOnly: false, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0, ...extra,
});

test('revisions: a fresh store is at revision 1; each put is one new revision; versions count puts', () => {
  const m = new Mvcc();
  assert.equal(m.revision, 1);
  assert.equal(m.apply(put('a', '1')).revision, 2);
  assert.equal(m.apply(put('a', '2')).revision, 3);
  const kv = m.range(rng('a')).kvs[0];
  assert.deepEqual([kv.create_revision, kv.mod_revision, kv.version, kv.value.toString()], [2, 3, 2, '2']);
});

test('range at an older revision, prefix, limit/more/count, keys_only, count_only', () => {
  const m = new Mvcc();
  m.apply(put('/r/a', '1')); // 2
  m.apply(put('/r/b', '2')); // 3
  m.apply(put('/r/c', '3')); // 4
  m.apply(put('/r/a', 'x')); // 5
  m.apply(put('/s', 'y')); // 6
  const p = { rangeEnd: prefixEnd('/r/') };
  assert.deepEqual(m.range(rng('/r/', p)).kvs.map((k) => k.key.toString()), ['/r/a', '/r/b', '/r/c']);
  assert.equal(m.range(rng('/r/a', { revision: 4 })).kvs[0].value.toString(), '1');
  assert.equal(m.range(rng('/r/c', { revision: 3 })).kvs.length, 0);
  const lim = m.range(rng('/r/', { ...p, limit: 2 }));
  assert.deepEqual([lim.kvs.length, lim.more, lim.count], [2, true, 3]);
  assert.equal(m.range(rng('/r/', { ...p, keysOnly: true })).kvs[0].value.length, 0);
  const co = m.range(rng('/r/', { ...p, countOnly: true }));
  assert.deepEqual([co.kvs.length, co.count], [0, 3]);
  assert.equal(m.range(rng('\0', { rangeEnd: '\0' })).count, 4);
  const desc = m.range(rng('/r/', { ...p, sortOrder: 'DESCEND', sortTarget: 'MOD' }));
  assert.deepEqual(desc.kvs.map((k) => k.key.toString()), ['/r/a', '/r/c', '/r/b']);
});

test('delete: tombstones reset version; deleting nothing does not bump the revision', () => {
  const m = new Mvcc();
  m.apply(put('a', '1'));
  const r = m.apply(del('a', '', true));
  assert.equal(r.revision, 3);
  assert.ok(!r.error);
  assert.equal((r as unknown as { response: { deleted: number } }).response.deleted, 1);
  assert.equal(m.apply(del('a')).revision, 3);
  m.apply(put('a', '2'));
  const kv = m.range(rng('a')).kvs[0];
  assert.deepEqual([kv.create_revision, kv.version], [4, 1]);
});

test('txn: Kubernetes-style create (create_revision == 0) and CAS update (mod_revision == X else range)', () => {
  const m = new Mvcc();
  const create: TxnOp = {
    type: 'txn',
    compare: [{ result: 'EQUAL', target: 'CREATE', key: '/registry/pods/ns/p', rangeEnd: '', operand: 0 }],
    success: [put('/registry/pods/ns/p', 'v1')],
    failure: [],
  };
  const r1 = m.apply(create) as { revision: number; response: { succeeded: boolean } };
  assert.equal(r1.response.succeeded, true);
  assert.equal(r1.revision, 2);
  const r2 = m.apply(create) as { revision: number; response: { succeeded: boolean } };
  assert.equal(r2.response.succeeded, false);
  assert.equal(r2.revision, 2, 'a txn that changes nothing does not bump the revision');
  const update = (mod: number): TxnOp => ({
    type: 'txn',
    compare: [{ result: 'EQUAL', target: 'MOD', key: '/registry/pods/ns/p', rangeEnd: '', operand: mod }],
    success: [put('/registry/pods/ns/p', 'v2')],
    failure: [rng('/registry/pods/ns/p')],
  });
  const stale = m.apply(update(1)) as unknown as { response: { succeeded: boolean; responses: { response_range?: { kvs: { value: Buffer }[] } }[] } };
  assert.equal(stale.response.succeeded, false);
  assert.equal(stale.response.responses[0].response_range!.kvs[0].value.toString(), 'v1');
  const ok = m.apply(update(2)) as { revision: number; response: { succeeded: boolean } };
  assert.deepEqual([ok.response.succeeded, ok.revision], [true, 3]);
});

test('txn: several writes are one revision with events in order; value compare on a missing key is false', () => {
  const m = new Mvcc();
  const seen: [number, string[]][] = [];
  m.onEvents((rev, evs) => seen.push([rev, evs.map((e) => `${e.type}:${e.kv.key}`)]));
  m.apply({ type: 'txn', compare: [], success: [put('a', '1'), put('b', '2')], failure: [] });
  assert.deepEqual(seen, [[2, ['PUT:a', 'PUT:b']]]);
  const r = m.apply({ type: 'txn', compare: [{ result: 'EQUAL', target: 'VALUE', key: 'zz', rangeEnd: '', operand: '' }], success: [], failure: [] });
  assert.equal((r as unknown as { response: { succeeded: boolean } }).response.succeeded, false);
});

test('compact: older revisions and events are gone with ErrCompacted; state at the compact revision stays', () => {
  const m = new Mvcc();
  m.apply(put('a', '1')); // 2
  m.apply(put('a', '2')); // 3
  m.apply(put('b', '1')); // 4
  m.apply(del('b')); // 5
  assert.ok(!m.apply({ type: 'compact', revision: 4 }).error);
  assert.throws(() => m.range(rng('a', { revision: 3 })), /required revision has been compacted/);
  assert.equal(m.range(rng('a', { revision: 4 })).kvs[0].value.toString(), '2');
  assert.throws(() => m.eventsSince(3), /compacted/);
  assert.deepEqual(m.eventsSince(4).map((e) => e.rev), [4, 5]);
  assert.equal(m.apply({ type: 'compact', revision: 4 }).error, 'Compacted');
  assert.equal(m.apply({ type: 'compact', revision: 99 }).error, 'FutureRev');
  assert.throws(() => m.range(rng('a', { revision: 99 })), /future revision/);
});

test('leases: put with an unknown lease fails; revoke deletes attached keys in one revision', () => {
  const m = new Mvcc();
  assert.equal(m.apply(put('a', '1', { lease: '7' })).error, 'LeaseNotFound');
  m.apply({ type: 'leaseGrant', id: '7', ttl: 10 });
  assert.equal(m.apply({ type: 'leaseGrant', id: '7', ttl: 10 }).error, 'LeaseExist');
  m.apply(put('a', '1', { lease: '7' }));
  m.apply(put('b', '1', { lease: '7' }));
  m.apply(put('c', '1'));
  const before = m.revision;
  m.apply({ type: 'leaseRevoke', id: '7' });
  assert.equal(m.revision, before + 1);
  assert.deepEqual(m.range(rng('\0', { rangeEnd: '\0' })).kvs.map((k) => k.key.toString()), ['c']);
  assert.equal(m.apply({ type: 'leaseRevoke', id: '7' }).error, 'LeaseNotFound');
});

test('put ignore_value on a missing key is KeyNotFound; binary keys keep byte order', () => {
  const m = new Mvcc();
  assert.equal(m.apply(put('a', '', { ignoreValue: true })).error, 'KeyNotFound');
  m.apply(put('\xff', '1'));
  m.apply(put('\x01', '1'));
  m.apply(put('b', '1'));
  assert.deepEqual(m.range(rng('\0', { rangeEnd: '\0' })).kvs.map((k) => k.key[0]), [0x01, 0x62, 0xff]);
});

test('snapshot: restore(toSnapshot()) reproduces revisions, history, events (watch resume), leases and compaction', () => {
  const m = new Mvcc();
  m.apply({ type: 'leaseGrant', id: '7', ttl: 30 });
  m.apply(put('a', '1'));
  m.apply(put('b', '\u00ff\u0000bin', { lease: '7' }));
  m.apply(put('a', '2'));
  m.apply(del('a'));
  m.apply({ type: 'compact', revision: 3 });
  m.apply(put('c', '3'));
  const json = JSON.stringify(m.toSnapshot());
  const r = new Mvcc();
  let restored = 0;
  r.onRestore(() => restored++);
  r.restore(JSON.parse(json));
  assert.equal(restored, 1);
  assert.equal(r.revision, m.revision);
  assert.equal(r.compactRevision, 3);
  assert.deepEqual(r.range(rng('a', { rangeEnd: '\0' })), m.range(rng('a', { rangeEnd: '\0' })));
  assert.deepEqual(r.range(rng('a', { revision: 4 })), m.range(rng('a', { revision: 4 })));
  assert.deepEqual(r.eventsSince(3), m.eventsSince(3));
  assert.deepEqual([...r.leases.get('7')!.keys], ['b']);
  assert.throws(() => r.range(rng('a', { revision: 2 })), /compacted/);
  assert.equal(r.apply(put('d', '4')).revision, m.apply(put('d', '4')).revision);
  assert.deepEqual(JSON.stringify(r.toSnapshot()), JSON.stringify(m.toSnapshot()));
});

test('snapshot v2 writes each shared value once; a v1 snapshot (values inline) still restores', () => {
  const m = new Mvcc();
  m.apply(put('a', 'one'));
  m.apply(put('a', 'two'));
  m.apply(del('a'));
  const s = m.toSnapshot();
  assert.equal(s.v, 2);
  assert.deepEqual(s.values, ['one', 'two', '']); // history, kv and prev_kv share them
  const v1 = JSON.parse(JSON.stringify(s).replace(/"v":2/, '"v":1'));
  delete v1.values;
  const inline = (x: unknown[]): unknown[] => { const y = [...x]; y[4] = s.values![x[4] as number]; return y; };
  v1.keys = s.keys.map(([k, recs]) => [k, recs.map(inline)]);
  v1.events = s.events.map(([rev, evs]) => [rev, evs.map(([t, kv, p]) => [t, inline(kv), p ? inline(p) : null])]);
  const r = new Mvcc();
  r.restore(v1);
  assert.deepEqual(r.eventsSince(1), m.eventsSince(1));
  assert.deepEqual(r.range(rng('a', { revision: 3 })), m.range(rng('a', { revision: 3 })));
  assert.throws(() => r.restore({ ...s, values: undefined }), /unsupported snapshot format/);
});

test('snapshot cut: serialised in chunks it equals toSnapshot() at the cut, whatever is applied or compacted meanwhile', async () => {
  const m = new Mvcc();
  m.apply({ type: 'leaseGrant', id: '7', ttl: 30 });
  for (let i = 0; i < 50; i++) m.apply(put(`k${i % 7}`, `v${i}`, i % 5 === 0 ? { lease: '7' } : {}));
  m.apply(del('k3'));
  m.apply({ type: 'compact', revision: 20 });
  m.apply(put('k3', 'again'));
  const expected = JSON.parse(JSON.stringify(m.toSnapshot()));
  const cut = m.cut();
  let turns = 0;
  const parts = serializeCut(cut, async () => {
    // Between chunks the store moves on: new keys and history, a delete, a compaction, a lease revoke.
    turns++;
    m.apply(put(`new${turns}`, 'x'));
    m.apply(put('k1', `later${turns}`));
    m.apply(del('k2'));
    if (turns === 2) m.apply({ type: 'compact', revision: m.revision - 1 });
    if (turns === 3) m.apply({ type: 'leaseRevoke', id: '7' });
  }, 3);
  const got = JSON.parse(Buffer.concat(await parts).toString('utf8'));
  assert.ok(turns >= 4, `serialised in ${turns} chunks`);
  assert.deepEqual(got, expected);
  const r = new Mvcc();
  r.restore(got);
  assert.equal(r.revision, expected.revision);
  assert.deepEqual(r.eventsSince(21), (() => { const x = new Mvcc(); x.restore(expected); return x.eventsSince(21); })());
});

test('event log: eventsSince replays exactly the events live listeners got (puts with prev_kv, deletes, txn sub-revisions, lease revoke)', () => {
  const m = new Mvcc();
  const live: { rev: number; events: unknown[] }[] = [];
  m.onEvents((rev, events) => live.push({ rev, events: JSON.parse(JSON.stringify(events)) }));
  m.apply({ type: 'leaseGrant', id: '9', ttl: 60 });
  m.apply(put('a', '1'));
  m.apply(put('a', '2', { lease: '9' }));
  m.apply(put('b', '\u00ff\u0001'));
  m.apply(del('a', '\0', true));
  const t: TxnOp = { type: 'txn', compare: [], success: [put('c', 'x'), put('c', 'y'), del('b')], failure: [] };
  m.apply(t);
  m.apply(put('d', 'z', { lease: '9' }));
  m.apply({ type: 'leaseRevoke', id: '9' });
  const replay = m.eventsSince(1).map((e) => ({ rev: e.rev, events: JSON.parse(JSON.stringify(e.events)) }));
  assert.deepEqual(replay, live);
  const del1 = replay.find((e) => (e.events[0] as { type: string }).type === 'DELETE')!.events[0] as { kv: { mod_revision: number; version: number; value: unknown }; prev_kv: { version: number } };
  assert.equal(del1.kv.version, 0);
  assert.equal(del1.prev_kv.version, 2);
  assert.ok(live.length >= 7);
});
