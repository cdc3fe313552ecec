import type { CompareSpec, DeleteOp, Op, PutOp, RangeOp, RequestOp, TxnOp } from './commands';
import { EtcdError, type EtcdErrorName } from '../errors';
import { Arena } from './arena';

/**
 * Multi-version key-value state, etcd's data model:
 *  - one global `revision`, incremented once per write that changes something
 *    (a Txn with several changes is one revision; its changes get sub-revisions);
 *  - per key: create_revision, mod_revision, version (1 on creation, +1 per put,
 *    reset by delete), value, lease;
 *  - the history of every key and every event back to `compactRevision`, so a
 *    Range at an older revision and a Watch from an older revision work; asking
 *    for anything before it is ErrCompacted.
 *
 * `apply(op)` is a pure function of the state and the op (no clock, no
 * randomness); every replica applies the same committed ops in the same order and
 * reaches the same state. Reads (`range`) never change state.
 *
 * Keys are binary strings (latin1), so JS string order is byte order.
 */

export interface KeyValue {
  key: Buffer;
  create_revision: number;
  mod_revision: number;
  version: number;
  value: Buffer;
  lease: string;
}

export interface MvccEvent {
  type: 'PUT' | 'DELETE';
  kv: KeyValue;
  prev_kv?: KeyValue;
}

export interface RangeResult {
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export type ResponseOp =
  | { response_range: RangeResult }
  | { response_put: { prev_kv?: KeyValue } }
  | { response_delete_range: { deleted: number; prev_kvs: KeyValue[] } }
  | { response_txn: TxnResult };

export interface TxnResult {
  succeeded: boolean;
  responses: ResponseOp[];
}

/** What applying one op produced; `revision` is the store revision after it. */
export type ApplyResult =
  | { error: EtcdErrorName; revision: number }
  | { error?: undefined; revision: number; response: Record<string, unknown> };

interface Rec {
  mod: number;
  sub: number;
  create: number;
  version: number;
  value: Buffer;
  lease: string;
  tomb: boolean;
}

export interface Lease {
  id: string;
  ttl: number;
  keys: Set<string>;
}

const EMPTY = Buffer.alloc(0);

/**
 * A stored event: the key and the history records it refers to (kv, prev_kv), shared
 * with the key's history, so keeping the event log costs one small object per change
 * instead of two KeyValues with their own key Buffers. Materialised with `toEvent`.
 */
interface StoredEvent {
  type: 'PUT' | 'DELETE';
  key: string;
  rec: Rec;
  prev: Rec | undefined;
}

function toEvent(e: StoredEvent): MvccEvent {
  return { type: e.type, kv: toKV(e.key, e.rec), prev_kv: e.prev ? toKV(e.key, e.prev) : undefined };
}

/** Stored values live in their own slabs (arena.ts: why). */
const valueArena = new Arena();
function storeValue(v: string): Buffer {
  return v.length === 0 ? EMPTY : valueArena.from(v, 'latin1');
}

/** value: v1 the latin1 string; v2 an index into MvccSnapshot.values. */
type SnapKV = [key: string, create: number, mod: number, version: number, value: string | number, lease: string];
type SnapRec = [mod: number, sub: number, create: number, version: number, value: string | number, lease: string, tomb: 0 | 1];
type SnapEvent = [type: 0 | 1, kv: SnapKV, prev: SnapKV | null];

/** Serialized MVCC state (see `Mvcc.toSnapshot`). */
export interface MvccSnapshot {
  /**
   * 1: values inline. 2: every value once in `values`, referred to by index (a value is
   * shared by a key's history record and the events that carry it as kv and prev_kv,
   * so v1 wrote it up to three times).
   */
  v: 1 | 2;
  values?: string[];
  revision: number;
  compactRevision: number;
  keys: [string, SnapRec[]][];
  events: [number, SnapEvent[]][];
  leases: [string, number, string[]][];
}

/** See `Mvcc.cut`. */
export interface MvccCut {
  revision: number;
  compactRevision: number;
  keys: string[];
  recs: readonly Rec[][];
  lens: number[];
  events: readonly { rev: number; events: StoredEvent[] }[];
  eventsLen: number;
  leases: [string, number, string[]][];
}

/**
 * The snapshot v2 encoding of history records and events: every distinct value
 * Buffer is written once into `values` (in first-use order) and referred to by index.
 * Shared by `Mvcc.toSnapshot` and `serializeCut`, so both write the same format.
 */
function snapshotEncoder(): { values: string[]; rec: (r: Rec) => SnapRec; event: (e: StoredEvent) => SnapEvent } {
  const values: string[] = [];
  const ids = new Map<Buffer, number>();
  const val = (b: Buffer): number => {
    let i = ids.get(b);
    if (i === undefined) {
      i = values.length;
      values.push(b.toString('latin1'));
      ids.set(b, i);
    }
    return i;
  };
  const kv = (k: string, r: Rec): SnapKV => [k, r.create, r.mod, r.version, val(r.value), r.lease];
  return {
    values,
    rec: (r) => [r.mod, r.sub, r.create, r.version, val(r.value), r.lease, r.tomb ? 1 : 0],
    event: (ev) => [ev.type === 'PUT' ? 0 : 1, kv(ev.key, ev.rec), ev.prev ? kv(ev.key, ev.prev) : null],
  };
}

/**
 * Serialise a cut as the JSON text of an MvccSnapshot (v2; the same value `toSnapshot`
 * would have returned at the cut), about `chunk` records, events or values at a
 * time, awaiting `pause()` between chunks so a large state does not block the
 * event loop.
 * Returns the text as Buffers to concatenate.
 */
export async function serializeCut(cut: MvccCut, pause: () => Promise<void>, chunk = 1000): Promise<Buffer[]> {
  const { values, rec, event } = snapshotEncoder();
  const out: Buffer[] = [Buffer.from(`{"v":2,"revision":${cut.revision},"compactRevision":${cut.compactRevision},"leases":${JSON.stringify(cut.leases)},"keys":[`)];
  // Chunks are cut by work done (records, events, values), not by keys: a key may have a long history.
  let part: unknown[] = [];
  let work = 0;
  let first = true;
  const flush = async (): Promise<void> => {
    if (part.length > 0) {
      const text = JSON.stringify(part);
      out.push(Buffer.from((first ? '' : ',') + text.slice(1, -1), 'utf8'));
      first = false;
    }
    part = [];
    work = 0;
    await pause();
  };
  for (let j = 0; j < cut.keys.length; j++) {
    const recs = cut.recs[j];
    const rs: SnapRec[] = [];
    for (let n = 0; n < cut.lens[j]; n++) rs.push(rec(recs[n]));
    part.push([cut.keys[j], rs]);
    work += 1 + rs.length;
    if (work >= chunk) await flush();
  }
  await flush();
  out.push(Buffer.from('],"events":['));
  first = true;
  for (let j = 0; j < cut.eventsLen; j++) {
    const e = cut.events[j];
    part.push([e.rev, e.events.map(event)]);
    work += e.events.length;
    if (work >= chunk) await flush();
  }
  await flush();
  out.push(Buffer.from('],"values":['));
  first = true;
  for (let i = 0; i < values.length; i++) {
    part.push(values[i]);
    work++;
    if (work >= chunk) await flush();
  }
  await flush();
  out.push(Buffer.from(']}'));
  return out;
}

export class Mvcc {
  revision = 1; // etcd starts at revision 1 for an empty store
  compactRevision = 0;
  private keys: string[] = []; // sorted
  private hist = new Map<string, Rec[]>();
  private events: { rev: number; events: StoredEvent[] }[] = [];
  readonly leases = new Map<string, Lease>();
  private listeners = new Set<(rev: number, events: MvccEvent[]) => void>();
  private restoreListeners = new Set<() => void>();

  // Per-write scratch state.
  private sub = 0;
  private pending: MvccEvent[] = [];
  private pendingStored: StoredEvent[] = [];

  /** Called synchronously after each revision is applied, with its events in order. */
  onEvents(fn: (rev: number, events: MvccEvent[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Called after `restore` replaced the whole state (a snapshot from the leader was installed). */
  onRestore(fn: () => void): () => void {
    this.restoreListeners.add(fn);
    return () => this.restoreListeners.delete(fn);
  }

  // ------------------------------------------------------------------ snapshots

  /**
   * The whole state as a JSON-able value (keys, values as latin1 strings):
   * revision, compaction point, every key's history, the event log back to the
   * compaction point (so watches can resume from any retained revision after a
   * restore) and leases. `restore(toSnapshot())` yields an identical store.
   */
  toSnapshot(): MvccSnapshot {
    const { values, rec, event } = snapshotEncoder();
    return {
      v: 2,
      values,
      revision: this.revision,
      compactRevision: this.compactRevision,
      keys: this.keys.map((k) => [k, this.hist.get(k)!.map(rec)]),
      events: this.events.map((e) => [e.rev, e.events.map(event)]),
      leases: [...this.leases.values()].map((l) => [l.id, l.ttl, [...l.keys]]),
    };
  }

  /**
   * A consistent view of the state at the current revision that costs O(keys) to take,
   * to be serialised later with `serializeCut` while `apply` goes on. It holds the
   * live arrays with their current lengths: history arrays and the event log are
   * only ever appended to in place (compaction and restore build new arrays), and
   * records and events are never changed once written.
   */
  cut(): MvccCut {
    const keys = this.keys.slice();
    const recs = keys.map((k) => this.hist.get(k)!);
    return {
      revision: this.revision,
      compactRevision: this.compactRevision,
      keys,
      recs,
      lens: recs.map((r) => r.length),
      events: this.events,
      eventsLen: this.events.length,
      leases: [...this.leases.values()].map((l) => [l.id, l.ttl, [...l.keys]]),
    };
  }

  /** Replace the whole state by a snapshot (throws on a malformed one, leaving the state unchanged). */
  restore(snap: MvccSnapshot): void {
    if (!snap || (snap.v !== 1 && snap.v !== 2) || !Array.isArray(snap.keys)) throw new Error('mvcc: unsupported snapshot format');
    if (snap.v === 2 && !Array.isArray(snap.values)) throw new Error('mvcc: unsupported snapshot format');
    // v2: one Buffer per stored value, shared again by history and events.
    const bufs = snap.v === 2 ? snap.values!.map((v) => storeValue(v)) : [];
    const val = (v: string | number): Buffer => {
      if (typeof v === 'string') return storeValue(v);
      const b = bufs[v];
      if (b === undefined) throw new Error('mvcc: unsupported snapshot format');
      return b;
    };
    const rec = (x: SnapKV, tomb: boolean): Rec => ({ mod: x[2], sub: 0, create: x[1], version: x[3], value: val(x[4]), lease: x[5], tomb });
    const hist = new Map<string, Rec[]>();
    for (const [k, recs] of snap.keys) {
      hist.set(k, recs.map(([mod, sub, create, version, value, lease, tomb]) => ({ mod, sub, create, version, value: val(value), lease, tomb: tomb === 1 })));
    }
    const events = snap.events.map(([rev, evs]) => ({
      rev,
      events: evs.map(([t, k, p]): StoredEvent => ({ type: t === 0 ? 'PUT' : 'DELETE', key: k[0], rec: rec(k, t === 1), prev: p ? rec(p, false) : undefined })),
    }));
    const leases = new Map<string, Lease>();
    for (const [id, ttl, keys] of snap.leases) leases.set(id, { id, ttl, keys: new Set(keys) });
    this.revision = snap.revision;
    this.compactRevision = snap.compactRevision;
    this.keys = snap.keys.map(([k]) => k);
    this.hist = hist;
    this.events = events;
    this.leases.clear();
    for (const [id, l] of leases) this.leases.set(id, l);
    for (const fn of this.restoreListeners) fn();
  }

  // ------------------------------------------------------------------ writes

  apply(op: Op): ApplyResult {
    this.sub = 0;
    this.pending = [];
    this.pendingStored = [];
    try {
      const response = this.applyOp(op);
      return { revision: this.finish(), response };
    } catch (e) {
      if (e instanceof EtcdError) {
        this.rollbackPending();
        return { error: e.errorName, revision: this.revision };
      }
      throw e;
    }
  }

  private applyOp(op: Op): Record<string, unknown> {
    switch (op.type) {
      case 'put':
        this.checkPut(op);
        return this.put(op);
      case 'delete':
        return this.deleteRange(op);
      case 'txn':
        this.checkTxn(op);
        return this.txn(op) as unknown as Record<string, unknown>;
      case 'compact':
        this.compact(op.revision);
        return {};
      case 'leaseGrant':
        if (this.leases.has(op.id)) throw new EtcdError('LeaseExist');
        this.leases.set(op.id, { id: op.id, ttl: op.ttl, keys: new Set() });
        return { ID: op.id, TTL: op.ttl };
      case 'leaseRevoke': {
        const l = this.leases.get(op.id);
        if (!l) throw new EtcdError('LeaseNotFound');
        for (const k of [...l.keys].sort()) this.deleteKey(k);
        this.leases.delete(op.id);
        return {};
      }
      case 'memberAttr':
        return {}; // cluster metadata; handled by the server's applier
      default:
        throw new Error(`mvcc: unknown op ${(op as { type: string }).type}`);
    }
  }

  /** Validation that must fail the whole request before anything changes (etcd checks these before applying). */
  private checkPut(op: PutOp): void {
    if (op.lease !== '0' && !this.leases.has(op.lease)) throw new EtcdError('LeaseNotFound');
    if ((op.ignoreValue || op.ignoreLease) && !this.live(op.key)) throw new EtcdError('KeyNotFound');
  }

  private checkTxn(op: TxnOp): void {
    const ops = this.evalCompares(op.compare) ? op.success : op.failure;
    for (const o of ops) {
      if (o.type === 'put') this.checkPut(o);
      else if (o.type === 'txn') this.checkTxn(o);
      else if (o.type === 'range' && o.revision > 0) this.checkRev(o.revision);
    }
  }

  /** Bump the revision if anything changed and publish events. */
  private finish(): number {
    if (this.pending.length > 0) {
      this.revision++;
      const events = this.pending;
      this.pending = [];
      this.events.push({ rev: this.revision, events: this.pendingStored });
      this.pendingStored = [];
      for (const fn of this.listeners) fn(this.revision, events);
    }
    return this.revision;
  }

  private rollbackPending(): void {
    // Validation runs before any change, so nothing should be pending; stay safe.
    if (this.pending.length > 0) throw new Error('mvcc: error after partial write');
  }

  private put(op: PutOp): { prev_kv?: KeyValue } {
    const rev = this.revision + 1;
    const cur = this.live(op.key);
    const value = op.ignoreValue ? cur!.value : storeValue(op.value);
    const lease = op.ignoreLease ? cur!.lease : op.lease;
    if (cur && cur.lease !== '0' && cur.lease !== lease) this.leases.get(cur.lease)?.keys.delete(op.key);
    if (lease !== '0') this.leases.get(lease)!.keys.add(op.key);
    const rec: Rec = {
      mod: rev,
      sub: this.sub++,
      create: cur ? cur.create : rev,
      version: cur ? cur.version + 1 : 1,
      value,
      lease,
      tomb: false,
    };
    this.pushRec(op.key, rec);
    const prev = cur ? toKV(op.key, cur) : undefined;
    this.pending.push({ type: 'PUT', kv: toKV(op.key, rec), prev_kv: prev });
    this.pendingStored.push({ type: 'PUT', key: op.key, rec, prev: cur });
    return op.prevKv && prev ? { prev_kv: prev } : {};
  }

  private deleteRange(op: DeleteOp): { deleted: number; prev_kvs: KeyValue[] } {
    const prevs: KeyValue[] = [];
    for (const k of this.keysIn(op.key, op.rangeEnd)) {
      const prev = this.deleteKey(k);
      if (prev) prevs.push(prev);
    }
    return { deleted: prevs.length, prev_kvs: op.prevKv ? prevs : [] };
  }

  private deleteKey(k: string): KeyValue | undefined {
    const cur = this.live(k);
    if (!cur) return undefined;
    const rev = this.revision + 1;
    if (cur.lease !== '0') this.leases.get(cur.lease)?.keys.delete(k);
    const tomb: Rec = { mod: rev, sub: this.sub++, create: 0, version: 0, value: EMPTY, lease: '0', tomb: true };
    this.pushRec(k, tomb);
    const prev = toKV(k, cur);
    // The tombstone record materialises as etcd's delete kv (key and mod_revision only).
    this.pendingStored.push({ type: 'DELETE', key: k, rec: tomb, prev: cur });
    // etcd: a delete event's kv carries the key and the deletion revision only.
    this.pending.push({
      type: 'DELETE',
      kv: { key: prev.key, create_revision: 0, mod_revision: rev, version: 0, value: EMPTY, lease: '0' },
      prev_kv: prev,
    });
    return prev;
  }

  private txn(op: TxnOp): TxnResult {
    const ok = this.evalCompares(op.compare);
    const responses: ResponseOp[] = [];
    for (const o of ok ? op.success : op.failure) responses.push(this.txnOp(o));
    return { succeeded: ok, responses };
  }

  private txnOp(o: RequestOp): ResponseOp {
    switch (o.type) {
      case 'range':
        return { response_range: this.rangeAt(o, o.revision > 0 ? o.revision : this.pending.length > 0 ? this.revision + 1 : this.revision) };
      case 'put':
        return { response_put: this.put(o) };
      case 'delete':
        return { response_delete_range: this.deleteRange(o) };
      case 'txn':
        return { response_txn: this.txn(o) };
    }
  }

  private evalCompares(cs: CompareSpec[]): boolean {
    for (const c of cs) if (!this.evalCompare(c)) return false;
    return true;
  }

  /** etcd semantics: a compare over a range holds only if it holds for every key; a missing key compares as zero values (VALUE: false). */
  private evalCompare(c: CompareSpec): boolean {
    const keys = c.rangeEnd ? [...this.keysIn(c.key, c.rangeEnd)].filter((k) => this.live(k)) : [c.key];
    const recs = keys.map((k) => this.live(k)).filter((r): r is Rec => r !== undefined);
    if (recs.length === 0) {
      if (c.target === 'VALUE') return false;
      return this.compareOne(c, undefined);
    }
    return recs.every((r) => this.compareOne(c, r));
  }

  private compareOne(c: CompareSpec, r: Rec | undefined): boolean {
    let cmp: number;
    switch (c.target) {
      case 'VALUE':
        cmp = Buffer.compare(r ? r.value : EMPTY, Buffer.from(String(c.operand), 'latin1'));
        break;
      case 'LEASE':
        cmp = cmpBig(r ? r.lease : '0', String(c.operand));
        break;
      default: {
        const v = !r ? 0 : c.target === 'VERSION' ? r.version : c.target === 'CREATE' ? r.create : r.mod;
        cmp = Math.sign(v - Number(c.operand));
      }
    }
    switch (c.result) {
      case 'EQUAL':
        return cmp === 0;
      case 'NOT_EQUAL':
        return cmp !== 0;
      case 'GREATER':
        return cmp > 0;
      case 'LESS':
        return cmp < 0;
    }
  }

  /** Compact(rev): drop history before rev, keeping each key's state at rev (etcd semantics). */
  private compact(rev: number): void {
    if (rev <= this.compactRevision) throw new EtcdError('Compacted');
    if (rev > this.revision) throw new EtcdError('FutureRev');
    this.compactRevision = rev;
    const keep: string[] = [];
    for (const k of this.keys) {
      // New arrays, never in place: a snapshot cut may still hold the old ones (see `cut`).
      let recs = this.hist.get(k)!;
      let i = Math.max(0, lastAtOrBefore(recs, rev));
      if (i < recs.length && recs[i].mod <= rev && recs[i].tomb) i++;
      if (i > 0) {
        recs = recs.slice(i);
        this.hist.set(k, recs);
      }
      if (recs.length === 0) this.hist.delete(k);
      else keep.push(k);
    }
    this.keys = keep;
    let j = 0;
    while (j < this.events.length && this.events[j].rev < rev) j++;
    if (j > 0) this.events = this.events.slice(j);
  }

  // ------------------------------------------------------------------ reads

  /** Range (no state change). Throws EtcdError Compacted/FutureRev. */
  range(op: RangeOp): RangeResult & { revision: number } {
    const rev = op.revision > 0 ? op.revision : this.revision;
    this.checkRev(rev);
    return { ...this.rangeAt(op, rev), revision: this.revision };
  }

  private checkRev(rev: number): void {
    if (rev > this.revision) throw new EtcdError('FutureRev');
    if (rev < this.compactRevision) throw new EtcdError('Compacted');
  }

  private rangeAt(op: RangeOp, rev: number): RangeResult {
    let kvs: KeyValue[] = [];
    let count = 0;
    for (const k of this.keysIn(op.key, op.rangeEnd)) {
      const recs = this.hist.get(k)!;
      const i = lastAtOrBefore(recs, rev);
      if (i < 0 || recs[i].tomb) continue;
      const r = recs[i];
      count++;
      if (op.minModRevision > 0 && r.mod < op.minModRevision) continue;
      if (op.maxModRevision > 0 && r.mod > op.maxModRevision) continue;
      if (op.minCreateRevision > 0 && r.create < op.minCreateRevision) continue;
      if (op.maxCreateRevision > 0 && r.create > op.maxCreateRevision) continue;
      if (op.countOnly) continue;
      kvs.push(toKV(k, r, op.keysOnly));
    }
    let order = op.sortOrder;
    if (order === 'NONE' && op.sortTarget !== 'KEY') order = 'ASCEND';
    if (order !== 'NONE' && !(order === 'ASCEND' && op.sortTarget === 'KEY')) {
      const f = sortKey(op.sortTarget);
      kvs.sort((a, b) => {
        const x = f(a);
        const y = f(b);
        const c = typeof x === 'number' ? x - (y as number) : Buffer.compare(x as Buffer, y as Buffer);
        return order === 'DESCEND' ? -c : c;
      });
    }
    let more = false;
    if (op.limit > 0 && kvs.length > op.limit) {
      kvs = kvs.slice(0, op.limit);
      more = true;
    }
    return { kvs, more, count };
  }

  /** The live (not deleted) latest record of a key. */
  private live(k: string): Rec | undefined {
    const recs = this.hist.get(k);
    const r = recs?.[recs.length - 1];
    return r && !r.tomb ? r : undefined;
  }

  /** Current value of one key, for leases' TimeToLive keys and tests. */
  get(key: string): KeyValue | undefined {
    const r = this.live(key);
    return r && toKV(key, r);
  }

  /** Keys in [key, end) in byte order ('' end = just key, '\0' end = to the end). */
  *keysIn(key: string, end: string): Generator<string> {
    if (end === '') {
      if (this.hist.has(key)) yield key;
      return;
    }
    const all = end === '\0';
    const keys = this.keys;
    for (let i = lowerBound(keys, key); i < keys.length; i++) {
      const k = keys[i];
      if (!all && k >= end) return;
      yield k;
    }
  }

  /**
   * Events with revision >= from (watch catch-up). Throws Compacted if from is
   * before the compaction point.
   */
  eventsSince(from: number): { rev: number; events: MvccEvent[] }[] {
    if (from < this.compactRevision) throw new EtcdError('Compacted');
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[mid].rev < from) lo = mid + 1;
      else hi = mid;
    }
    const out: { rev: number; events: MvccEvent[] }[] = [];
    for (let i = lo; i < this.events.length; i++) out.push({ rev: this.events[i].rev, events: this.events[i].events.map(toEvent) });
    return out;
  }

  keyCount(): number {
    return this.keys.length;
  }

  private pushRec(k: string, r: Rec): void {
    let recs = this.hist.get(k);
    if (!recs) {
      recs = [];
      this.hist.set(k, recs);
      const i = lowerBound(this.keys, k);
      this.keys.splice(i, 0, k);
    }
    recs.push(r);
  }
}

function lowerBound(a: string[], k: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the last record with mod <= rev, or -1. */
function lastAtOrBefore(recs: Rec[], rev: number): number {
  let lo = 0;
  let hi = recs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (recs[mid].mod <= rev) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function toKV(k: string, r: Rec, keysOnly = false): KeyValue {
  return {
    key: Buffer.from(k, 'latin1'),
    create_revision: r.create,
    mod_revision: r.mod,
    version: r.version,
    value: keysOnly ? EMPTY : r.value,
    lease: r.lease,
  };
}

function sortKey(t: string): (kv: KeyValue) => number | Buffer {
  switch (t) {
    case 'VERSION':
      return (kv) => kv.version;
    case 'CREATE':
      return (kv) => kv.create_revision;
    case 'MOD':
      return (kv) => kv.mod_revision;
    case 'VALUE':
      return (kv) => kv.value;
    default:
      return (kv) => kv.key;
  }
}

function cmpBig(a: string, b: string): number {
  const x = BigInt(a || '0');
  const y = BigInt(b || '0');
  return x < y ? -1 : x > y ? 1 : 0;
}
