import type { ClusterDnsConfig } from './pod-files';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import type { ApiClient } from '../lib/client';
import type { Clock } from '../lib/clock';
import { EventRecorder } from '../lib/events';
import { Informer } from '../lib/informer';
import type { Logger } from '../lib/log';
import { PODS } from '../lib/resources';
import { sleep } from '../lib/sleep';
import { ContainerGC, DEFAULT_CONTAINER_GC_POLICY, DEFAULT_IMAGE_GC_POLICY, ImageGC, type ContainerGCPolicy, type ImageGCPolicy } from './gc';
import type { KubeletMetrics } from './metrics';
import { NodeLease } from './node-lease';
import { NodeManager } from './node-manager';
import { NodeRoutes } from './node-routes';
import type { NodeFacts } from './node-status';
import type { BridgePodNetwork } from './pod-network';
import { PodManager } from './pod-manager';
import { InformerPodSources } from './pod-sources';
import { LABEL_NODE, type ContainerRuntime } from './runtime';
import { StatusManager } from './status-manager';

/** The kubelet API server (server/server.ts): started before the node registers, so its port is in the node's status. */
export interface KubeletApiServer {
  /** Resolves with the bound port. */
  start(): Promise<number>;
  stop(): Promise<void>;
}

/** The kubelet's adapters (built by main.ts) and settings. */
export interface KubeletOptions {
  client: ApiClient;
  runtime: ContainerRuntime;
  /** The node's pod bridge, addressed once the node has its podCIDR. */
  network: BridgePodNetwork;
  /** The kubelet API (gRPC with mutual TLS: logs, exec, port-forward, stats); off when absent. */
  api?: KubeletApiServer;
  facts: NodeFacts;
  log: Logger;
  metrics: KubeletMetrics;
  /** The resync, GC and reconnect timers. */
  clock: Clock;
  /** Periodic full resync interval. */
  syncFrequencyMs: number;
  /** Node status writes (--node-status-update-frequency). */
  heartbeatMs?: number;
  /** Node Lease renewals (--node-lease-renew-interval) and the Lease's duration. */
  leaseRenewMs?: number;
  leaseDurationSeconds?: number;
  /** Pod volume directories: `<rootDir>/pods/<uid>/volumes/...`. */
  rootDir?: string;
  /** Dead-container GC policy and its period (default: Kubernetes' defaults, every minute). */
  containerGC?: Partial<ContainerGCPolicy> & { periodMs?: number };
  /** Image GC policy and its period (default: Kubernetes' defaults, every 5 minutes). */
  imageGC?: Partial<ImageGCPolicy> & { periodMs?: number };
  /**
   * Graceful node shutdown (`--shutdown-grace-period`): when > 0, `shutdown()`
   * stops every pod within this time and marks them Failed before the kubelet
   * exits. 0 (the default) leaves containers running for the next kubelet to adopt.
   */
  shutdownGracePeriodMs?: number;
  /** Interval of the full pass over the routes to other nodes' podCIDRs (default 30 s). */
  routeSyncPeriodMs?: number;
  /** `--seccomp-default`: RuntimeDefault instead of Unconfined for pods that name no seccomp profile. */
  seccompDefault?: boolean;
  /** `--cluster-dns`/`--cluster-domain`: the resolver of ClusterFirst pods. */
  clusterDns?: ClusterDnsConfig;
  /** false (`--no-tmpfs-volumes`): secret and projected volumes on disk, not tmpfs. */
  tmpfsVolumes?: boolean;
  /** Root of the tmpfs volume mounts (default /run/coxswain/kubelet). */
  tmpfsRoot?: string;
}

/**
 * The kubelet over the adapters main.ts hands it: node registration, heartbeats
 * and lease, the pod informer (pods bound to this node), the pod network set up
 * once the node has its podCIDR, host-gw routes to the other nodes' pods
 * (node-routes.ts), the pod manager (pod-manager.ts) fed by pod events, runtime
 * events and a periodic resync, container and image GC, and the kubelet API. `ready` is what /readyz reports.
 */
export class Kubelet {
  readonly nodeName: string;
  readonly node: NodeManager;
  readonly pods: PodManager;
  readonly status: StatusManager;
  readonly lease: NodeLease;
  readonly events: EventRecorder;
  readonly containerGC: ContainerGC;
  readonly imageGC: ImageGC;
  /** The node's pod bridge, addressed once the node has its podCIDR. */
  readonly network: BridgePodNetwork;
  private readonly informer: Informer<Pod & Record<string, unknown>>;
  private readonly stopper = new AbortController();
  private resyncTimer?: unknown;
  private eventsLoop?: Promise<void>;
  private healthy = false;
  /** The pending timer of each GC loop (one per kind). */
  private readonly gcTimers = new Map<string, unknown>();
  private readonly sources: InformerPodSources;
  /** Host-gw routes to every other node's podCIDR, and the node's NetworkUnavailable condition. */
  readonly routes: NodeRoutes;

  constructor(private readonly opts: KubeletOptions) {
    this.nodeName = opts.facts.name;
    this.node = new NodeManager(opts.client, opts.facts, opts.log.child({ part: 'node' }), { heartbeatMs: opts.heartbeatMs, metrics: opts.metrics, listImages: () => opts.runtime.listImages() });
    this.status = new StatusManager(opts.client, opts.log.child({ part: 'status' }), opts.metrics);
    this.lease = new NodeLease(opts.client, this.nodeName, opts.log.child({ part: 'lease' }), {
      renewMs: opts.leaseRenewMs,
      durationSeconds: opts.leaseDurationSeconds,
      nodeUid: () => this.node.uid,
      // Back in touch: report Ready now rather than at the next status write, so the node's taints come off at once.
      onRecovered: () => void this.node.heartbeat().catch((err: Error) => opts.log.warn({ err: err.message }, 'node status write failed')),
    });
    this.events = new EventRecorder(opts.client, 'kubelet', { host: this.nodeName, logger: opts.log });
    this.network = opts.network;
    const containerPolicy = { ...DEFAULT_CONTAINER_GC_POLICY, ...definedOnly(opts.containerGC ?? {}) };
    this.imageGC = new ImageGC({
      runtime: opts.runtime,
      nodeName: this.nodeName,
      policy: { ...DEFAULT_IMAGE_GC_POLICY, ...definedOnly(opts.imageGC ?? {}) },
      stateFile: opts.rootDir ? path.join(opts.rootDir, `image-gc-${this.nodeName}.json`) : undefined,
      log: opts.log.child({ part: 'image-gc' }),
      onFailure: (message) => this.events.event({ apiVersion: 'v1', kind: 'Node', metadata: { name: this.nodeName, uid: this.node.uid } }, 'Warning', 'FreeDiskSpaceFailed', message),
    });
    this.sources = new InformerPodSources(opts.client, { logger: opts.log, onChange: (kind, ns, name) => this.pods.objectChanged(kind, ns, name) });
    this.pods = new PodManager({
      seccompDefault: opts.seccompDefault,
      clusterDns: opts.clusterDns,
      tmpfsVolumes: opts.tmpfsVolumes,
      tmpfsRoot: opts.tmpfsRoot,
      maxPerPodContainer: containerPolicy.maxPerPodContainer,
      onImageUsed: (id) => this.imageGC.recordUse(id),
      runtime: opts.runtime,
      nodeName: this.nodeName,
      nodeIP: opts.facts.ip,
      sink: this.status,
      sources: this.sources,
      rootDir: opts.rootDir,
      events: this.events,
      log: opts.log.child({ part: 'pods' }),
      metrics: opts.metrics,
    });
    this.containerGC = new ContainerGC({
      runtime: opts.runtime,
      nodeName: this.nodeName,
      policy: containerPolicy,
      isLivePod: (uid) => this.pods.isLive(uid),
      log: opts.log.child({ part: 'container-gc' }),
    });
    this.informer = new Informer<Pod & Record<string, unknown>>(opts.client, PODS, {
      fieldSelector: `spec.nodeName=${this.nodeName}`,
      logger: opts.log,
    });
    this.routes = new NodeRoutes({
      client: opts.client,
      nodeName: this.nodeName,
      nodeIP: opts.facts.ip,
      node: this.node,
      events: this.events,
      log: opts.log.child({ part: 'routes' }),
      periodMs: opts.routeSyncPeriodMs,
      clock: opts.clock,
    });
    this.informer.on({
      add: (p) => void this.pods.updatePod(p),
      update: (_o, p) => {
        this.status.apiStatusChanged(p);
        void this.pods.updatePod(p);
      },
      delete: (p) => {
        if (p.metadata?.uid) this.status.forget(p.metadata.uid);
        void this.pods.removePod(p);
      },
    });
  }

  /** Ready (/readyz): the pod informer has synced and the node is not shutting down. */
  get ready(): boolean {
    return this.healthy;
  }

  async start(): Promise<void> {
    const { log } = this.opts;
    if (this.opts.api) this.opts.facts.kubeletPort = await this.opts.api.start();
    await this.node.register(this.stopper.signal);
    if (this.stopper.signal.aborted) return;
    this.node.startHeartbeats();
    this.lease.start();
    this.eventsLoop = this.watchRuntimeEvents();
    // The Service cache (service environment variables) fills while the pods are listed, as kubelet's service lister.
    void this.sources.getServices('default').catch(() => undefined);
    await this.informer.start();
    if (this.stopper.signal.aborted) return;
    this.pods.markSourcesReady();
    this.healthy = true;
    log.info({ node: this.nodeName, pods: this.informer.list().length }, 'pod informer synced');
    void this.setupNetwork();
    void this.routes.start();
    this.scheduleResync();
    // Orphaned pod volumes (tmpfs left by a killed kubelet or pods deleted meanwhile): once now, then with each container GC pass.
    void this.pods.cleanupOrphanedVolumes().catch((err: Error) => log.warn({ err: err.message }, 'orphaned volume cleanup failed'));
    this.scheduleGC('container', this.opts.containerGC?.periodMs ?? 60_000, async () => {
      await this.containerGC.collect();
      await this.pods.cleanupOrphanedVolumes();
    });
    this.scheduleGC('image', this.opts.imageGC?.periodMs ?? 300_000, () => this.imageGC.collect());
  }

  /** Runs a GC pass every `periodMs` (first one after `periodMs`) until stopped. */
  private scheduleGC(what: string, periodMs: number, pass: () => Promise<unknown>): void {
    if (periodMs <= 0) return;
    const tick = async () => {
      if (this.stopper.signal.aborted) return;
      try {
        await pass();
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message }, `${what} garbage collection failed`);
      }
      if (!this.stopper.signal.aborted) this.gcTimers.set(what, this.opts.clock.setTimeout(tick, periodMs));
    };
    this.gcTimers.set(what, this.opts.clock.setTimeout(tick, periodMs));
  }

  private async setupNetwork(): Promise<void> {
    const cidr = await this.node.waitForPodCIDR();
    let delay = 1_000;
    while (!this.stopper.signal.aborted) {
      try {
        await this.opts.runtime.releaseSubnet(cidr);
        await this.network.ensure(cidr);
        await this.pods.setNetwork(this.network);
        this.opts.log.info({ network: this.network.name, bridge: this.network.bridge, subnet: cidr }, 'pod network ready');
        await this.pods.syncAll();
        return;
      } catch (err) {
        this.opts.log.error({ network: this.network.name, err: (err as Error).message }, 'pod network setup failed; retrying');
        await sleep(delay, this.stopper.signal, this.opts.clock);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  private scheduleResync(): void {
    if (this.stopper.signal.aborted) return;
    this.resyncTimer = this.opts.clock.setTimeout(async () => {
      try {
        await this.pods.syncAll();
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message }, 'periodic resync failed');
      }
      this.scheduleResync();
    }, this.opts.syncFrequencyMs);
  }

  private async watchRuntimeEvents(): Promise<void> {
    const signal = this.stopper.signal;
    let delay = 500;
    let since: Date | undefined;
    while (!signal.aborted) {
      try {
        // After a reconnect, replay what happened while the stream was down.
        await this.opts.runtime.watchEvents({ [LABEL_NODE]: this.nodeName }, (ev) => {
          delay = 500;
          this.pods.onRuntimeEvent(ev);
        }, signal, since);
      } catch (err) {
        if (signal.aborted) break;
        this.opts.log.warn({ err: (err as Error).message }, 'runtime event stream failed; reconnecting');
      }
      if (signal.aborted) break;
      since = new Date(this.opts.clock.now() - 1_000);
      await sleep(delay, this.stopper.signal, this.opts.clock);
      delay = Math.min(delay * 2, 10_000);
    }
  }

  /**
   * The kubelet is going away. With a shutdown grace period (graceful node
   * shutdown), the node is reported NotReady ("node is shutting down"), every
   * pod is stopped (preStop, SIGTERM, SIGKILL after its grace period capped by
   * the shutdown period) and marked Failed with reason Terminated, then the
   * kubelet stops. Without one, containers keep running (see `stop`).
   */
  async shutdown(): Promise<void> {
    const periodMs = this.opts.shutdownGracePeriodMs ?? 0;
    if (periodMs > 0) {
      const log = this.opts.log;
      log.info({ shutdownGracePeriodSeconds: periodMs / 1000 }, 'node shutting down: stopping pods');
      this.healthy = false;
      if (this.resyncTimer) this.opts.clock.clearTimeout(this.resyncTimer);
      this.node.setNotReady('KubeletNotReady', 'node is shutting down');
      await this.node.heartbeat().catch((err: Error) => log.warn({ err: err.message }, 'cannot report the node NotReady'));
      await this.pods.shutdownPods(Math.max(1, Math.floor(periodMs / 1000)));
      log.info('pods stopped for node shutdown');
    }
    await this.stop();
  }

  /** Stops watching and syncing; containers keep running (a restarted kubelet adopts them). */
  async stop(): Promise<void> {
    this.stopper.abort();
    if (this.resyncTimer) this.opts.clock.clearTimeout(this.resyncTimer);
    for (const t of this.gcTimers.values()) this.opts.clock.clearTimeout(t);
    this.node.stop();
    this.lease.stop();
    await this.routes.stop();
    await this.informer.stop();
    await this.pods.stop();
    await this.sources.stop();
    await this.status.flush();
    this.status.stop();
    await this.eventsLoop;
    await this.opts.api?.stop();
  }
}

/** The object without its undefined fields (so they do not override defaults when spread). */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
