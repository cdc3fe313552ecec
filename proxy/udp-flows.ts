import type { Clock } from '../lib/clock';

/** One UDP flow as the table sees it: a client of a listener, stuck to one backend until idle. */
export interface Flow {
  /** Clock ms of the last datagram either way. */
  lastActive: number;
  /** Called once when the flow leaves the table (idle, evicted or removed); releases its socket. */
  close(reason: 'idle' | 'evicted' | 'removed'): void;
}

export interface FlowTableOptions {
  /** A flow with no datagram either way for this long is closed. */
  idleTimeoutMs: number;
  /** At most this many flows at once, over every UDP listener; the least recently active is evicted for a new one. */
  maxFlows: number;
  clock: Clock;
}

/** Recency order is refreshed at most this often per flow, so a busy flow costs a timestamp write per datagram, not a map update. */
const REORDER_MS = 1_000;

/**
 * The proxy's UDP flows, keyed by listener and client address. Each flow has
 * one idle timer, armed for the timeout and re-armed for the remainder when it
 * fires early (activity only writes `lastActive`). The table is bounded: a
 * flood of new clients evicts the least recently active flows (recency known
 * to within a second) instead of opening sockets without limit.
 */
export class FlowTable<F extends Flow> {
  private readonly flows = new Map<string, { flow: F; timer: unknown; ordered: number }>();

  constructor(private readonly opts: FlowTableOptions) {}

  get size(): number {
    return this.flows.size;
  }

  get(key: string): F | undefined {
    return this.flows.get(key)?.flow;
  }

  /** Marks traffic on a flow. */
  touch(key: string): void {
    const e = this.flows.get(key);
    if (!e) return;
    const now = this.opts.clock.now();
    e.flow.lastActive = now;
    if (now - e.ordered >= REORDER_MS) {
      e.ordered = now;
      this.flows.delete(key);
      this.flows.set(key, e);
    }
  }

  /** Adds a flow (replacing one with the same key); returns how many flows were evicted to make room. */
  add(key: string, flow: F): number {
    this.remove(key);
    let evicted = 0;
    while (this.flows.size >= Math.max(1, this.opts.maxFlows)) {
      const oldest = this.flows.keys().next().value!;
      this.drop(oldest, 'evicted');
      evicted++;
    }
    const now = this.opts.clock.now();
    flow.lastActive = now;
    const e = { flow, timer: undefined as unknown, ordered: now };
    this.flows.set(key, e);
    const arm = (ms: number) => {
      e.timer = this.opts.clock.setTimeout(() => {
        if (this.flows.get(key) !== e) return;
        const idle = this.opts.clock.now() - e.flow.lastActive;
        if (idle >= this.opts.idleTimeoutMs) this.drop(key, 'idle');
        else arm(this.opts.idleTimeoutMs - idle);
      }, ms);
    };
    arm(this.opts.idleTimeoutMs);
    return evicted;
  }

  /** Closes and forgets a flow, if it is there. */
  remove(key: string): void {
    this.drop(key, 'removed');
  }

  /** Closes and forgets every flow whose key starts with `prefix` (a listener's flows). */
  removePrefix(prefix: string): void {
    for (const key of [...this.flows.keys()]) if (key.startsWith(prefix)) this.drop(key, 'removed');
  }

  private drop(key: string, reason: 'idle' | 'evicted' | 'removed'): void {
    const e = this.flows.get(key);
    if (!e) return;
    this.flows.delete(key);
    this.opts.clock.clearTimeout(e.timer);
    e.flow.close(reason);
  }
}
