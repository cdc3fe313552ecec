/**
 * Linearizability checking, in the project's own code.
 *
 * The search is Wing & Gong's, with Lowe's just-in-time linearization and memoisation
 * ("Testing for linearizability", 2017) and P-compositionality (Horn & Kroening, "Faster
 * linearizability checking via P-compositionality", 2015): a history that splits into
 * independent parts (here: one part per key) is linearizable iff every part is, so each
 * part is searched on its own. This is the approach porcupine and knossos.wgl describe.
 *
 * Contracts:
 * - An operation has a call time and, if it returned, a return time and an output. An
 *   operation that never returned (a timeout, a crashed server) is *indeterminate*: it may
 *   take effect at any moment after its call, or never. It is searched with an infinite
 *   return time and an unknown output, so the model's `step` must accept `undefined` outputs.
 * - Equal times are read as overlapping (a call at the instant of another op's return may be
 *   ordered either way), so clock granularity never creates a violation.
 * - The model is a pure, deterministic sequential specification: `step(state, input, output)`
 *   returns the next state if the operation, with that output, is legal in `state`, and
 *   `undefined` if not. States are compared by `hash` for the memo.
 * - The search is exponential in the worst case (the problem is NP-complete); `deadline`
 *   bounds it, and a part that ran out of time is reported as `unknown`, never as ok.
 */

export interface Operation<I, O> {
  /** Who issued it (for reports only: the search uses times, not clients). */
  client: number;
  input: I;
  /** Absent when the operation never returned. */
  output?: O;
  /** Invocation time (ms, any origin shared by the history). */
  call: number;
  /** Completion time; absent (or Infinity) when the operation never returned. */
  ret?: number;
}

export interface Model<S, I, O> {
  init(): S;
  /** Next state if `input` → `output` is legal in `state`; `undefined` if it is not. `output` undefined = unknown. */
  step(state: S, input: I, output: O | undefined): S | undefined;
  /** Canonical text of a state; equal states must have equal hashes. */
  hash(state: S): string;
}

export type SearchResult =
  | { result: 'ok'; linearization: number[] }
  | { result: 'violation'; /** Indexes (into the ops given) of the longest legal prefix order the search found. */ longest: number[] }
  | { result: 'unknown'; steps: number };

interface Entry {
  op: number;
  isCall: boolean;
  time: number;
  prev: Entry | undefined;
  next: Entry | undefined;
  /** For a call entry: its return entry. */
  match: Entry | undefined;
}

/** Deterministic 32-bit xorshift, for Zobrist hashing of the linearized set. */
function zobrist(n: number, seed: number): Uint32Array {
  const z = new Uint32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    z[i] = x;
  }
  return z;
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Is this single part of a history linearizable with respect to `model`? Lowe's algorithm:
 * walk a doubly linked list of call/return events in time order; at a call, try to linearize
 * its operation now (model step legal, and the configuration (linearized set, state) not seen
 * before), lifting the op out of the list; at a return whose op is not linearized yet, undo the
 * last choice. The list empties exactly when a full linearization was found.
 */
export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  opts: { deadline?: number } = {},
): SearchResult {
  const n = ops.length;
  const events: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const o = ops[i];
    const ret = o.ret === undefined || o.output === undefined ? Infinity : o.ret;
    const call: Entry = { op: i, isCall: true, time: o.call, prev: undefined, next: undefined, match: undefined };
    const r: Entry = { op: i, isCall: false, time: ret, prev: undefined, next: undefined, match: undefined };
    call.match = r;
    events.push(call, r);
  }
  // Time order; at equal times calls first (overlap), then by op for determinism.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Entry = { op: -1, isCall: false, time: -Infinity, prev: undefined, next: undefined, match: undefined };
  let prev = head;
  for (const e of events) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }

  const lift = (e: Entry): void => {
    e.prev!.next = e.next;
    if (e.next) e.next.prev = e.prev;
    const m = e.match!;
    m.prev!.next = m.next;
    if (m.next) m.next.prev = m.prev;
  };
  const unlift = (e: Entry): void => {
    const m = e.match!;
    m.prev!.next = m;
    if (m.next) m.next.prev = m;
    e.prev!.next = e;
    if (e.next) e.next.prev = e;
  };

  const words = Math.max(1, Math.ceil(n / 32));
  const bits = new Uint32Array(words);
  const z1 = zobrist(n, 0x9e3779b9);
  const z2 = zobrist(n, 0x85ebca6b);
  let h1 = 0;
  let h2 = 0;
  const cache = new Map<string, Uint32Array[]>();
  const stack: { entry: Entry; state: S }[] = [];
  let longest: number[] = [];
  let longestPending = false;

  let state = model.init();
  let entry = head.next;
  let steps = 0;
  while (head.next !== undefined) {
    if ((++steps & 0x3ff) === 0 && opts.deadline !== undefined && Date.now() > opts.deadline) return { result: 'unknown', steps };
    if (entry === undefined) throw new Error('linearizability: internal error (ran off the event list)');
    if (entry.isCall) {
      const i = entry.op;
      const next = model.step(state, ops[i].input, ops[i].output);
      if (next !== undefined) {
        bits[i >>> 5] |= 1 << (i & 31);
        const k1 = (h1 ^ z1[i]) >>> 0;
        const k2 = (h2 ^ z2[i]) >>> 0;
        const key = `${k1}:${k2}:${model.hash(next)}`;
        const seen = cache.get(key);
        if (!seen || !seen.some((b) => sameBits(b, bits))) {
          if (seen) seen.push(bits.slice());
          else cache.set(key, [bits.slice()]);
          stack.push({ entry, state });
          if (stack.length > longest.length) longestPending = true;
          h1 = k1;
          h2 = k2;
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
        bits[i >>> 5] &= ~(1 << (i & 31));
      }
      entry = entry.next;
    } else {
      // An op whose return we reached is not linearized: undo the latest choice.
      if (longestPending) {
        longest = stack.map((s) => s.entry.op);
        longestPending = false;
      }
      const top = stack.pop();
      if (!top) return { result: 'violation', longest };
      const i = top.entry.op;
      bits[i >>> 5] &= ~(1 << (i & 31));
      h1 = (h1 ^ z1[i]) >>> 0;
      h2 = (h2 ^ z2[i]) >>> 0;
      state = top.state;
      unlift(top.entry);
      entry = top.entry.next;
    }
  }
  return { result: 'ok', linearization: stack.map((s) => s.entry.op) };
}

/**
 * Shrink a violating history: repeatedly try to drop chunks of operations (halves, quarters,
 * ... single ops) while the rest still fails to linearize. `removable(chunk, rest)` must only
 * allow removals after which a linearizable original could not turn non-linearizable (for a
 * register: reads, and writes nobody in `rest` observed), so the result is a genuine witness.
 */
export function shrinkViolation<I, O>(
  ops: readonly Operation<I, O>[],
  violates: (ops: Operation<I, O>[]) => boolean,
  removable: (chunk: Operation<I, O>[], rest: Operation<I, O>[]) => boolean,
  opts: { deadline?: number } = {},
): Operation<I, O>[] {
  let cur = [...ops];
  for (let size = Math.max(1, cur.length >> 1); ; size = Math.max(1, size >> 1)) {
    let changed = false;
    for (let start = 0; start < cur.length; ) {
      if (opts.deadline !== undefined && Date.now() > opts.deadline) return cur;
      const chunk = cur.slice(start, start + size);
      const rest = [...cur.slice(0, start), ...cur.slice(start + size)];
      if (rest.length > 0 && removable(chunk, rest) && violates(rest)) {
        cur = rest;
        changed = true;
      } else {
        start += size;
      }
    }
    if (size === 1 && !changed) return cur;
  }
}
