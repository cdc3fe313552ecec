import type { Logger } from '../lib/log';
import type { ApiObject } from './api-object';
import type { KeyValue, Store, StoreWatch, WatchEvent } from './storage/types';
import { withResourceVersion } from './stored-json';

/**
 * One watch cache per resource: a single store watch on the resource's key prefix feeds an
 * in-memory map of current objects plus a bounded history of events. Lists, gets (once
 * caught up) and every client watch are served from here, so N client watchers cost one
 * store watch.
 *
 * Invariants:
 * - `revision` is the highest store revision whose events for this prefix are all applied.
 * - `history` holds every event with revision in (oldestRevision, revision]; a client watch
 *   from RV >= oldestRevision can be served exactly, an older one gets 410 Expired.
 * - Objects are immutable once cached (handlers must copy before mutating); `json` is the
 *   object's serialisation with metadata.resourceVersion set, computed once per event.
 */

/** A stored object (written by the storage, so an ApiObject) with its key, serialisation and revision. */
export interface CachedObject { key: string; obj: ApiObject; json: string; rv: number }
export interface CacheEvent { type: 'ADDED' | 'MODIFIED' | 'DELETED'; obj: ApiObject; json: string; prev?: ApiObject; rv: number }
export type CacheListener = (ev: CacheEvent) => void;

export interface WatchCacheOptions {
  /** max events kept (default 20000) */
  capacity?: number;
  /** events younger than this are kept even beyond capacity (default 5 min) */
  minHistoryMs?: number;
  now?: () => number;
}

export function decodeKv(kv: KeyValue, rv = kv.modRevision): CachedObject {
  const text = kv.value.toString();
  const obj = JSON.parse(text) as ApiObject; // the storage wrote it (resources.ts encode)
  const stored = typeof obj.metadata === 'object' && obj.metadata !== null && !('resourceVersion' in obj.metadata);
  obj.metadata ??= {};
  obj.metadata.resourceVersion = String(rv);
  return { key: kv.key, obj, json: (stored && withResourceVersion(text, obj.metadata.resourceVersion)) || JSON.stringify(obj), rv };
}

export class WatchCache {
  readonly objects = new Map<string, CachedObject>();
  revision = 0;
  oldestRevision = 0;
  private history: (CacheEvent & { at: number })[] = [];
  private head = 0;
  private readonly listeners = new Set<CacheListener>();
  private readonly terminators = new Set<() => void>();
  private waiters: { rev: number; resolve: (ok: boolean) => void }[] = [];
  private watch?: StoreWatch;
  private stopped = false;
  private readyPromise?: Promise<void>;
  private readonly capacity: number;
  private readonly minHistoryMs: number;
  private readonly now: () => number;

  constructor(private readonly store: Store, readonly prefix: string, private readonly log: Logger, opts: WatchCacheOptions = {}) {
    this.capacity = opts.capacity ?? 20_000;
    this.minHistoryMs = opts.minHistoryMs ?? 5 * 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** Resolves once the initial list is loaded; retries the list until the store answers. */
  ready(): Promise<void> {
    this.readyPromise ??= this.load();
    return this.readyPromise;
  }

  private async load(): Promise<void> {
    for (let delay = 100; !this.stopped; delay = Math.min(delay * 2, 2_000)) {
      try {
        const { kvs, revision } = await this.store.list(this.prefix);
        this.objects.clear();
        for (const kv of kvs) this.objects.set(kv.key, decodeKv(kv));
        this.revision = revision;
        this.oldestRevision = revision;
        this.history = [];
        this.head = 0;
        this.watch = this.store.watch(this.prefix, revision + 1, {
          onEvents: (events) => this.apply(events),
          onProgress: (rev) => this.advance(rev),
          onCompacted: (rev) => this.relist(rev),
        });
        this.notifyWaiters();
        return;
      } catch (err) {
        this.log.warn({ err: String(err), prefix: this.prefix }, 'watch cache: initial list failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** The store compacted past us: reload, and end every client watch (they re-watch; old RVs get 410). */
  private relist(compactRev: number): void {
    this.log.warn({ prefix: this.prefix, compactRev }, 'watch cache: store watch compacted; relisting');
    this.watch?.cancel();
    for (const t of [...this.terminators]) t();
    this.readyPromise = this.load();
  }

  private apply(events: WatchEvent[]): void {
    const at = this.now();
    for (const e of events) {
      const rv = e.kv.modRevision;
      let ev: CacheEvent;
      if (e.type === 'PUT') {
        let c: CachedObject;
        try { c = decodeKv(e.kv); } catch (err) {
          this.log.error({ key: e.kv.key, err: String(err) }, 'watch cache: undecodable value; skipped');
          continue;
        }
        const prev = this.objects.get(e.kv.key);
        this.objects.set(e.kv.key, c);
        ev = { type: prev ? 'MODIFIED' : 'ADDED', obj: c.obj, json: c.json, prev: prev?.obj, rv };
      } else {
        const prev = this.objects.get(e.kv.key);
        this.objects.delete(e.kv.key);
        let base: CachedObject | undefined;
        try { base = e.prevKv ? decodeKv(e.prevKv, rv) : prev ? { ...prev, obj: { ...prev.obj, metadata: { ...prev.obj.metadata, resourceVersion: String(rv) } }, json: '' } : undefined; } catch { base = undefined; }
        if (!base) { this.revision = Math.max(this.revision, rv); continue; }
        const json = base.json || JSON.stringify(base.obj);
        ev = { type: 'DELETED', obj: base.obj, json, prev: prev?.obj, rv };
      }
      this.revision = Math.max(this.revision, rv);
      this.history.push({ ...ev, at });
      for (const l of this.listeners) {
        try { l(ev); } catch (err) { this.log.error({ err: String(err) }, 'watch cache listener failed'); }
      }
    }
    this.trim(at);
    this.notifyWaiters();
  }

  private advance(rev: number): void {
    if (rev > this.revision) {
      this.revision = rev;
      this.notifyWaiters();
    }
  }

  private trim(at: number): void {
    while (this.history.length - this.head > this.capacity && at - this.history[this.head].at > this.minHistoryMs) {
      this.oldestRevision = this.history[this.head].rv;
      this.head++;
    }
    // hard cap: 4x capacity regardless of age
    while (this.history.length - this.head > this.capacity * 4) {
      this.oldestRevision = this.history[this.head].rv;
      this.head++;
    }
    if (this.head > 1024 && this.head > this.history.length / 2) {
      this.history = this.history.slice(this.head);
      this.head = 0;
    }
  }

  private notifyWaiters(): void {
    if (!this.waiters.length) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (this.revision >= w.rev ? w.resolve(true) : still.push(w));
    this.waiters = still;
  }

  /** Resolves true once the cache is loaded and `revision >= rev`, false after `timeoutMs`. */
  async waitFor(rev: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const loaded = await Promise.race([
      this.ready().then(() => true),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(false), timeoutMs); }),
    ]);
    clearTimeout(timer);
    if (!loaded) return false;
    if (this.revision >= rev) return true;
    return new Promise((resolve) => {
      const w = { rev, resolve: (ok: boolean) => { clearTimeout(t); resolve(ok); } };
      const t = setTimeout(() => { this.waiters = this.waiters.filter((x) => x !== w); resolve(false); }, Math.max(0, deadline - Date.now()));
      this.waiters.push(w);
    });
  }

  get isLoaded(): boolean {
    return this.watch !== undefined;
  }

  get(key: string): CachedObject | undefined {
    return this.objects.get(key);
  }

  /** Current objects whose key starts with `prefix`. */
  list(prefix?: string): CachedObject[] {
    const out: CachedObject[] = [];
    for (const c of this.objects.values()) if (!prefix || c.key.startsWith(prefix)) out.push(c);
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  /**
   * Subscribe from `fromRev` (exclusive): replays buffered events newer than it, then live
   * events, with no gap. Returns undefined when `fromRev` is older than the history (410).
   * `onTerminate` is called if the cache must end all watches (relist after compaction).
   */
  subscribe(fromRev: number, listener: CacheListener, onTerminate: () => void): { replay: CacheEvent[]; cancel: () => void } | undefined {
    if (fromRev < this.oldestRevision) return undefined;
    const replay: CacheEvent[] = [];
    for (let i = this.head; i < this.history.length; i++) if (this.history[i].rv > fromRev) replay.push(this.history[i]);
    this.listeners.add(listener);
    this.terminators.add(onTerminate);
    return { replay, cancel: () => { this.listeners.delete(listener); this.terminators.delete(onTerminate); } };
  }

  get watcherCount(): number {
    return this.listeners.size;
  }

  stop(): void {
    this.stopped = true;
    this.watch?.cancel();
    for (const t of [...this.terminators]) t();
    for (const w of this.waiters) w.resolve(false);
    this.waiters = [];
  }
}
