import type { Backend, ServicePortKey } from './desired';

/**
 * Chooses backends for a new connection (or, later, a new UDP flow).
 * `candidates` returns the order in which to try backends: the first is the
 * pick, the rest are fallbacks if it refuses. Implementations must be cheap and
 * synchronous; `clientAddress` is there for sessionAffinity: ClientIP.
 */
export interface Balancer {
  candidates(target: ServicePortKey, backends: readonly Backend[], clientAddress: string | undefined, max: number): Backend[];
  /** Forget state for Service ports that no longer exist. */
  retain(targets: Set<ServicePortKey>): void;
}

/**
 * Round robin per Service port. The cursor survives endpoint changes (it is
 * taken modulo the new length), so an update does not send the next burst of
 * connections to the first backend again.
 */
export class RoundRobin implements Balancer {
  private readonly cursor = new Map<ServicePortKey, number>();

  candidates(target: ServicePortKey, backends: readonly Backend[], _clientAddress: string | undefined, max: number): Backend[] {
    const n = backends.length;
    if (n === 0) return [];
    const start = (this.cursor.get(target) ?? 0) % n;
    this.cursor.set(target, (start + 1) % n);
    const out: Backend[] = [];
    for (let i = 0; i < Math.min(n, Math.max(1, max)); i++) out.push(backends[(start + i) % n]);
    return out;
  }

  retain(targets: Set<ServicePortKey>): void {
    for (const k of this.cursor.keys()) if (!targets.has(k)) this.cursor.delete(k);
  }
}
