import type { Pod } from 'kubernetes-types/core/v1';
import { realClock, type Clock } from '../lib/clock';
import { mayHelp, pendingPodChanged, type ClusterEvent } from './cluster-events';

/** A pending pod as the queue holds it (kube-scheduler's QueuedPodInfo). */
export interface QueuedPod {
  key: string;
  /** The newest version the queue was given. */
  pod: Pod;
  /** Attempts handed out so far (the current one included, once popped). */
  attempts: number;
  /** When the pod last entered a queue (ms); backoff counts from here. */
  timestamp: number;
  /** When the pod first entered the queue (ms): the start of its scheduling latency. */
  initialTimestamp: number;
  /** Plugins that rejected it in its last attempt (empty: any event may help). */
  unschedulablePlugins: ReadonlySet<string>;
}

type Where = 'active' | 'backoff' | 'unschedulable' | 'inFlight';

interface Entry extends QueuedPod {
  where: Where;
  /** Position in the active heap while active. */
  heapIndex: number;
  /** Order of arrival in the active queue (the last tie-break). */
  seq: number;
  /** The scheduling cycle that popped it last. */
  cycle: number;
  /** The pod itself changed while it was being scheduled. */
  changedInFlight: boolean;
  /** The timer that moves it from backoff to active. */
  timer?: unknown;
  /** The pod's spec.priority and creation time (ms), read once per version for the heap's comparisons. */
  priority: number;
  created: number;
}

export interface SchedulingQueueOptions {
  clock?: Clock;
  /** Backoff after the first failed attempt (ms); doubles per attempt. Default 1 s. */
  initialBackoffMs?: number;
  /** Cap of the backoff (ms). Default 10 s. */
  maxBackoffMs?: number;
  /** A pod left unschedulable this long is retried anyway (ms). Default 5 min. */
  maxUnschedulableMs?: number;
  /** How often that is checked (ms). Default 30 s. */
  unschedulableFlushMs?: number;
}

export interface PendingCounts {
  active: number;
  backoff: number;
  unschedulable: number;
}

/** What orders a pod in activeQ: its spec.priority and its creation time (ms). */
function orderOf(p: Pod): { priority: number; created: number } {
  const t = Date.parse(p.metadata?.creationTimestamp ?? '');
  return { priority: p.spec?.priority ?? 0, created: Number.isNaN(t) ? 0 : t };
}

/** activeQ order: higher spec.priority first, then older pods, then arrival order. */
function before(a: Entry, b: Entry): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.created !== b.created) return a.created < b.created;
  return a.seq < b.seq;
}

/**
 * kube-scheduler's scheduling queue: `active` (a heap in `before` order) feeds `pop()`; a pod
 * whose attempt failed goes to the `unschedulable` pool until a cluster event that may help
 * it (`onEvent`) moves it to `backoff` (still within its per-pod exponential backoff) or
 * `active`; `backoff` pods move to `active` when their backoff ends. A pod whose attempt
 * overlapped such an event goes to `backoff` directly, so the event is not lost. Pods left
 * unschedulable for `maxUnschedulableMs` are retried anyway. Time comes from `clock`.
 */
export class SchedulingQueue {
  private readonly entries = new Map<string, Entry>();
  private readonly heap: Entry[] = [];
  private readonly getters: ((q: QueuedPod | undefined) => void)[] = [];
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxUnschedulableMs: number;
  private readonly flushMs: number;
  private seq = 0;
  private cycle = 0;
  /** The cycle during which the last move request (cluster event) arrived. */
  private moveRequestCycle = -1;
  private closed = false;
  private flushTimer: unknown;
  private counts: PendingCounts = { active: 0, backoff: 0, unschedulable: 0 };

  constructor(o: SchedulingQueueOptions = {}) {
    this.clock = o.clock ?? realClock;
    this.initialBackoffMs = o.initialBackoffMs ?? 1000;
    this.maxBackoffMs = o.maxBackoffMs ?? 10_000;
    this.maxUnschedulableMs = o.maxUnschedulableMs ?? 5 * 60_000;
    this.flushMs = o.unschedulableFlushMs ?? 30_000;
  }

  /** Starts the periodic flush of pods left unschedulable too long. */
  start(): void {
    const tick = () => {
      this.flushUnschedulableLeftover();
      this.flushTimer = this.clock.setTimeout(tick, this.flushMs);
    };
    if (this.flushTimer === undefined && !this.closed) this.flushTimer = this.clock.setTimeout(tick, this.flushMs);
  }

  /** Wakes every waiting `pop()` with undefined and stops all timers. */
  close(): void {
    this.closed = true;
    if (this.flushTimer !== undefined) this.clock.clearTimeout(this.flushTimer);
    for (const e of this.entries.values()) if (e.timer !== undefined) this.clock.clearTimeout(e.timer);
    for (const g of this.getters.splice(0)) g(undefined);
  }

  get pending(): PendingCounts {
    return { ...this.counts };
  }

  /** Where the pod at `key` is (undefined: not in the queue). */
  where(key: string): Where | undefined {
    return this.entries.get(key)?.where;
  }

  /** A new pending pod, or a newer version of one (see `update`). */
  add(key: string, pod: Pod): void {
    if (this.closed) return;
    const e = this.entries.get(key);
    if (e) return this.update(key, pod, pendingPodChanged(e.pod, pod));
    const now = this.clock.now();
    const n: Entry = { key, pod, attempts: 0, timestamp: now, initialTimestamp: now, unschedulablePlugins: new Set(), where: 'active', heapIndex: -1, seq: 0, cycle: -1, changedInFlight: false, ...orderOf(pod) };
    this.entries.set(key, n);
    this.toActive(n);
  }

  /**
   * A newer version of a queued pod. When `changed` (its labels or spec differ), an
   * unschedulable pod is moved to backoff or active, and one being scheduled goes to backoff
   * rather than the unschedulable pool if this attempt fails.
   */
  update(key: string, pod: Pod, changed: boolean): void {
    const e = this.entries.get(key);
    if (!e) return this.add(key, pod);
    const order = orderOf(pod);
    const reorder = e.where === 'active' && (e.priority !== order.priority || e.created !== order.created);
    e.pod = pod;
    e.priority = order.priority;
    e.created = order.created;
    if (reorder) {
      this.heapRemove(e);
      this.heapPush(e);
    }
    if (!changed) return;
    if (e.where === 'unschedulable') this.toActiveOrBackoff(e);
    else if (e.where === 'inFlight') e.changedInFlight = true;
  }

  /** The pod is gone, bound or no longer ours. */
  delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.leave(e);
    this.entries.delete(key);
  }

  /** The next pod to schedule (now in flight), waiting for one; undefined once closed. */
  pop(): Promise<QueuedPod | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const e = this.heap[0];
    if (e) {
      this.leave(e);
      return Promise.resolve(this.startAttempt(e));
    }
    return new Promise((resolve) => this.getters.push(resolve));
  }

  private startAttempt(e: Entry): QueuedPod {
    e.where = 'inFlight';
    e.attempts++;
    e.cycle = ++this.cycle;
    e.changedInFlight = false;
    return { key: e.key, pod: e.pod, attempts: e.attempts, timestamp: e.timestamp, initialTimestamp: e.initialTimestamp, unschedulablePlugins: e.unschedulablePlugins };
  }

  /** The attempt on `key` ended with the pod placed (or dropped): it leaves the queue. */
  done(key: string): void {
    const e = this.entries.get(key);
    if (e?.where === 'inFlight') this.entries.delete(key);
  }

  /**
   * The attempt on `key` failed because of `plugins`: the pod waits in the unschedulable pool
   * for an event that may help, or in backoff if an event arrived during the attempt. Ignored
   * if the pod was deleted meanwhile.
   */
  addUnschedulable(key: string, plugins: ReadonlySet<string>): void {
    const e = this.entries.get(key);
    if (!e || e.where !== 'inFlight' || this.closed) return;
    e.timestamp = this.clock.now();
    e.unschedulablePlugins = plugins;
    if (this.moveRequestCycle >= e.cycle || e.changedInFlight) this.toBackoff(e);
    else {
      e.where = 'unschedulable';
      this.counts.unschedulable++;
    }
  }

  /**
   * Retries `qp` after its backoff: its attempt hit an error, or its binding failed after it
   * had left the queue. A no-op when the queue holds the pod again already.
   */
  requeue(qp: QueuedPod): void {
    if (this.closed) return;
    let e = this.entries.get(qp.key);
    if (e && e.where !== 'inFlight') return;
    if (!e) {
      e = { ...qp, where: 'inFlight', heapIndex: -1, seq: 0, cycle: this.cycle, changedInFlight: false, ...orderOf(qp.pod) };
      this.entries.set(qp.key, e);
    }
    e.timestamp = this.clock.now();
    e.unschedulablePlugins = new Set();
    this.toBackoff(e);
  }

  /** A cluster event: unschedulable pods it may help move to backoff or active. */
  onEvent(event: ClusterEvent): void {
    this.moveRequestCycle = this.cycle;
    for (const e of this.entries.values()) if (e.where === 'unschedulable' && mayHelp(event, e.unschedulablePlugins)) this.toActiveOrBackoff(e);
  }

  /** Moves pods unschedulable for longer than `maxUnschedulableMs` (upstream's leftover flush). */
  flushUnschedulableLeftover(): void {
    const now = this.clock.now();
    for (const e of this.entries.values()) if (e.where === 'unschedulable' && now - e.timestamp >= this.maxUnschedulableMs) this.toActiveOrBackoff(e);
  }

  /** Backoff after `attempts` failed attempts: initial·2^(attempts−1), capped. */
  backoffMs(attempts: number): number {
    if (attempts <= 0) return 0;
    return Math.min(this.initialBackoffMs * 2 ** Math.min(attempts - 1, 30), this.maxBackoffMs);
  }

  private backoffExpiry(e: Entry): number {
    return e.timestamp + this.backoffMs(e.attempts);
  }

  private toActiveOrBackoff(e: Entry): void {
    if (this.backoffExpiry(e) > this.clock.now()) this.toBackoff(e);
    else {
      this.leave(e);
      this.toActive(e);
    }
  }

  private toBackoff(e: Entry): void {
    this.leave(e);
    const wait = this.backoffExpiry(e) - this.clock.now();
    if (wait <= 0) return this.toActive(e);
    e.where = 'backoff';
    this.counts.backoff++;
    e.timer = this.clock.setTimeout(() => {
      e.timer = undefined;
      if (this.entries.get(e.key) !== e || e.where !== 'backoff') return;
      this.leave(e);
      this.toActive(e);
    }, wait);
  }

  private toActive(e: Entry): void {
    const getter = this.getters.shift();
    if (getter) return getter(this.startAttempt(e));
    e.where = 'active';
    e.seq = ++this.seq;
    this.counts.active++;
    this.heapPush(e);
  }

  /** Takes `e` out of whatever queue holds it (it stays in `entries`). */
  private leave(e: Entry): void {
    if (e.where === 'active') {
      this.heapRemove(e);
      this.counts.active--;
    } else if (e.where === 'backoff') {
      if (e.timer !== undefined) this.clock.clearTimeout(e.timer);
      e.timer = undefined;
      this.counts.backoff--;
    } else if (e.where === 'unschedulable') this.counts.unschedulable--;
    e.where = 'inFlight';
  }

  private heapPush(e: Entry): void {
    e.heapIndex = this.heap.length;
    this.heap.push(e);
    this.siftUp(e.heapIndex);
  }

  private heapRemove(e: Entry): void {
    const i = e.heapIndex;
    if (i < 0) return;
    const last = this.heap.pop()!;
    e.heapIndex = -1;
    if (last === e) return;
    this.heap[i] = last;
    last.heapIndex = i;
    this.siftUp(i);
    this.siftDown(last.heapIndex);
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i];
    const b = this.heap[j];
    this.heap[i] = b;
    this.heap[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(this.heap[i], this.heap[parent])) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < this.heap.length && before(this.heap[l], this.heap[best])) best = l;
      if (r < this.heap.length && before(this.heap[r], this.heap[best])) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }
}
