/**
 * Hands out store leases for objects that expire (Events, after --event-ttl), sharing one
 * lease among the writes of about a minute instead of granting one per write, as
 * kube-apiserver's etcd3 lease manager does: a grant is a Raft round trip and every lease
 * costs the store a timer.
 *
 * A write that wants `ttl` seconds gets a lease granted for `ttl + reuse` seconds, where
 * reuse = min(5% of ttl, 60 s) (whole seconds). Later writes reuse that lease while it
 * expires between their `ttl` and `ttl + reuse` from now, and while it holds fewer than
 * `maxObjects` writes; so no object lives shorter than asked, nor more than `reuse` longer.
 * Time comes in from outside (`now`, ms). Grants are serialised: writes that arrive while a
 * grant is under way wait for it and then share its lease.
 */
export interface LeaseManagerOptions {
  /** Grants a store lease of this many seconds; resolves with its id. */
  grant(ttlSeconds: number): Promise<string>;
  now?: () => number;
  /** Upper bound of the reuse window (kube-apiserver: 60 s). */
  reuseSeconds?: number;
  /** Share of the TTL the reuse window may be (kube-apiserver: 0.05). */
  reusePercent?: number;
  /** Writes attached to one lease at most (kube-apiserver: 1000). */
  maxObjects?: number;
}

export class LeaseManager {
  private readonly grant: (ttlSeconds: number) => Promise<string>;
  private readonly now: () => number;
  private readonly reuseSeconds: number;
  private readonly reusePercent: number;
  private readonly maxObjects: number;
  private prev?: { id: string; expiresAt: number };
  private attached = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** Leases granted so far (for /metrics and tests). */
  granted = 0;

  constructor(o: LeaseManagerOptions) {
    this.grant = o.grant;
    this.now = o.now ?? Date.now;
    this.reuseSeconds = o.reuseSeconds ?? 60;
    this.reusePercent = o.reusePercent ?? 0.05;
    this.maxObjects = o.maxObjects ?? 1000;
  }

  /** The reuse window for a TTL, in whole seconds. */
  reuseFor(ttlSeconds: number): number {
    return Math.min(Math.floor(this.reusePercent * ttlSeconds), this.reuseSeconds);
  }

  /** A lease id for one write whose object should live `ttlSeconds` (> 0). */
  leaseFor(ttlSeconds: number): Promise<string> {
    const run = this.queue.then(() => this.pick(ttlSeconds));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async pick(ttl: number): Promise<string> {
    const now = this.now();
    const reuse = this.reuseFor(ttl);
    const prev = this.prev;
    this.attached++;
    if (prev && now + ttl * 1000 < prev.expiresAt && now + (ttl + reuse) * 1000 >= prev.expiresAt && this.attached <= this.maxObjects) return prev.id;
    const id = await this.grant(ttl + reuse);
    this.granted++;
    this.prev = { id, expiresAt: now + (ttl + reuse) * 1000 };
    this.attached = 1;
    return id;
  }
}
