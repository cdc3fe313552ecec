import type { Endpoints, Service } from 'kubernetes-types/core/v1';
import type { Logger } from 'pino';
import { Forwarder, type Upstream } from './forward';
import { DnsHandler } from './handler';
import type { DnsMetrics } from './metrics';
import { DnsServer } from './server';
import { buildZone, type Zone } from './zone';

export interface ClusterDnsOptions {
  logger: Logger;
  /** The cluster domain, normalized (lib/cluster-dns normalizeClusterDomain). */
  domain: string;
  upstreams: Upstream[];
  metrics?: DnsMetrics;
  /** The Service whose ClusterIP this node answers on (kube-system/kube-dns). */
  service: { namespace: string; name: string };
  port?: number;
  /** Listen here instead of on the Service's ClusterIP (tests, benchmarks). */
  bindAddress?: string;
  /** Backoff for a listen that failed (the ClusterIP not yet on lo, the port taken): doubles from min to max. */
  retryMinMs?: number;
  retryMaxMs?: number;
  upstreamTimeoutMs?: number;
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name ?? ''}`;

/**
 * Cluster DNS on this node: fed Services and Endpoints by the proxy's
 * informers, it answers from a zone snapshot rebuilt lazily (at the first query
 * after a change, so a burst of changes costs one build), and keeps its sockets
 * on the DNS Service's ClusterIP, following it when it changes and retrying
 * with backoff while it cannot bind.
 */
export class ClusterDns {
  private readonly services = new Map<string, Service>();
  private readonly endpoints = new Map<string, Endpoints>();
  private snapshot?: Zone;
  private serial = 0;
  private readonly forwarder: Forwarder;
  private readonly handler: DnsHandler;
  private server?: DnsServer;
  /** The address the sockets are (or are being) bound to. */
  private target?: string;
  private retryTimer?: NodeJS.Timeout;
  private retryDelay = 0;
  private stopped = false;
  private binding: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ClusterDnsOptions) {
    this.forwarder = new Forwarder(opts.upstreams, opts.upstreamTimeoutMs);
    this.handler = new DnsHandler({ zone: () => this.zone(), forwarder: this.forwarder, metrics: opts.metrics, logger: opts.logger });
  }

  upsertService(svc: Service): void {
    this.services.set(keyOf(svc), svc);
    this.changed(svc);
  }
  deleteService(svc: Service): void {
    this.services.delete(keyOf(svc));
    this.changed(svc);
  }
  upsertEndpoints(eps: Endpoints): void {
    this.endpoints.set(keyOf(eps), eps);
    this.snapshot = undefined;
  }
  deleteEndpoints(eps: Endpoints): void {
    this.endpoints.delete(keyOf(eps));
    this.snapshot = undefined;
  }

  /** The current zone, rebuilt when something changed since the last query. */
  zone(): Zone {
    if (!this.snapshot) {
      this.snapshot = buildZone({
        domain: this.opts.domain,
        services: this.services.values(),
        endpoints: (ns, name) => this.endpoints.get(`${ns}/${name}`),
        dnsIP: this.address(),
        serial: ++this.serial,
      });
    }
    return this.snapshot;
  }

  /** Where DNS should listen: the bind address, else the DNS Service's ClusterIP (undefined while there is none). */
  private address(): string | undefined {
    if (this.opts.bindAddress) return this.opts.bindAddress;
    const svc = this.services.get(`${this.opts.service.namespace}/${this.opts.service.name}`);
    const ip = svc?.spec?.clusterIP;
    return ip && ip !== 'None' ? ip : undefined;
  }

  /** Where the sockets are bound, `ip:port`; undefined while not listening. */
  get listening(): string | undefined {
    return this.server?.bound;
  }

  private changed(svc: Service): void {
    this.snapshot = undefined;
    if (keyOf(svc) === `${this.opts.service.namespace}/${this.opts.service.name}` || this.opts.bindAddress) this.ensureListening();
  }

  /** Starts listening (or moves the sockets) when the wanted address differs from the bound one. Serialized. */
  ensureListening(): void {
    this.binding = this.binding.then(() => this.rebind());
  }

  /** Retries a failed listen now (called after the proxier has bound the ClusterIPs). */
  retryNow(): void {
    if (!this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.target = undefined;
    this.retryDelay = 0;
    this.ensureListening();
  }

  private async rebind(): Promise<void> {
    if (this.stopped) return;
    const want = this.address();
    if (want === this.target && (this.server || this.retryTimer)) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.server) {
      await this.server.close();
      this.opts.logger.info({ address: this.target }, 'cluster DNS stopped listening');
      this.server = undefined;
    }
    this.target = want;
    if (!want) return;
    const server = new DnsServer({ handler: this.handler, logger: this.opts.logger });
    try {
      await server.listen(want, this.opts.port ?? 53);
      this.server = server;
      this.retryDelay = 0;
      this.opts.logger.info({ address: server.bound, domain: this.opts.domain, upstreams: this.opts.upstreams.map((u) => `${u.host}:${u.port}`) }, 'cluster DNS listening');
    } catch (err) {
      this.retryDelay = Math.min(this.retryDelay ? this.retryDelay * 2 : (this.opts.retryMinMs ?? 250), this.opts.retryMaxMs ?? 10_000);
      this.opts.logger.warn({ address: `${want}:${this.opts.port ?? 53}`, err: (err as Error).message, retryMs: this.retryDelay }, 'cluster DNS cannot listen; will retry');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.target = undefined;
        this.ensureListening();
      }, this.retryDelay);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.binding;
    await this.server?.close();
    this.server = undefined;
    this.forwarder.close();
  }
}
