/**
 * A rate-limited work queue with client-go `workqueue` semantics:
 *
 * - `add(key)` while the key is waiting is a no-op (duplicates collapse: the
 *   `dirty` set);
 * - a key handed out by `get()` is in `processing` until `done(key)`; adding it
 *   meanwhile marks it dirty, and `done` puts it back in the queue, so one key
 *   is never processed by two workers at once and no change is lost;
 * - `addRateLimited(key)` re-adds after a per-key exponential backoff
 *   (base·2^failures, capped); `forget(key)` resets the failure count;
 * - `addAfter(key, ms)` adds once the delay has passed (a later, shorter delay
 *   for the same key wins);
 * - `shutDown()` wakes all waiting `get()`s, which resolve to undefined.
 *
 * Time comes from an injectable `Clock`, so tests drive delays without sleeping.
 */

import { realClock, type Clock } from '../clock';

export interface WorkQueueOptions {
  /** First retry delay of `addRateLimited` (ms). Default 5. */
  baseDelayMs?: number;
  /** Cap of the per-key retry delay (ms). Default 60 000. */
  maxDelayMs?: number;
  clock?: Clock;
}

export class WorkQueue<K = string> {
  private readonly queue: K[] = [];
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly failures = new Map<K, number>();
  private readonly waiting = new Map<K, { at: number; handle: unknown }>();
  private readonly getters: ((k: K | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly clock: Clock;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
  }

  /** Keys waiting to be handed out (not counting those being processed or delayed). */
  get length(): number {
    return this.queue.length;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.handOut(key);
  }

  /** Gives a dirty, not-processing `key` to a waiting worker, or queues it. */
  private handOut(key: K): void {
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(key);
      this.processing.add(key);
      getter(key);
    } else {
      this.queue.push(key);
    }
  }

  /**
   * Resolves to the next key (now in `processing`), or undefined once the queue
   * is shut down. The caller must call `done(key)` when finished with it.
   */
  get(): Promise<K | undefined> {
    if (this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `key` finished; if it was added while processing, it is queued again. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.handOut(key);
  }

  /** Adds `key` after `ms` milliseconds; an earlier pending deadline for the key is kept. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const prev = this.waiting.get(key);
    if (prev && prev.at <= at) return;
    if (prev) this.clock.clearTimeout(prev.handle);
    const handle = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { at, handle });
  }

  /** The delay the next `addRateLimited(key)` would use (and counts the failure). */
  private nextDelay(key: K): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const d = this.baseDelayMs * Math.pow(2, Math.min(n, 40));
    return Math.min(d, this.maxDelayMs);
  }

  /** Re-adds `key` after its backoff: base·2^failures, capped at maxDelayMs. */
  addRateLimited(key: K): number {
    const d = this.nextDelay(key);
    this.addAfter(key, d);
    return d;
  }

  /** Clears the failure count of `key` (call after a successful reconcile). */
  forget(key: K): void {
    this.failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const w of this.waiting.values()) this.clock.clearTimeout(w.handle);
    this.waiting.clear();
    for (const g of this.getters.splice(0)) g(undefined);
  }
}
