import { ApiError, type KubeObject } from '../client';
import type { Clock } from '../clock';
import type { EventRecorder } from '../events';
import type { Logger } from '../log';
import type { ControllerMetrics } from './metrics';
import { isTerminal, terminalReason } from './terminal';
import { WorkQueue } from './workqueue';

/** What a reconcile may ask for besides success: to be run again after a delay. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

/**
 * A level-triggered reconcile: given a key it reads the current state (from
 * informer caches), computes the desired state and writes the difference. It
 * must be idempotent. Throwing requeues the key with backoff, except a
 * terminal error (`TerminalError`, or an ApiError 400/422), which is recorded
 * and not retried.
 */
export type Reconciler = (key: string) => Promise<ReconcileResult | void>;

export interface ControllerOptions {
  name: string;
  reconcile: Reconciler;
  workers?: number;
  logger?: Logger;
  metrics?: ControllerMetrics;
  clock?: Clock;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Records a terminal failure as a Warning event on the key's object. */
  recorder?: EventRecorder;
  /** The object a key names (with apiVersion and kind), for that event; undefined if gone. */
  objectFor?: (key: string) => KubeObject | undefined;
}

/**
 * Runs `workers` loops that take keys from one work queue and reconcile them.
 * Informer handlers call `enqueue`; the queue collapses duplicates and never
 * hands one key to two workers at once.
 */
export class Controller {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  private readonly workers: number;
  private running: Promise<void>[] = [];

  constructor(private readonly opts: ControllerOptions) {
    this.name = opts.name;
    this.workers = opts.workers ?? 2;
    this.queue = new WorkQueue<string>({ clock: opts.clock, baseDelayMs: opts.baseDelayMs ?? 5, maxDelayMs: opts.maxDelayMs ?? 30_000 });
    opts.metrics?.trackDepth(opts.name, () => this.queue.length);
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  /** Starts the workers; resolves when `stop()` has drained them. */
  start(): void {
    for (let i = 0; i < this.workers; i++) this.running.push(this.worker());
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.running);
  }

  /** Processes one key (exposed for tests). */
  async processOne(key: string): Promise<void> {
    const { metrics, logger } = this.opts;
    const end = metrics?.duration.startTimer({ controller: this.name });
    try {
      const res = await this.opts.reconcile(key);
      this.queue.forget(key);
      if (res && res.requeueAfterMs !== undefined) {
        this.queue.addAfter(key, res.requeueAfterMs);
        metrics?.reconciles.inc({ controller: this.name, result: 'requeue' });
      } else {
        metrics?.reconciles.inc({ controller: this.name, result: 'success' });
      }
    } catch (err) {
      if (isTerminal(err)) {
        this.recordTerminal(key, err);
        return;
      }
      const delay = this.queue.addRateLimited(key);
      metrics?.reconciles.inc({ controller: this.name, result: 'error' });
      metrics?.retries.inc({ controller: this.name });
      // A conflict means our cache was stale: routine, retried at once-ish.
      const level = err instanceof ApiError && err.conflict ? 'debug' : 'warn';
      logger?.[level]({ controller: this.name, object: key, err: (err as Error).message, retryInMs: delay }, 'reconcile failed; requeued');
    } finally {
      end?.();
    }
  }

  /** Forgets `key` (no retry) and records why: metric, log line, Warning event. */
  private recordTerminal(key: string, err: unknown): void {
    const { metrics, logger, recorder, objectFor } = this.opts;
    this.queue.forget(key);
    const message = err instanceof Error ? err.message : String(err);
    const reason = terminalReason(err);
    metrics?.reconciles.inc({ controller: this.name, result: 'terminal' });
    logger?.warn({ controller: this.name, object: key, reason, err: message }, 'reconcile failed terminally; not retried');
    const obj = recorder ? objectFor?.(key) : undefined;
    if (obj) recorder?.event(obj, 'Warning', reason, message);
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.processOne(key);
      } finally {
        this.queue.done(key);
      }
    }
  }
}
