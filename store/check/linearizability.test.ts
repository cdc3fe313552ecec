import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../raft/rng';
import { checkOperations, type Model } from './linearizability';
import { checkRegisterHistory, formatOps, pruneIndeterminate, type RegisterInput, type RegisterOp, type RegisterOutput } from './register';

// Hand-made histories. Times are ms; `ret: undefined` = never returned.
const get = (client: number, call: number, ret: number, value: string | null, modRev = 0, rev?: number): RegisterOp => ({
  client, call, ret, input: { f: 'get', key: 'k' }, output: { value, modRev, rev },
});
const put = (client: number, call: number, ret: number | undefined, value: string, rev?: number): RegisterOp => ({
  client, call, ret, input: { f: 'put', key: 'k', value }, output: ret === undefined ? undefined : { rev },
});
const cas = (client: number, call: number, ret: number | undefined, expect: string | null, value: string, out?: RegisterOutput): RegisterOp => ({
  client, call, ret, input: { f: 'cas', key: 'k', expect, value }, output: ret === undefined ? undefined : out,
});

const verdict = (h: RegisterOp[]): boolean => checkRegisterHistory(h).ok;

test('generic search: a counter model, linearizable and not', () => {
  const counter: Model<number, 'inc' | 'read', number> = {
    init: () => 0,
    step: (s, i, o) => (i === 'inc' ? s + 1 : o === undefined || o === s ? s : undefined),
    hash: (s) => String(s),
  };
  const ok = checkOperations(counter, [
    { client: 0, call: 0, ret: 10, input: 'inc' },
    { client: 1, call: 1, ret: 2, input: 'read', output: 1 },
    { client: 2, call: 3, ret: 4, input: 'read', output: 1 },
  ].map((o) => ({ ...o, output: o.input === 'inc' ? 0 : o.output })));
  assert.equal(ok.result, 'ok');
  const bad = checkOperations(counter, [
    { client: 0, call: 0, ret: 10, input: 'inc', output: 0 },
    { client: 1, call: 1, ret: 2, input: 'read', output: 1 },
    { client: 2, call: 3, ret: 4, input: 'read', output: 0 },
  ]);
  assert.equal(bad.result, 'violation');
});

test('sequential and overlapping put/get histories are linearizable', () => {
  assert.ok(verdict([put(0, 0, 1, 'a', 2), get(1, 2, 3, 'a', 2, 2), put(0, 4, 5, 'b', 3), get(1, 6, 7, 'b', 3, 3)]));
  // A read overlapping a put may see either value, and two overlapping reads may disagree.
  assert.ok(verdict([put(0, 0, 1, 'a', 2), put(0, 10, 20, 'b', 3), get(1, 11, 12, 'b', 3), get(2, 13, 14, 'b', 3)]));
  assert.ok(verdict([put(0, 0, 1, 'a', 2), put(0, 10, 20, 'b', 3), get(1, 11, 12, 'a', 2), get(2, 13, 14, 'b', 3)]));
  // Equal timestamps count as overlap.
  assert.ok(verdict([put(0, 0, 5, 'a', 2), get(1, 5, 6, 'a', 2)]));
  assert.ok(verdict([get(1, 0, 5, 'a', 2), put(0, 5, 6, 'a', 2)]));
  // Reading the initial absent value.
  assert.ok(verdict([get(0, 0, 1, null), put(0, 2, 3, 'a', 2), get(1, 4, 5, 'a', 2)]));
});

test('stale read: a read after a completed write returns the older value', () => {
  const h = [put(0, 0, 1, 'a', 2), put(1, 2, 3, 'b', 3), get(2, 4, 5, 'a', 2)];
  const r = checkRegisterHistory(h);
  assert.equal(r.ok, false);
  assert.equal(r.violations[0].kind, 'linearizability');
  // Also a read that goes back in time after another read saw the new value.
  assert.equal(verdict([put(0, 0, 1, 'a', 2), put(1, 2, 20, 'b', 3), get(2, 4, 5, 'b', 3), get(3, 6, 7, 'a', 2)]), false);
});

test('lost write: an acknowledged write disappears', () => {
  assert.equal(verdict([put(0, 0, 1, 'a', 2), get(1, 2, 3, null)]), false);
  assert.equal(verdict([put(0, 0, 1, 'a', 2), put(1, 2, 3, 'b', 3), get(2, 4, 5, 'b', 3), get(2, 6, 7, 'a', 2)]), false);
  // A read of a value nobody wrote.
  assert.equal(verdict([put(0, 0, 1, 'a', 2), get(1, 2, 3, 'zzz', 9)]), false);
});

test('cas anomalies: two cas on the same expected value both succeed; a cas succeeds on a value that was overwritten', () => {
  const base = put(0, 0, 1, 'a', 2);
  assert.equal(verdict([base, cas(1, 2, 5, 'a', 'b', { ok: true, rev: 3 }), cas(2, 2, 5, 'a', 'c', { ok: true, rev: 4 })]), false);
  assert.ok(verdict([base, cas(1, 2, 5, 'a', 'b', { ok: true, rev: 3 }), cas(2, 2, 5, 'a', 'c', { ok: false, value: 'b', modRev: 3, rev: 3 })]));
  assert.equal(verdict([base, put(1, 2, 3, 'x', 3), cas(2, 4, 5, 'a', 'c', { ok: true, rev: 4 })]), false);
  // A failed cas whose compare should have held.
  assert.equal(verdict([base, cas(1, 2, 3, 'a', 'b', { ok: false, value: 'a', modRev: 2, rev: 2 })]), false);
  // Create-if-absent (expect nil).
  assert.ok(verdict([cas(1, 0, 1, null, 'a', { ok: true, rev: 2 }), cas(2, 2, 3, null, 'b', { ok: false, value: 'a', modRev: 2, rev: 2 })]));
  assert.equal(verdict([cas(1, 0, 1, null, 'a', { ok: true, rev: 2 }), cas(2, 2, 3, null, 'b', { ok: true, rev: 3 })]), false);
});

test('indeterminate operations may take effect at any time after their call, or never', () => {
  // Never returned, later observed: fine, even long after.
  assert.ok(verdict([put(0, 0, 1, 'a', 2), put(1, 2, undefined, 'b'), get(2, 100, 101, 'a', 2), get(2, 1000, 1001, 'b', 3)]));
  // Never returned, never observed: fine.
  assert.ok(verdict([put(0, 0, 1, 'a', 2), put(1, 2, undefined, 'b'), get(2, 100, 101, 'a', 2)]));
  // Cannot take effect before its call.
  assert.equal(verdict([put(0, 0, 1, 'a', 2), get(2, 2, 3, 'b', 3), put(1, 10, undefined, 'b')]), false);
  // Once visible it stays (no flicker back).
  assert.equal(verdict([put(0, 0, 1, 'a', 2), put(1, 2, undefined, 'b'), get(2, 5, 6, 'b', 3), get(2, 7, 8, 'a', 2)]), false);
  // An indeterminate cas that took effect, and one that could not have (its compare never held after its call).
  assert.ok(verdict([put(0, 0, 1, 'a', 2), cas(1, 2, undefined, 'a', 'b'), get(2, 50, 51, 'b', 3)]));
  assert.equal(verdict([put(0, 0, 1, 'a', 2), put(0, 2, 3, 'x', 3), cas(1, 4, undefined, 'a', 'b'), get(2, 50, 51, 'b', 4)]), false);
  // Indeterminate reads are ignored; unobserved indeterminate writes are pruned before the search.
  const h = [put(0, 0, 1, 'a', 2), { ...get(1, 2, 3, 'a'), output: undefined, ret: undefined }, put(1, 2, undefined, 'zz'), cas(1, 2, undefined, 'zz', 'yy')];
  assert.equal(pruneIndeterminate(h).length, 1);
  // But an observed one stays, and keeps what it enables.
  assert.equal(pruneIndeterminate([...h, get(2, 9, 10, 'yy', 5)]).length, 4);
  assert.ok(verdict([...h, get(2, 9, 10, 'yy', 5)]));
});

test('revisions: writes after a read carry higher revisions; one revision per value', () => {
  // The read answered at revision 9, so a write ordered after it cannot carry revision 7.
  assert.equal(verdict([put(0, 0, 1, 'a', 5), get(1, 2, 3, 'a', 5, 9), put(2, 4, 5, 'b', 7)]), false);
  assert.ok(verdict([put(0, 0, 1, 'a', 5), get(1, 2, 3, 'a', 5, 9), put(2, 4, 5, 'b', 10)]));
  // Writes of one key in real-time order must carry increasing revisions.
  assert.equal(verdict([put(0, 0, 1, 'a', 5), put(1, 2, 3, 'b', 4)]), false);
  const r = checkRegisterHistory([put(0, 0, 1, 'a', 5), get(1, 2, 3, 'a', 6, 6)]);
  assert.equal(r.ok, false);
  assert.equal(r.violations[0].kind, 'revision');
  // One revision, two keys.
  const other: RegisterOp = { client: 3, call: 0, ret: 1, input: { f: 'put', key: 'k2', value: 'z' }, output: { rev: 5 } };
  assert.equal(checkRegisterHistory([put(0, 0, 1, 'a', 5), other]).violations[0]?.kind, 'revision');
});

test('P-compositionality: keys are checked independently, and the report names the bad key with a small witness', () => {
  const rng = seededRng(7);
  const h: RegisterOp[] = [];
  let rev = 1;
  let t = 0;
  // Key k1: a long, clean sequential history; key k2: the same plus one stale read in the middle.
  for (const key of ['k1', 'k2']) {
    let last: string | null = null;
    let lastRev = 0;
    t = 0;
    for (let i = 0; i < 300; i++) {
      t += 1 + Math.floor(rng() * 3);
      if (rng() < 0.5) {
        const value = `${key}-v${i}`;
        rev++;
        h.push({ client: i % 5, call: t, ret: t + 0.5, input: { f: 'put', key, value }, output: { rev } });
        last = value;
        lastRev = rev;
      } else {
        h.push({ client: i % 5, call: t, ret: t + 0.5, input: { f: 'get', key }, output: { value: last, modRev: lastRev } });
      }
      if (key === 'k2' && i === 150) {
        const stale = h.filter((o) => o.input.key === 'k2' && o.input.f === 'put').at(-3)!;
        h.push({ client: 9, call: t + 0.6, ret: t + 0.7, input: { f: 'get', key }, output: { value: (stale.input as { value: string }).value, modRev: stale.output!.rev } });
      }
    }
  }
  const r = checkRegisterHistory(h);
  assert.equal(r.ok, false);
  assert.deepEqual(r.perKey.map((k) => [k.key, k.result]), [['k1', 'ok'], ['k2', 'violation']]);
  const v = r.violations[0];
  assert.equal(v.key, 'k2');
  assert.ok(v.ops.length <= 4, `witness should be small:\n${formatOps(v.ops)}`);
  assert.ok(v.ops.some((o) => o.client === 9), 'the witness contains the stale read');
  // The witness is itself a violation.
  assert.equal(checkRegisterHistory(v.ops).ok, false);
});

/**
 * A synthetic linearizable history: `clients` clients issue ops of random duration on `keys`
 * keys; each op takes effect at a random instant inside its interval (its linearization point)
 * against a real register with a global revision counter. A fraction of writes never return:
 * half of them still take effect.
 */
function synthetic(seed: number, opsPerKey: number, keys: number, clients: number, indeterminate: number): RegisterOp[] {
  const rng = seededRng(seed);
  interface Pending { op: RegisterOp; at: number; applied: boolean }
  const pending: Pending[] = [];
  const clock = new Array(clients).fill(0);
  let seq = 0;
  for (let n = 0; n < opsPerKey * keys; n++) {
    const c = n % clients;
    const call = clock[c] + rng() * 2;
    const dur = 0.2 + rng() * 8;
    const key = `k${Math.floor(rng() * keys)}`;
    const r = rng();
    const input: RegisterInput = r < 0.4 ? { f: 'get', key } : r < 0.7 ? { f: 'put', key, value: `v${seq++}` } : { f: 'cas', key, expect: null, value: `v${seq++}` };
    const lost = input.f !== 'get' && rng() < indeterminate;
    pending.push({ op: { client: c, call, ret: lost ? undefined : call + dur, input }, at: call + rng() * dur, applied: !lost || rng() < 0.5 });
    clock[c] = call + dur;
  }
  // Apply in linearization-point order; a cas expects whatever its key held a little earlier.
  pending.sort((a, b) => a.at - b.at);
  const state = new Map<string, { value: string | null; modRev: number }>();
  const recent = new Map<string, string | null>();
  let rev = 1;
  for (const p of pending) {
    const i = p.op.input;
    const cur = state.get(i.key) ?? { value: null, modRev: 0 };
    if (i.f === 'cas') i.expect = rng() < 0.7 ? cur.value : recent.get(i.key) ?? null;
    recent.set(i.key, cur.value);
    let out: RegisterOutput;
    if (i.f === 'get') out = { value: cur.value, modRev: cur.modRev, rev };
    else if (i.f === 'put' || cur.value === i.expect) {
      if (!p.applied) continue;
      rev++;
      state.set(i.key, { value: i.value, modRev: rev });
      out = i.f === 'put' ? { rev } : { ok: true, rev };
    } else out = { ok: false, value: cur.value, modRev: cur.modRev, rev };
    if (p.op.ret !== undefined) p.op.output = out;
  }
  return pending.map((p) => p.op).sort((a, b) => a.call - b.call);
}

test('synthetic concurrent histories with indeterminate writes are linearizable; corrupting one read is caught', () => {
  let caught = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const h = synthetic(seed, 150, 2, 6, 0.1);
    const r = checkRegisterHistory(h);
    assert.ok(r.ok, `seed ${seed}: ${JSON.stringify(r.violations.map((v) => v.message))}`);
    // Make one completed read return a value the key held long before.
    const reads = h.filter((o) => o.input.f === 'get' && o.output && o.output.value !== null);
    const victim = reads[Math.floor(reads.length * 0.8)];
    const early = h.find((o) => o.input.key === victim.input.key && o.input.f === 'put' && o.output && o.ret! < victim.call - 200);
    if (!early) continue;
    const bad = h.map((o) => (o === victim ? { ...o, output: { value: (early.input as { value: string }).value, modRev: early.output!.rev } } : o));
    const later = h.some((o) => o.input.key === victim.input.key && o.input.f !== 'get' && o.output && (o.output.ok ?? true) && o.call > early.ret! && o.ret! < victim.call);
    if (!later) continue;
    caught++;
    assert.equal(checkRegisterHistory(bad).ok, false, `seed ${seed}: corrupted read not caught`);
  }
  assert.ok(caught >= 10, `only ${caught} seeds had a definitely stale read to plant`);
});

test('performance: a few thousand ops per key check quickly', () => {
  const h = synthetic(42, 4000, 3, 10, 0.05);
  const t0 = Date.now();
  const r = checkRegisterHistory(h, { timeLimitMs: 20_000 });
  const ms = Date.now() - t0;
  assert.ok(r.ok, JSON.stringify(r.perKey));
  assert.equal(r.ops, 12000);
  assert.ok(ms < 5000, `checking 12000 ops took ${ms} ms`);
});
