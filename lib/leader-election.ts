import type { Lease, LeaseSpec } from 'kubernetes-types/coordination/v1';
import { ApiError, type ApiClient } from './client';
import { realClock, type Clock } from './clock';
import type { LeaderElector } from './leader';
import type { Logger } from './log';
import { LEASES, resourcePath } from './resources';
import { sleep } from './sleep';
import { rfc3339Micro } from './time';

/** The Lease reads and writes an elector needs; `update` is a PUT that fails with 409 on a stale resourceVersion. */
export interface LeaseClient {
  get(namespace: string, name: string): Promise<Lease | undefined>;
  create(lease: Lease): Promise<Lease>;
  update(lease: Lease): Promise<Lease>;
}

/** A LeaseClient over the apiserver; each request is abandoned after `timeoutMs`. */
export function apiLeaseClient(client: ApiClient, timeoutMs: number): LeaseClient {
  return {
    async get(namespace, name) {
      try {
        return await client.request<Lease>('GET', resourcePath(LEASES, { namespace, name }), { timeoutMs });
      } catch (err) {
        if (err instanceof ApiError && err.notFound) return undefined;
        throw err;
      }
    },
    // The Lease's own writes pass the write fence: they are how a candidate becomes leader.
    create: (lease) => client.request<Lease>('POST', resourcePath(LEASES, { namespace: lease.metadata?.namespace }), { body: lease, timeoutMs, unfenced: true }),
    update: (lease) => client.request<Lease>('PUT', resourcePath(LEASES, { namespace: lease.metadata?.namespace, name: lease.metadata?.name }), { body: lease, timeoutMs, unfenced: true }),
  };
}

export interface LeaseElectorOptions {
  client: LeaseClient;
  namespace: string;
  /** The Lease's name: kube-scheduler, kube-controller-manager. */
  name: string;
  /** This candidate's holderIdentity; unique per process (host name plus a random part). */
  identity: string;
  /** How long a non-leader waits after the last observed change before taking over. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failed renewal before giving up. Default 10 s. */
  renewDeadlineMs?: number;
  /** Interval between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Uniform [0, 1) source of the acquire jitter (tests pass `() => 0`). */
  rand?: () => number;
}

/** client-go's JitterFactor for the acquire loop: waits retryPeriod × [1, 2.2). */
const JITTER_FACTOR = 1.2;

/**
 * Lease-based leader election with client-go's semantics. A candidate takes
 * the Lease when it does not exist, has no holder (released), or has not
 * changed for leaseDurationSeconds as observed on this candidate's own clock
 * (so clock skew between hosts does not matter). The leader renews every
 * retryPeriod and gives up (`onStopped`) when no renewal succeeded for
 * renewDeadline, which is shorter than leaseDuration so it stops acting before
 * anyone else may start. On a graceful stop the leader releases the Lease
 * (empty holder), so a successor takes over at its next attempt.
 *
 * Safety does not rest on the run loop noticing in time: `leading()` is a
 * local check (no request) that a process makes before each write (see
 * ApiClient.fenceWrites). It counts the renew deadline from the moment the
 * last successful attempt *started*, which is no later than the Lease write
 * others observe, and a follower counts the lease duration from when its read
 * *answered*, which is no earlier. So a leader frozen (SIGSTOP, a paused VM)
 * at any point, even with a renewal in flight, finds on waking that its
 * deadline passed, before a successor's lease duration could have.
 */
export class LeaseElector implements LeaderElector {
  private readonly clock: Clock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private observed?: Lease;
  private observedSpec = '';
  private observedTime = 0;
  /** When this candidate's last successful acquire or renew started (its own clock). */
  private renewedAt = -Infinity;

  constructor(private readonly o: LeaseElectorOptions) {
    this.clock = o.clock ?? realClock;
    this.leaseDurationMs = o.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = o.retryPeriodMs ?? 2_000;
  }

  /** True while the last observed Lease names this candidate as holder. */
  isLeader(): boolean {
    return this.observed?.spec?.holderIdentity === this.o.identity;
  }

  /**
   * True only while this candidate may act: it holds the Lease and its last
   * successful acquire or renew started less than renewDeadline ago. Pure and
   * cheap; false at once after a freeze longer than the renew deadline.
   */
  leading(): boolean {
    return this.isLeader() && this.clock.now() - this.renewedAt < this.renewDeadlineMs;
  }

  async run(onStarted: () => void, onStopped: () => void, signal: AbortSignal): Promise<void> {
    const { logger, name, identity } = this.o;
    logger?.info({ lease: `${this.o.namespace}/${name}`, identity }, 'attempting to acquire leader lease');
    while (!(await this.attempt())) {
      await sleep(this.retryPeriodMs * (1 + (this.o.rand ?? Math.random)() * JITTER_FACTOR), signal, this.clock);
      if (signal.aborted) return;
    }
    if (signal.aborted) return this.release();
    logger?.info({ lease: `${this.o.namespace}/${name}`, identity }, 'acquired leader lease');
    onStarted();
    let lastRenew = this.renewedAt;
    for (;;) {
      await sleep(this.retryPeriodMs, signal, this.clock);
      if (signal.aborted) return this.release();
      const left = lastRenew + this.renewDeadlineMs - this.clock.now();
      if (left > 0 && (await this.withDeadline(this.attempt(), left))) {
        lastRenew = this.renewedAt;
      } else if (this.clock.now() - lastRenew >= this.renewDeadlineMs) {
        logger?.error({ lease: `${this.o.namespace}/${name}`, identity, renewDeadlineMs: this.renewDeadlineMs }, 'failed to renew leader lease: leadership lost');
        onStopped();
        return;
      }
    }
  }

  /** One tryAcquireOrRenew: true when this candidate holds the Lease afterwards. Never throws. */
  async attempt(): Promise<boolean> {
    try {
      return await this.tryAcquireOrRenew();
    } catch (err) {
      const level = err instanceof ApiError && err.conflict ? 'debug' : 'warn';
      this.o.logger?.[level]({ lease: `${this.o.namespace}/${this.o.name}`, err: (err as Error).message }, 'leader lease attempt failed');
      return false;
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.o;
    const started = this.clock.now();
    const t = rfc3339Micro(started);
    const leaseDurationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    const cur = await client.get(namespace, name);
    // A change is dated when the read answered: never earlier than the write it shows.
    const now = this.clock.now();
    if (!cur) {
      const spec: LeaseSpec = { holderIdentity: identity, leaseDurationSeconds, acquireTime: t, renewTime: t, leaseTransitions: 0 };
      this.observe(await client.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { namespace, name }, spec }), now);
      this.renewedAt = started;
      return true;
    }
    const spec = cur.spec ?? {};
    if (JSON.stringify(spec) !== this.observedSpec) this.observe(cur, now);
    const holder = spec.holderIdentity ?? '';
    const validUntil = this.observedTime + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder !== '' && holder !== identity && validUntil > now) return false;
    const next: LeaseSpec =
      holder === identity
        ? { ...spec, leaseDurationSeconds, renewTime: t }
        : { holderIdentity: identity, leaseDurationSeconds, acquireTime: t, renewTime: t, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 };
    this.observe(await client.update({ ...cur, spec: next }), now);
    this.renewedAt = started;
    return true;
  }

  private observe(lease: Lease, now: number): void {
    this.observed = lease;
    this.observedSpec = JSON.stringify(lease.spec ?? {});
    this.observedTime = now;
  }

  /** Gives the Lease up (empty holder, 1 s duration, as client-go's ReleaseOnCancel), if held. */
  private async release(): Promise<void> {
    const cur = this.observed;
    if (!cur || !this.isLeader()) return;
    this.renewedAt = -Infinity; // stop writing before the successor may start
    const t = rfc3339Micro(this.clock.now());
    try {
      this.observe(await this.o.client.update({ ...cur, spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: t, renewTime: t, leaseTransitions: cur.spec?.leaseTransitions ?? 0 } }), this.clock.now());
      this.o.logger?.info({ lease: `${this.o.namespace}/${this.o.name}` }, 'released leader lease');
    } catch (err) {
      this.o.logger?.warn({ lease: `${this.o.namespace}/${this.o.name}`, err: (err as Error).message }, 'failed to release leader lease');
    }
  }

  /** `p`, or false once `ms` passed on the clock. */
  private withDeadline(p: Promise<boolean>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => resolve(false), ms);
      void p.then((ok) => {
        this.clock.clearTimeout(timer);
        resolve(ok);
      });
    });
  }
}
