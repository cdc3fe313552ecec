import type { Logger } from 'pino';
import type { Balancer } from './balancer';
import type { Backend, ListenerSpec, Protocol, ServicePortKey } from './desired';
import type { ProxyMetrics } from './metrics';

/** What a listener needs from the proxy; backends are read per connection, so endpoint updates apply to new connections. */
export interface ListenerContext {
  backends(target: ServicePortKey): readonly Backend[];
  balancer: Balancer;
  metrics: ProxyMetrics;
  logger: Logger;
  /** Per-backend connect timeout. */
  dialTimeoutMs: number;
  /** How many backends one connection tries before giving up (bounded retry on refusal). */
  maxDialAttempts: number;
  /**
   * NetworkPolicy: whether `client` (the accepted socket's remote address) may
   * reach `backend` (client egress, backend ingress). Listeners offer only
   * admitted backends; none admitted is handled as a drop. Absent: all may.
   */
  admits?(client: string, backend: Backend, protocol: Protocol): boolean;
}

/**
 * One socket the proxy owns (TCP today; UDP and SCTP slot in as further
 * implementations). Lifecycle: `listen` (may reject, e.g. EADDRINUSE; the
 * caller retries with a fresh call), then `close`, which stops accepting and
 * drops every connection it proxies. `target` may be re-pointed while open.
 */
export interface Listener {
  readonly spec: ListenerSpec;
  target: ServicePortKey;
  listen(): Promise<void>;
  close(): Promise<void>;
  readonly activeConnections: number;
}

export type ListenerFactory = (spec: ListenerSpec, ctx: ListenerContext) => Listener;

export type ListenerFactories = Partial<Record<Protocol, ListenerFactory>>;
