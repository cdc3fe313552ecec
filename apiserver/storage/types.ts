/**
 * The apiserver's view of the key-value store: the subset of etcd v3 semantics the
 * generic REST layer needs. Two implementations: `Etcd3Store` (gRPC, production; real
 * etcd or Coxswain's Raft store) and `MemoryStore` (unit tests).
 *
 * Revisions are plain numbers (etcd int64s; safe below 2^53).
 */

export interface KeyValue {
  key: string;
  value: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
}

export interface ListResult {
  kvs: KeyValue[];
  /** the store revision the list was read at */
  revision: number;
}

/** One comparison of a transaction; all must hold for the success branch to run. */
export type Compare =
  | { key: string; target: 'create'; equals: number } // create==0 means "key absent"
  | { key: string; target: 'mod'; equals: number };

/** A put may attach the key to a store lease (`lease`: its id, decimal): the key goes when the lease expires. */
export type TxnOp = { put: { key: string; value: Buffer; lease?: string } } | { delete: { key: string } } | { get: { key: string } };

export interface TxnResult {
  succeeded: boolean;
  /** revision after the txn (the mod revision of every put in it) */
  revision: number;
  /** per op of the branch that ran: the kv for `get`, the previous kv for `delete`, undefined for `put` */
  results: (KeyValue | undefined)[];
}

export interface WatchEvent {
  type: 'PUT' | 'DELETE';
  kv: KeyValue; // for DELETE: key + modRevision of the deletion, empty value
  prevKv?: KeyValue;
}

export interface WatchHandlers {
  /** A batch of events, all with revision > the last delivered one; batches are in revision order. */
  onEvents(events: WatchEvent[], revision: number): void;
  /** Progress: every event up to `revision` was delivered. */
  onProgress?(revision: number): void;
  /** The requested start revision is compacted; the watch is over. Callers relist. */
  onCompacted(compactRevision: number): void;
}

export interface StoreWatch {
  cancel(): void;
}

export interface Store {
  get(key: string): Promise<{ kv?: KeyValue; revision: number }>;
  /**
   * Every key with this prefix, at the current revision (or at `revision`: CompactedError
   * when that revision is compacted, FutureRevisionError when it is not reached yet).
   */
  list(prefix: string, opts?: { revision?: number; keysOnly?: boolean }): Promise<ListResult>;
  txn(compares: Compare[], success: TxnOp[], failure: TxnOp[]): Promise<TxnResult>;
  /**
   * Watch every key with `prefix` from `startRevision` (inclusive), with prev_kv.
   * The implementation keeps the watch alive across connection loss and endpoint
   * failover, resuming after the last delivered revision.
   */
  watch(prefix: string, startRevision: number, handlers: WatchHandlers): StoreWatch;
  /** Cheap liveness probe: resolves with the current revision when a store member answers. */
  ping(timeoutMs?: number): Promise<number>;
  compact?(revision: number): Promise<void>;
  /**
   * Grants a store lease of `ttlSeconds` (etcd's LeaseGrant) and resolves with its id (decimal).
   * Keys put with it are deleted, with watch events, when it expires.
   */
  grantLease?(ttlSeconds: number): Promise<string>;
  close(): Promise<void>;
}

/**
 * Why a store operation failed. Every error a `Store` throws on purpose is a `StoreError`;
 * callers branch with `instanceof`, never on message text.
 */
export abstract class StoreError extends Error {}

/** No endpoint answered within the operation's deadline (or the client is closed). */
export class StoreUnavailableError extends StoreError {
  override name = 'StoreUnavailableError';
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}

/** A read at a revision the store has compacted away (etcd's ErrCompacted). Callers relist. */
export class CompactedError extends StoreError {
  override name = 'CompactedError';
  constructor(readonly revision: number, message = `required revision ${revision} has been compacted`) {
    super(message);
  }
}

/** A read at a revision the store has not reached yet (etcd's ErrFutureRev). */
export class FutureRevisionError extends StoreError {
  override name = 'FutureRevisionError';
  constructor(readonly revision: number, message = `required revision ${revision} is a future revision`) {
    super(message);
  }
}

/** The end of a key range covering every key with `prefix` (etcd's prefix range_end). */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i]++;
      return end;
    }
  }
  return Buffer.from([0]);
}

// Convenience wrappers the REST layer uses.

export async function createKey(store: Store, key: string, value: Buffer): Promise<{ ok: true; revision: number } | { ok: false; current?: KeyValue }> {
  const r = await store.txn([{ key, target: 'create', equals: 0 }], [{ put: { key, value } }], [{ get: { key } }]);
  return r.succeeded ? { ok: true, revision: r.revision } : { ok: false, current: r.results[0] };
}

export async function updateKey(store: Store, key: string, value: Buffer, modRevision: number): Promise<{ ok: true; revision: number } | { ok: false; current?: KeyValue }> {
  const r = await store.txn([{ key, target: 'mod', equals: modRevision }], [{ put: { key, value } }], [{ get: { key } }]);
  return r.succeeded ? { ok: true, revision: r.revision } : { ok: false, current: r.results[0] };
}

export async function deleteKey(store: Store, key: string, modRevision?: number): Promise<{ ok: true; revision: number; prev?: KeyValue } | { ok: false; current?: KeyValue }> {
  const cmps: Compare[] = modRevision === undefined ? [] : [{ key, target: 'mod', equals: modRevision }];
  const r = await store.txn(cmps, [{ delete: { key } }], [{ get: { key } }]);
  return r.succeeded ? { ok: true, revision: r.revision, prev: r.results[0] } : { ok: false, current: r.results[0] };
}
