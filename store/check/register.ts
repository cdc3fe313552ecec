import { checkOperations, shrinkViolation, type Model, type Operation } from './linearizability';

/**
 * A per-key register over an etcd-like KV, checked for linearizability one key at a time
 * (P-compositionality), with the KV's revisions as extra evidence.
 *
 * Operations (what the workload does, what it recorded):
 * - `get`  → Range(key): output `value` (null if absent), `modRev` (0 if absent), `rev` (header revision).
 * - `put`  → Put(key, value): output `rev` (header revision = the new mod_revision).
 * - `cas`  → Txn(if <compare> then put(key, value) else range(key)). The compare is on the value
 *   (`expect`) or on mod_revision (the revision at which the client read `expect`; 0 for absent),
 *   which is the same test when every written value is unique (checked below). Output `ok`, and
 *   `rev` (the new revision) when it succeeded, or the current `value`/`modRev` and `rev` (header)
 *   when it failed: a failed cas is a read.
 *
 * The workload must write every value at most once (unique values). Then:
 * - a value determines its write, so the revision a write produced is learned from any
 *   observation of it, and revision consistency is checked directly: one revision per value,
 *   one value per (key, revision), one key per revision;
 * - the model can use revisions: along a linearization the writes of a key must carry
 *   increasing revisions, and a read that answered at header revision H precedes every write
 *   with a revision above H only. This is sound for etcd (revisions follow the log order, which
 *   is the linearization order) and catches stale reads that values alone could miss.
 * - a write that never returned and whose value nobody observed can be dropped without changing
 *   the verdict (it can always be placed last), which keeps the search small.
 */

export type RegisterInput =
  | { f: 'get'; key: string }
  | { f: 'put'; key: string; value: string }
  | { f: 'cas'; key: string; expect: string | null; value: string; by?: 'value' | 'mod' };

export interface RegisterOutput {
  /** cas: whether the compare held. */
  ok?: boolean;
  /** get / failed cas: the value read (null = absent). */
  value?: string | null;
  /** get / failed cas: mod_revision of the value read (0 = absent). */
  modRev?: number;
  /** header revision of the response. */
  rev?: number;
}

export type RegisterOp = Operation<RegisterInput, RegisterOutput>;

/** A write's revision as learned from the whole history (undefined if never learned). */
type Prepared = Operation<RegisterInput & { wrev?: number }, RegisterOutput> & { index: number };

interface RegState {
  value: string | null;
  /** Lower bound of the key's current revision along this linearization. */
  rev: number;
}

const isWrite = (i: RegisterInput): i is Extract<RegisterInput, { value: string }> => i.f !== 'get';

function applyWrite(s: RegState, wrev: number | undefined, value: string): RegState | undefined {
  if (wrev !== undefined && wrev <= s.rev) return undefined;
  return { value, rev: wrev ?? s.rev };
}

function afterRead(s: RegState, out: RegisterOutput): RegState | undefined {
  if (out.value !== undefined && out.value !== s.value) return undefined;
  return out.rev !== undefined && out.rev > s.rev ? { value: s.value, rev: out.rev } : s;
}

const registerModel: Model<RegState, RegisterInput & { wrev?: number }, RegisterOutput> = {
  init: () => ({ value: null, rev: 0 }),
  step(s, input, out) {
    switch (input.f) {
      case 'get':
        if (!out) return s; // (pruned before the search; a read without output constrains nothing)
        return afterRead(s, out);
      case 'put':
        return applyWrite(s, input.wrev, input.value);
      case 'cas':
        if (!out) {
          // Unknown outcome: takes effect here iff the compare holds here; "never" = placed last.
          return s.value === input.expect ? applyWrite(s, input.wrev, input.value) : s;
        }
        if (out.ok) return s.value === input.expect ? applyWrite(s, input.wrev, input.value) : undefined;
        if (s.value === input.expect) return undefined;
        return afterRead(s, out);
    }
  },
  hash: (s) => `${s.value === null ? '\u0001' : s.value}\u0000${s.rev}`,
};

export interface Violation {
  key: string;
  kind: 'linearizability' | 'revision';
  message: string;
  /** A small sub-history that is itself a violation (for linearizability: shrunk, still failing). */
  ops: RegisterOp[];
}

export interface KeyReport {
  key: string;
  ops: number;
  searched: number;
  ms: number;
  result: 'ok' | 'violation' | 'unknown';
}

export interface RegisterCheckReport {
  ok: boolean;
  ops: number;
  keys: number;
  violations: Violation[];
  /** Keys whose search ran out of time (neither ok nor a violation). */
  unknown: string[];
  perKey: KeyReport[];
}

/** One revision per value, one value per (key, revision), one key per revision. */
function revisionAnomalies(byKey: Map<string, RegisterOp[]>): Violation[] {
  const out: Violation[] = [];
  const keyOfRev = new Map<number, { key: string; op: RegisterOp }>();
  for (const [key, ops] of byKey) {
    const revOfValue = new Map<string, { rev: number; op: RegisterOp }>();
    const valueOfRev = new Map<number, { value: string; op: RegisterOp }>();
    const note = (value: string | null | undefined, rev: number | undefined, op: RegisterOp): void => {
      if (value === null || value === undefined || rev === undefined) return;
      const a = revOfValue.get(value);
      if (a && a.rev !== rev) {
        out.push({ key, kind: 'revision', message: `value ${value} seen at mod_revision ${a.rev} and at ${rev}`, ops: [a.op, op] });
      } else if (!a) revOfValue.set(value, { rev, op });
      const b = valueOfRev.get(rev);
      if (b && b.value !== value) {
        out.push({ key, kind: 'revision', message: `mod_revision ${rev} holds ${b.value} and ${value}`, ops: [b.op, op] });
      } else if (!b) valueOfRev.set(rev, { value, op });
      const c = keyOfRev.get(rev);
      if (c && c.key !== key) {
        out.push({ key, kind: 'revision', message: `revision ${rev} wrote both ${c.key} and ${key}`, ops: [c.op, op] });
      } else if (!c) keyOfRev.set(rev, { key, op });
    };
    for (const op of ops) {
      const o = op.output;
      if (!o) continue;
      if (op.input.f === 'put') note(op.input.value, o.rev, op);
      else if (op.input.f === 'cas' && o.ok) note(op.input.value, o.rev, op);
      else note(o.value, o.modRev, op);
    }
  }
  return out;
}

/** Values some op in `ops` observed: read outputs and every cas's expected value. */
function observedValues(ops: readonly RegisterOp[]): Set<string | null> {
  const seen = new Set<string | null>();
  for (const op of ops) {
    if (op.input.f === 'cas') seen.add(op.input.expect);
    const o = op.output;
    if (o && o.value !== undefined && (op.input.f === 'get' || (op.input.f === 'cas' && !o.ok))) seen.add(o.value);
  }
  return seen;
}

/**
 * Drop what cannot change the verdict: reads that never returned, and (to a fixpoint) writes
 * that never returned and whose value nobody observed.
 */
export function pruneIndeterminate(ops: readonly RegisterOp[]): RegisterOp[] {
  let cur = ops.filter((op) => !(op.input.f === 'get' && !op.output));
  for (;;) {
    const seen = observedValues(cur);
    const next = cur.filter((op) => op.output || !isWrite(op.input) || seen.has(op.input.value));
    if (next.length === cur.length) return cur;
    cur = next;
  }
}

/** Attach each write's learned revision. */
function prepare(ops: readonly RegisterOp[]): Prepared[] {
  const revOfValue = new Map<string, number>();
  for (const op of ops) {
    const o = op.output;
    if (!o) continue;
    if ((op.input.f === 'put' || (op.input.f === 'cas' && o.ok)) && o.rev !== undefined) revOfValue.set((op.input as { value: string }).value, o.rev);
    else if (o.value !== undefined && o.value !== null && o.modRev !== undefined && o.modRev > 0) revOfValue.set(o.value, o.modRev);
  }
  return ops.map((op, index) => ({
    ...op,
    index,
    input: isWrite(op.input) ? { ...op.input, wrev: revOfValue.get(op.input.value) } : op.input,
  }));
}

function searchKey(ops: readonly RegisterOp[], deadline?: number): ReturnType<typeof checkOperations> {
  return checkOperations(registerModel, prepare(ops), { deadline });
}

/** May `chunk` be dropped from a violating history without making up a violation? */
function removable(chunk: RegisterOp[], rest: RegisterOp[]): boolean {
  const seen = observedValues(rest);
  return chunk.every((op) => !isWrite(op.input) || (op.input.f === 'cas' && op.output && !op.output.ok) || !seen.has(op.input.value));
}

/**
 * Check a register history: revision consistency, then linearizability per key.
 * `timeLimitMs` bounds each key's search (default 60 s); `shrinkMs` bounds the shrinking of
 * each violation (default 20 s).
 */
export function checkRegisterHistory(history: readonly RegisterOp[], opts: { timeLimitMs?: number; shrinkMs?: number } = {}): RegisterCheckReport {
  const byKey = new Map<string, RegisterOp[]>();
  for (const op of history) {
    const list = byKey.get(op.input.key);
    if (list) list.push(op);
    else byKey.set(op.input.key, [op]);
  }
  const violations = revisionAnomalies(byKey);
  const unknown: string[] = [];
  const perKey: KeyReport[] = [];
  for (const [key, all] of byKey) {
    const ops = pruneIndeterminate(all);
    const t0 = Date.now();
    const r = searchKey(ops, t0 + (opts.timeLimitMs ?? 60_000));
    perKey.push({ key, ops: all.length, searched: ops.length, ms: Date.now() - t0, result: r.result });
    if (r.result === 'unknown') unknown.push(key);
    if (r.result !== 'violation') continue;
    const shrinkDeadline = Date.now() + (opts.shrinkMs ?? 20_000);
    const small = shrinkViolation(
      ops,
      (sub) => searchKey(sub, Math.min(shrinkDeadline, Date.now() + 2_000)).result === 'violation',
      removable,
      { deadline: shrinkDeadline },
    );
    violations.push({ key, kind: 'linearizability', message: `history of ${key} (${ops.length} ops) is not linearizable; ${small.length} ops still fail`, ops: small });
  }
  return { ok: violations.length === 0 && unknown.length === 0, ops: history.length, keys: byKey.size, violations, unknown, perKey };
}

/** One line per op, in call order, times relative to `t0`. */
export function formatOps(ops: readonly RegisterOp[], t0 = 0): string {
  const t = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '   (never)' : `${((x - t0) / 1000).toFixed(3).padStart(10)}`);
  const v = (x: string | null | undefined): string => (x === null ? 'nil' : x === undefined ? '?' : x);
  return [...ops]
    .sort((a, b) => a.call - b.call)
    .map((op) => {
      const i = op.input;
      const o = op.output;
      const what = i.f === 'get' ? `get(${i.key})` : i.f === 'put' ? `put(${i.key}, ${i.value})` : `cas(${i.key}, ${v(i.expect)} -> ${i.value}${i.by ? ` by ${i.by}` : ''})`;
      let res = 'indeterminate';
      if (o) {
        if (i.f === 'get') res = `${v(o.value)} mod_rev=${o.modRev} rev=${o.rev}`;
        else if (i.f === 'put') res = `ok rev=${o.rev}`;
        else res = o.ok ? `ok rev=${o.rev}` : `failed, current ${v(o.value)} mod_rev=${o.modRev} rev=${o.rev}`;
      }
      return `[${t(op.call)} ..${t(op.ret)}] c${op.client} ${what} => ${res}`;
    })
    .join('\n');
}
