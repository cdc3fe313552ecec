import type { Endpoints, Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { Logger } from 'pino';
import { Controller } from '../lib/reconcile/controller';
import type { AddressManager } from './addresses';
import { ClientIPAffinity } from './affinity';
import { RoundRobin, type Balancer } from './balancer';
import { ServiceHealthServers } from './health-check';
import { computeDesired, servicePortKey, type Backend, type DesiredState, type ListenerSpec, type ServicePortKey } from './desired';
import { sliceFromEndpoints } from './endpoints-from-slices';
import type { Listener, ListenerContext, ListenerFactories } from './listener';
import { ProxyMetrics, targetLabels } from './metrics';
import { tcpListener } from './tcp';
import { udpListener, type UdpOptions } from './udp';

/** Where the proxy reports trouble with a Service (lib/events' EventRecorder in the daemon). */
export interface ServiceEvents {
  event(svc: Service, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface ProxierOptions {
  logger: Logger;
  addresses: AddressManager;
  nodePortAddresses?: string[];
  /** This node's name (externalTrafficPolicy/internalTrafficPolicy Local keep to its endpoints; event messages). */
  nodeName?: string;
  /** The addresses this node's interfaces have, read at each sync (external.ts); none by default. */
  localAddresses?: () => Iterable<string>;
  /** Services (`namespace/name`) answered by the proxy itself: ClusterIP bound, no listeners (see DesiredOptions). */
  localServices?: Set<string>;
  balancer?: Balancer;
  metrics?: ProxyMetrics;
  /** Protocol → listener implementation; TCP and UDP by default. Protocols without one are skipped. */
  factories?: ListenerFactories;
  /** UDP flow idle timeout and flow cap, for the default UDP listener. */
  udp?: UdpOptions;
  /** Events on Services (e.g. a port that cannot be bound); none when absent. */
  events?: ServiceEvents;
  dialTimeoutMs?: number;
  maxDialAttempts?: number;
  /** NetworkPolicy's check before a listener dials a backend (see ListenerContext). */
  admits?: ListenerContext['admits'];
  /** Backoff for re-binding a listener that failed to bind: doubles from min to max. */
  bindRetryMinMs?: number;
  bindRetryMaxMs?: number;
}

interface Slot {
  listener: Listener;
  state: 'binding' | 'listening' | 'failed';
  lastError?: string;
  /** An event was recorded for this listener's bind failure (once per listener, not per retry). */
  reported?: boolean;
}

export interface ListenerStatus {
  key: string;
  target: ServicePortKey;
  kind: ListenerSpec['kind'];
  state: Slot['state'];
  activeConnections: number;
  lastError?: string;
}

/** The one key of the whole-node sync loop. */
const SYNC_KEY = 'node';

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name ?? ''}`;

/**
 * Keeps this node's proxy sockets equal to what the Services and EndpointSlices
 * ask for. Feed it objects (`upsert*`/`delete*`, from informers or a test) and
 * it reconciles: ClusterIPs are bound on the address manager before their
 * listeners open and released after the last one closes; listeners that fail
 * to bind are retried with backoff and never throw out of `sync`.
 *
 * Both loops run on lib/reconcile: the whole-node sync is one key of a
 * one-worker Controller (so reconciles never overlap, and requests during one
 * coalesce into one more), and re-binding a failed listener is a key per
 * listener of a second Controller, whose rate limiter is the bind backoff.
 */
export class Proxier {
  readonly metrics: ProxyMetrics;
  private readonly services = new Map<string, Service>();
  /** EndpointSlices by `namespace/name` of the slice. */
  private readonly slices = new Map<string, EndpointSlice>();
  private readonly slots = new Map<string, Slot>();
  /** ClusterIPs present on the address manager, mapped to whether this proxy added them (and so removes them). */
  private readonly boundIPs = new Map<string, boolean>();
  private backends = new Map<ServicePortKey, Backend[]>();
  /** ClientIP affinity timeouts (s) per Service port, from the last sync. */
  private affinity = new Map<ServicePortKey, number>();
  private readonly ctx: ListenerContext;
  private readonly factories: ListenerFactories;
  private readonly syncs: Controller;
  private readonly rebinds: Controller;
  /** Sync requests so far; a waiter of `sync()` is released by the first reconcile that started after its request. */
  private requested = 0;
  private readonly syncWaiters: { upTo: number; resolve: () => void }[] = [];
  private stopped = false;
  private readonly warnedProtocols = new Set<string>();
  /** Addresses the last sync wanted on lo (a failed listener on one re-binds it first). */
  private wantedIPs = new Set<string>();
  private readonly healthChecks: ServiceHealthServers;
  /** Wall-clock ms of the last completed reconcile (for /healthz). */
  lastSync = 0;

  constructor(private readonly opts: ProxierOptions) {
    this.metrics = opts.metrics ?? new ProxyMetrics();
    this.factories = opts.factories ?? { TCP: tcpListener, UDP: udpListener(opts.udp) };
    this.ctx = {
      backends: (t) => this.backends.get(t) ?? [],
      balancer: new ClientIPAffinity(opts.balancer ?? new RoundRobin(), (t) => this.affinity.get(t)),
      metrics: this.metrics,
      logger: opts.logger,
      dialTimeoutMs: opts.dialTimeoutMs ?? 5_000,
      maxDialAttempts: opts.maxDialAttempts ?? 3,
      admits: opts.admits,
    };
    this.healthChecks = new ServiceHealthServers({ logger: opts.logger, addresses: opts.nodePortAddresses ?? ['0.0.0.0'] });
    this.syncs = new Controller({ name: 'proxy-sync', workers: 1, reconcile: () => this.syncOnce() });
    this.rebinds = new Controller({
      name: 'proxy-rebind',
      workers: 1,
      baseDelayMs: opts.bindRetryMinMs ?? 500,
      maxDelayMs: opts.bindRetryMaxMs ?? 30_000,
      reconcile: (key) => this.rebind(key),
    });
    this.syncs.start();
    this.rebinds.start();
  }

  upsertService(svc: Service): void {
    this.services.set(keyOf(svc), svc);
    this.requestSync();
  }
  deleteService(svc: Service): void {
    this.services.delete(keyOf(svc));
    this.requestSync();
  }
  upsertEndpointSlice(slice: EndpointSlice): void {
    this.slices.set(keyOf(slice), slice);
    this.requestSync();
  }
  deleteEndpointSlice(slice: EndpointSlice): void {
    this.slices.delete(keyOf(slice));
    this.requestSync();
  }
  /**
   * Test shorthand: an Endpoints object stands for slices of its Service
   * (`sliceFromEndpoints`), replacing the ones it stood for before. The
   * daemon feeds slices only.
   */
  upsertEndpoints(eps: Endpoints): void {
    this.deleteEndpoints(eps);
    for (const s of sliceFromEndpoints(eps)) this.slices.set(`endpoints:${keyOf(s)}`, s);
    this.requestSync();
  }
  deleteEndpoints(eps: Endpoints): void {
    const prefix = `endpoints:${keyOf(eps)}-mirror-`;
    for (const k of [...this.slices.keys()]) if (k.startsWith(prefix)) this.slices.delete(k);
    this.requestSync();
  }

  /**
   * The ready backends of a Service port named by number or by name, as of the
   * last reconcile (the Ingress server's one lookup); undefined when the
   * Service or the port does not exist or the Service has no ClusterIP.
   */
  serviceBackends(namespace: string, name: string, port: { number?: number; name?: string }): { target: ServicePortKey; backends: readonly Backend[] } | undefined {
    const svc = this.services.get(`${namespace}/${name}`);
    const p = svc?.spec?.ports?.find((sp) => (port.number !== undefined ? sp.port === port.number : sp.name === port.name));
    if (!p) return undefined;
    const target = servicePortKey(namespace, name, p.name);
    const backends = this.backends.get(target);
    return backends ? { target, backends } : undefined;
  }

  /** Schedules a reconcile soon (coalescing bursts of changes). */
  requestSync(): void {
    if (this.stopped) return;
    this.requested++;
    this.syncs.enqueue(SYNC_KEY);
  }

  /** Reconciles now and resolves when the listeners match the objects fed so far. */
  async sync(): Promise<void> {
    if (this.stopped) return;
    this.requestSync();
    const upTo = this.requested;
    await new Promise<void>((resolve) => this.syncWaiters.push({ upTo, resolve }));
  }

  /** The one sync key's reconcile: never throws (a failed sync is logged; the next change retries). */
  private async syncOnce(): Promise<void> {
    const upTo = this.requested;
    try {
      if (!this.stopped) await this.reconcile(computeDesired(this.services.values(), this.slices.values(), { nodePortAddresses: this.opts.nodePortAddresses, nodeName: this.opts.nodeName, localAddresses: this.localAddresses(), localServices: this.opts.localServices }));
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message }, 'proxy sync failed');
    } finally {
      // waiters arrive in request order, so the ones this reconcile covers are a prefix
      while (this.syncWaiters.length && this.syncWaiters[0]!.upTo <= upTo) this.syncWaiters.shift()!.resolve();
    }
  }

  /** This node's addresses, less the ones this proxy added to lo (those it must keep treating as its own to bind). */
  private localAddresses(): Set<string> {
    const out = new Set(this.opts.localAddresses?.() ?? []);
    for (const [ip, owned] of this.boundIPs) if (owned) out.delete(ip);
    return out;
  }

  private async reconcile(desired: DesiredState): Promise<void> {
    const log = this.opts.logger;
    this.metrics.syncs.inc();
    // New conns see the new endpoints at once.
    this.backends = desired.backends;
    this.wantedIPs = desired.clusterIPs;
    this.affinity = desired.affinity;
    this.ctx.balancer.retain(new Set(desired.backends.keys()));

    // Close listeners that are no longer wanted (this drops their connections).
    for (const [key, slot] of this.slots) {
      if (desired.listeners.has(key)) continue;
      this.slots.delete(key);
      await slot.listener.close();
      log.info({ listener: key }, 'stopped listening');
    }
    // Release ClusterIPs nobody uses any more.
    for (const [ip, owned] of [...this.boundIPs]) {
      if (desired.clusterIPs.has(ip)) continue;
      try {
        if (owned) await this.opts.addresses.remove(ip);
        this.boundIPs.delete(ip);
      } catch (err) {
        log.warn({ ip, err: (err as Error).message }, 'cannot release ClusterIP');
      }
    }
    // Bind new ClusterIPs before listening on them.
    for (const ip of desired.clusterIPs) {
      if (this.boundIPs.has(ip)) continue;
      try {
        this.boundIPs.set(ip, await this.opts.addresses.ensure(ip));
      } catch (err) {
        log.warn({ ip, err: (err as Error).message }, 'cannot bind ClusterIP; its listeners will retry');
      }
    }
    // Open new listeners; re-point existing ones.
    for (const [key, spec] of desired.listeners) {
      const slot = this.slots.get(key);
      if (slot) {
        slot.listener.target = spec.target;
        continue;
      }
      const factory = this.factories[spec.protocol];
      if (!factory) {
        if (!this.warnedProtocols.has(spec.protocol)) log.warn({ protocol: spec.protocol }, 'protocol not supported by this proxy yet; skipping');
        this.warnedProtocols.add(spec.protocol);
        continue;
      }
      const fresh: Slot = { listener: factory(spec, this.ctx), state: 'binding' };
      this.slots.set(key, fresh);
      if (!(await this.bind(fresh, key))) this.rebinds.queue.addRateLimited(key);
    }
    await this.healthChecks.sync(desired.healthChecks);
    this.updateGauges();
    this.lastSync = Date.now();
  }

  /** Listens; on failure marks the slot failed and counts and logs the error. */
  private async bind(slot: Slot, key: string): Promise<boolean> {
    try {
      slot.state = 'binding';
      await slot.listener.listen();
      slot.state = 'listening';
      slot.lastError = undefined;
      this.opts.logger.info({ listener: key, target: slot.listener.target }, 'listening');
      return true;
    } catch (err) {
      slot.state = 'failed';
      slot.lastError = (err as Error).message;
      this.metrics.errors.inc({ ...targetLabels(slot.listener.target), protocol: slot.listener.spec.protocol, reason: 'bind_failed' });
      this.opts.logger.warn({ listener: key, err: slot.lastError }, 'cannot listen; will retry');
      this.reportBindFailure(slot, key);
      return false;
    }
  }

  /**
   * The rebind key's reconcile: a listener whose listen() failed is replaced by
   * a fresh one from the same factory (its ClusterIP bound first, if that had
   * failed too). Throws while it still fails, so the Controller retries it
   * with the bind backoff; a listener no longer wanted is dropped.
   */
  private async rebind(key: string): Promise<void> {
    const slot = this.slots.get(key);
    if (!slot || slot.state !== 'failed' || this.stopped) return;
    const spec = slot.listener.spec;
    const again: Slot = { listener: this.factories[spec.protocol]!(spec, this.ctx), state: 'binding', reported: slot.reported };
    again.listener.target = slot.listener.target;
    this.slots.set(key, again);
    if (this.wantedIPs.has(spec.address) && !this.boundIPs.has(spec.address)) {
      try {
        this.boundIPs.set(spec.address, await this.opts.addresses.ensure(spec.address));
      } catch {
        // bind() below fails and is retried
      }
    }
    if (this.slots.get(key) !== again || this.stopped) return;
    const ok = await this.bind(again, key);
    this.updateGauges();
    if (!ok) throw new Error(again.lastError);
  }

  /** One Warning event per failing listener on its Service (retries of the same listener do not repeat it). */
  private reportBindFailure(slot: Slot, key: string): void {
    if (slot.reported || !this.opts.events) return;
    slot.reported = true;
    const svc = this.services.get(slot.listener.target.slice(0, slot.listener.target.lastIndexOf(':')));
    if (!svc) return;
    const { protocol, address, port, kind } = slot.listener.spec;
    const where = this.opts.nodeName ? ` on node ${this.opts.nodeName}` : '';
    this.opts.events.event(svc, 'Warning', 'FailedToBind', `cannot listen on ${protocol} ${address}:${port} (${kind})${where}: ${slot.lastError}; retrying`);
  }

  /**
   * Takes over the ClusterIPs a previous run of the proxy added and left behind
   * (killed before it could clean up): they count as this proxy's own, so the
   * next sync removes those that no Service wants. Call once, after the
   * informers have synced and before the first `sync()`.
   */
  async adoptOwnedAddresses(): Promise<string[]> {
    let owned: string[] = [];
    try {
      owned = await this.opts.addresses.owned();
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'cannot list addresses left by an earlier run');
    }
    // also those a sync during the informers' first list found "already there"
    for (const ip of owned) this.boundIPs.set(ip, true);
    if (owned.length) this.opts.logger.info({ addresses: owned.length }, 'adopted ClusterIPs added by an earlier run');
    return owned;
  }

  private updateGauges(): void {
    this.metrics.listeners.reset();
    for (const s of this.slots.values()) if (s.state === 'listening') this.metrics.listeners.inc({ protocol: s.listener.spec.protocol });
  }

  /** A snapshot of the listeners, for tests and debugging. */
  status(): ListenerStatus[] {
    return [...this.slots.entries()].map(([key, s]) => ({
      key,
      target: s.listener.target,
      kind: s.listener.spec.kind,
      state: s.state,
      activeConnections: s.listener.activeConnections,
      lastError: s.lastError,
    }));
  }

  /** Closes every listener and removes the ClusterIPs this proxy added. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.syncs.stop(), this.rebinds.stop()]);
    await this.healthChecks.stop();
    for (const w of this.syncWaiters.splice(0)) w.resolve();
    for (const [key, slot] of this.slots) {
      await slot.listener.close();
      this.slots.delete(key);
    }
    for (const [ip, owned] of [...this.boundIPs]) {
      try {
        if (owned) await this.opts.addresses.remove(ip);
      } catch (err) {
        this.opts.logger.warn({ ip, err: (err as Error).message }, 'cannot release ClusterIP');
      }
      this.boundIPs.delete(ip);
    }
    this.updateGauges();
  }
}
