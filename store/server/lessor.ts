import type { Lease } from '../mvcc/mvcc';

/** Lease TTLs above this are refused (etcd's MaxLeaseTTL, seconds). */
export const MAX_LEASE_TTL = 9_000_000_000;

/**
 * The leader-local lease clock (etcd's lessor): when each lease expires, kept only
 * on the leader and never replicated. Grants and revokes are log entries; on
 * promotion every lease gets a full TTL from then; an expired lease is revoked
 * through the log (the caller proposes the revoke for each id `takeExpired`
 * returns). Time comes in as `now` (ms since epoch).
 */
export class LeaseClock {
  /** Lease id -> expiry (ms since epoch). */
  private readonly expiry = new Map<string, number>();
  /** Leases whose revoke has been proposed and not yet applied or failed. */
  private readonly revoking = new Set<string>();

  /** Became leader: every lease gets a full TTL from now (etcd's lessor Promote). */
  promote(leases: Iterable<Lease>, now: number): void {
    this.demote();
    for (const l of leases) this.expiry.set(l.id, now + l.ttl * 1000);
  }

  /** No longer leader: forget every expiry. */
  demote(): void {
    this.expiry.clear();
    this.revoking.clear();
  }

  /** A grant was applied on the leader. */
  granted(id: string, ttlSeconds: number, now: number): void {
    this.expiry.set(id, now + ttlSeconds * 1000);
  }

  /** A revoke was applied on the leader. */
  revoked(id: string): void {
    this.expiry.delete(id);
    this.revoking.delete(id);
  }

  /** KeepAlive: a full TTL from now. */
  keepAlive(id: string, ttlSeconds: number, now: number): void {
    this.expiry.set(id, now + ttlSeconds * 1000);
  }

  /** TimeToLive: whole seconds left (a lease not on the clock counts as just renewed). */
  remaining(id: string, ttlSeconds: number, now: number): number {
    const exp = this.expiry.get(id) ?? now + ttlSeconds * 1000;
    return Math.max(0, Math.ceil((exp - now) / 1000));
  }

  /** Leases expired at `now` whose revoke is not yet under way; they are marked as being revoked. */
  takeExpired(now: number): string[] {
    const out: string[] = [];
    for (const [id, exp] of this.expiry) {
      if (exp > now || this.revoking.has(id)) continue;
      this.revoking.add(id);
      out.push(id);
    }
    return out;
  }

  /** Proposing the revoke failed; it is retried on the next expiry check. */
  revokeFailed(id: string): void {
    this.revoking.delete(id);
  }
}
