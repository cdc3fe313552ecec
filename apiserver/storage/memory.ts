import {
  type Compare, type KeyValue, type ListResult, type Store, type StoreWatch, type TxnOp, type TxnResult,
  type WatchEvent, type WatchHandlers, CompactedError, FutureRevisionError,
} from './types';

/**
 * In-memory MVCC store with etcd semantics (global revision, txn compares, watch from a
 * revision with prev_kv, compaction). For unit tests of the REST layer; events are
 * delivered asynchronously (microtask), like a network store. It keeps no old values:
 * a list at an earlier revision than the current one is a CompactedError.
 */
export class MemoryStore implements Store {
  private revision = 1; // etcd starts at 1
  private compacted = 0;
  private readonly data = new Map<string, KeyValue>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<{ prefix: string; next: number; h: WatchHandlers }>();
  /** Leases by id: their TTL and the keys attached. They never expire on their own: tests call expireLease. */
  private readonly leases = new Map<string, { ttl: number; keys: Set<string> }>();
  private readonly keyLease = new Map<string, string>();
  private nextLease = 1;

  async get(key: string) {
    return { kv: this.data.get(key), revision: this.revision };
  }

  async list(prefix: string, opts: { revision?: number } = {}): Promise<ListResult> {
    if (opts.revision && opts.revision < this.revision) throw new CompactedError(opts.revision);
    if (opts.revision && opts.revision > this.revision) throw new FutureRevisionError(opts.revision);
    const kvs = [...this.data.values()].filter((kv) => kv.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : 1));
    return { kvs, revision: this.revision };
  }

  async txn(compares: Compare[], success: TxnOp[], failure: TxnOp[]): Promise<TxnResult> {
    const ok = compares.every((c) => {
      const kv = this.data.get(c.key);
      return (c.target === 'create' ? kv?.createRevision ?? 0 : kv?.modRevision ?? 0) === c.equals;
    });
    const ops = ok ? success : failure;
    const missing = ops.find((op) => 'put' in op && op.put.lease && op.put.lease !== '0' && !this.leases.has(op.put.lease));
    if (missing && 'put' in missing) throw new Error(`etcdserver: requested lease not found (${missing.put.lease})`);
    const writes = ops.some((op) => !('get' in op));
    const rev = writes ? this.revision + 1 : this.revision;
    const events: WatchEvent[] = [];
    const results = ops.map((op) => {
      if ('get' in op) return this.data.get(op.get.key);
      if ('put' in op) {
        const prev = this.data.get(op.put.key);
        const kv: KeyValue = { key: op.put.key, value: op.put.value, createRevision: prev?.createRevision ?? rev, modRevision: rev, version: (prev?.version ?? 0) + 1 };
        this.data.set(kv.key, kv);
        this.attach(kv.key, op.put.lease);
        events.push({ type: 'PUT', kv, prevKv: prev });
        return undefined;
      }
      const prev = this.data.get(op.delete.key);
      if (prev) {
        this.data.delete(op.delete.key);
        this.attach(op.delete.key, undefined);
        events.push({ type: 'DELETE', kv: { key: prev.key, value: Buffer.alloc(0), createRevision: 0, modRevision: rev, version: 0 }, prevKv: prev });
      }
      return prev;
    });
    if (events.length) {
      this.revision = rev;
      this.history.push(...events);
      queueMicrotask(() => this.dispatch());
    }
    return { succeeded: ok, revision: this.revision, results };
  }

  private attach(key: string, lease: string | undefined): void {
    const old = this.keyLease.get(key);
    if (old) this.leases.get(old)?.keys.delete(key);
    this.keyLease.delete(key);
    if (lease && lease !== '0') {
      this.leases.get(lease)!.keys.add(key);
      this.keyLease.set(key, lease);
    }
  }

  async grantLease(ttlSeconds: number): Promise<string> {
    const id = String(this.nextLease++);
    this.leases.set(id, { ttl: ttlSeconds, keys: new Set() });
    return id;
  }

  /** The lease a key is attached to, with its TTL (tests). */
  leaseOf(key: string): { id: string; ttl: number } | undefined {
    const id = this.keyLease.get(key);
    return id ? { id, ttl: this.leases.get(id)!.ttl } : undefined;
  }

  /** Expires a lease now: its keys are deleted in one revision, as etcd's revoke does (tests). */
  async expireLease(id: string): Promise<void> {
    const l = this.leases.get(id);
    if (!l) return;
    const keys = [...l.keys];
    if (keys.length) await this.txn([], keys.map((key) => ({ delete: { key } })), []);
    this.leases.delete(id);
  }

  private dispatch(): void {
    for (const w of this.watchers) {
      const evs = this.history.filter((e) => e.kv.modRevision >= w.next && e.kv.key.startsWith(w.prefix));
      w.next = this.revision + 1;
      if (evs.length) w.h.onEvents(evs, evs[evs.length - 1].kv.modRevision);
    }
  }

  watch(prefix: string, startRevision: number, h: WatchHandlers): StoreWatch {
    const w = { prefix, next: startRevision > 0 ? startRevision : this.revision + 1, h };
    if (startRevision > 0 && startRevision <= this.compacted) {
      queueMicrotask(() => h.onCompacted(this.compacted));
      return { cancel() {} };
    }
    this.watchers.add(w);
    queueMicrotask(() => this.dispatch());
    return { cancel: () => this.watchers.delete(w) };
  }

  async ping(): Promise<number> {
    return this.revision;
  }

  async compact(revision: number): Promise<void> {
    this.compacted = revision;
    while (this.history.length && this.history[0].kv.modRevision <= revision) this.history.shift();
  }

  async close(): Promise<void> {
    this.watchers.clear();
  }
}
