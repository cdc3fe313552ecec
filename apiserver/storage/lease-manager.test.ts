import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseManager } from './lease-manager';

/** A manager over a fake grant that records each grant's TTL, with a clock the test moves. */
function setup(opts: { maxObjects?: number } = {}) {
  let t = 1_000_000;
  const grants: number[] = [];
  const m = new LeaseManager({
    grant: async (ttl) => { grants.push(ttl); return String(grants.length); },
    now: () => t,
    ...opts,
  });
  return { m, grants, advance: (s: number) => { t += s * 1000; } };
}

test('one lease serves the writes of a minute for a 1 h TTL, granted for TTL + 60 s', async () => {
  const { m, grants, advance } = setup();
  const first = await m.leaseFor(3600);
  assert.deepEqual(grants, [3660]);
  for (let i = 0; i < 59; i++) {
    advance(1);
    assert.equal(await m.leaseFor(3600), first, `write ${i + 1} s later reuses the lease`);
  }
  advance(1); // 60 s after the grant the lease would expire exactly at now + TTL: too soon
  const second = await m.leaseFor(3600);
  assert.notEqual(second, first);
  assert.deepEqual(grants, [3660, 3660]);
});

test('the reuse window is 5% of a short TTL: none for 3 s, 5 s for 100 s', async () => {
  const { m, grants, advance } = setup();
  assert.equal(m.reuseFor(3), 0);
  assert.equal(m.reuseFor(100), 5);
  assert.equal(m.reuseFor(86_400), 60);
  await m.leaseFor(3);
  advance(1);
  await m.leaseFor(3);
  assert.deepEqual(grants, [3, 3], 'no sharing without a reuse window: an event never outlives its TTL');
  await m.leaseFor(100);
  advance(4);
  await m.leaseFor(100);
  advance(1);
  await m.leaseFor(100);
  assert.deepEqual(grants, [3, 3, 105, 105]);
});

test('a lease holds at most maxObjects writes', async () => {
  const { m, grants } = setup({ maxObjects: 3 });
  const ids = [];
  for (let i = 0; i < 7; i++) ids.push(await m.leaseFor(3600));
  assert.deepEqual(ids, ['1', '1', '1', '2', '2', '2', '3']);
  assert.equal(grants.length, 3);
});

test('writes that arrive during a grant wait for it and share its lease', async () => {
  let release!: (id: string) => void;
  let calls = 0;
  const m = new LeaseManager({ grant: () => { calls++; return new Promise((r) => { release = r; }); }, now: () => 0 });
  const all = Promise.all([m.leaseFor(3600), m.leaseFor(3600), m.leaseFor(3600)]);
  await new Promise((r) => setImmediate(r));
  release('42');
  assert.deepEqual(await all, ['42', '42', '42']);
  assert.equal(calls, 1);
});

test('a failed grant fails that write only; the next write grants again', async () => {
  let fail = true;
  const m = new LeaseManager({ grant: async () => { if (fail) throw new Error('store unavailable'); return '7'; }, now: () => 0 });
  await assert.rejects(m.leaseFor(60), /store unavailable/);
  fail = false;
  assert.equal(await m.leaseFor(60), '7');
});
