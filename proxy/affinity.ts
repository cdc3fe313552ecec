import { realClock, type Clock } from '../lib/clock';
import type { Balancer } from './balancer';
import type { Backend, ServicePortKey } from './desired';

interface Sticky {
  backend: Backend;
  /** Clock ms of the last connection or flow this entry decided. */
  lastUsed: number;
}

/**
 * `sessionAffinity: ClientIP` over another balancer. For a Service port with
 * affinity (`timeoutSeconds(target)` is defined), a client IP keeps getting
 * the backend it got last time while that backend is still in the ready list
 * and the client has used it within the timeout (counted from the last use,
 * as kube-proxy does); otherwise the inner balancer picks and the pick is
 * remembered. The remembered backend is the first candidate, the others
 * follow in ring order as fallbacks (without moving the inner cursor).
 *
 * Memory is bounded: expired entries are dropped on `retain` (every sync) and
 * each Service port keeps at most `maxClients` clients (least recently used
 * dropped first).
 */
export class ClientIPAffinity implements Balancer {
  private readonly table = new Map<ServicePortKey, Map<string, Sticky>>();

  constructor(
    private readonly inner: Balancer,
    private readonly timeoutSeconds: (target: ServicePortKey) => number | undefined,
    private readonly clock: Clock = realClock,
    private readonly maxClients = 65_536,
  ) {}

  candidates(target: ServicePortKey, backends: readonly Backend[], clientAddress: string | undefined, max: number): Backend[] {
    const timeout = this.timeoutSeconds(target);
    if (timeout === undefined || !clientAddress) {
      this.table.delete(target);
      return this.inner.candidates(target, backends, clientAddress, max);
    }
    let clients = this.table.get(target);
    if (!clients) this.table.set(target, (clients = new Map()));
    const now = this.clock.now();
    const entry = clients.get(clientAddress);
    if (entry && now - entry.lastUsed < timeout * 1000) {
      const i = backends.findIndex((b) => b.ip === entry.backend.ip && b.port === entry.backend.port);
      if (i >= 0) {
        entry.lastUsed = now;
        clients.delete(clientAddress);
        clients.set(clientAddress, entry);
        // fallbacks: the others in ring order after it (the inner cursor is not moved)
        const out: Backend[] = [];
        for (let k = 0; k < Math.min(backends.length, Math.max(1, max)); k++) out.push(backends[(i + k) % backends.length]!);
        return out;
      }
    }
    const picks = this.inner.candidates(target, backends, clientAddress, max);
    clients.delete(clientAddress);
    if (picks.length > 0) {
      clients.set(clientAddress, { backend: picks[0]!, lastUsed: now });
      if (clients.size > this.maxClients) clients.delete(clients.keys().next().value!);
    }
    return picks;
  }

  retain(targets: Set<ServicePortKey>): void {
    this.inner.retain(targets);
    const now = this.clock.now();
    for (const [target, clients] of this.table) {
      const timeout = this.timeoutSeconds(target);
      if (!targets.has(target) || timeout === undefined) {
        this.table.delete(target);
        continue;
      }
      for (const [ip, e] of clients) if (now - e.lastUsed >= timeout * 1000) clients.delete(ip);
    }
  }

  /** Clients remembered for a Service port (for tests and debugging). */
  clients(target: ServicePortKey): number {
    return this.table.get(target)?.size ?? 0;
  }
}
