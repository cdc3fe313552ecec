import type { ClusterDnsConfig } from './pod-files';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import type { Logger } from '../lib/log';
import { podRef, referencedObjects } from './container-spec';
import type { KubeletMetrics } from './metrics';
import { StaticPodSources, type PodSources, type SourceChange } from './pod-sources';
import { ProbeManager, runtimeProbeRunner, type ProbeKind, type ProbeRunner } from './prober';
import { realClock, type Clock } from '../lib/clock';
import { WorkQueue } from '../lib/reconcile/workqueue';
import type { PodNetwork } from './pod-network';
import { PodRecord, type ListedContainers } from './pod-record';
import { PodSyncer, type PodEventSink, type PodStatusSink, type SyncResult } from './sync-pod';
import { VolumeManager } from './volumes';
import { LABEL_NODE, SANDBOX_CONTAINER_NAME, type ContainerRuntime, type RuntimeContainer, type RuntimeEvent } from './runtime';

export interface PodManagerOptions {
  runtime: ContainerRuntime;
  nodeName: string;
  nodeIP: string;
  sink: PodStatusSink;
  log: Logger;
  metrics?: KubeletMetrics;
  /** Clock (epoch ms); injectable for tests. */
  now?: () => number;
  /** Grace period for pods force-deleted from the API while their containers run. Default 2 s. */
  forceDeleteGraceSeconds?: number;
  /** ConfigMaps, Secrets, claims, tokens the pods reference. Default: none exist. */
  sources?: PodSources;
  /** Pod volume directories live in `<rootDir>/pods/<uid>`. Default: a temp dir. */
  rootDir?: string;
  /** Root of the tmpfs mounts of Secret/projected volumes (`<tmpfsRoot>/<uid>/...`). Default /run/coxswain/kubelet. */
  tmpfsRoot?: string;
  /** false: no tmpfs for secret and projected volumes (`--no-tmpfs-volumes`). */
  tmpfsVolumes?: boolean;
  /** Pod lifecycle events (Pulled, Created, Started, Killing, BackOff, Unhealthy, FailedMount, ...). */
  events?: PodEventSink;
  /** Probe timing (tests drive it); default real timers. */
  scheduler?: Clock;
  /** Timers of the pod workers' delayed syncs (a backoff's end; tests drive it); default real timers. */
  clock?: Clock;
  /** Probe attempts; default exec in the runtime, HTTP/TCP from the host. */
  probeRunner?: ProbeRunner;
  /** Dead instances kept per container (`--maximum-dead-containers-per-container`); default 1, < 0 = no limit. */
  maxPerPodContainer?: number;
  /** Told the image ID of every container started (image GC's record of what this node's pods use). */
  onImageUsed?: (imageId: string) => void;
  /** `--seccomp-default`: RuntimeDefault instead of Unconfined for pods and containers that name no seccomp profile. */
  seccompDefault?: boolean;
  /** `--cluster-dns`/`--cluster-domain` (pod-files.ts). */
  clusterDns?: ClusterDnsConfig;
}

/**
 * Runs the pods bound to this node on the container runtime, as the
 * kubelet's pod workers: each pod (by uid) has one record (pod-record.ts) and
 * its syncs go through a work queue keyed by uid (lib/reconcile), so a pod has
 * at most one sync in flight, a sync asked for while one runs makes it run
 * once more, and requests in between collapse; different pods sync in
 * parallel, each as soon as it is asked for. A pod's sync is
 * `PodSyncer.syncPod` (sync-pod.ts): observe, plan, act, report. Runtime state
 * is the source of truth, so a new manager adopts whatever is running.
 */
export class PodManager {
  private readonly log: Logger;
  private readonly now: () => number;
  /** One record per pod (by uid): everything known about it between syncs. */
  private readonly records = new Map<string, PodRecord>();
  /** Pods (by uid) to sync; a backoff's end comes back through `addAfter`. */
  private readonly queue: WorkQueue<string>;
  /** Syncs in flight (for `stop`). */
  private readonly inFlight = new Set<Promise<void>>();
  readonly volumes: VolumeManager;
  readonly probes: ProbeManager;
  private readonly syncer: PodSyncer;
  /** Orders node-wide listings and the ends of pod syncs (see PodRecord.listed). */
  private seq = 0;
  private sourcesReady = false;

  constructor(private readonly opts: PodManagerOptions) {
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.queue = new WorkQueue<string>({ clock: opts.clock ?? realClock });
    const sources = opts.sources ?? new StaticPodSources();
    this.volumes = new VolumeManager({
      rootDir: opts.rootDir ?? path.join(os.tmpdir(), `coxswain-kubelet-${opts.nodeName}`),
      nodeName: opts.nodeName,
      tmpfsRoot: opts.tmpfsRoot,
      tmpfs: opts.tmpfsVolumes,
      sources,
      runtime: opts.runtime,
      log: opts.log,
      now: this.now,
    });
    this.probes = new ProbeManager(
      opts.probeRunner ?? runtimeProbeRunner(opts.runtime),
      {
        onChange: (uid) => void this.enqueue(uid),
        onFailure: (pod, name, id, kind, message) => this.restartUnhealthy(pod, name, id, kind, message),
        onUnhealthy: (pod, _name, _kind, message) => opts.events?.event({ apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata }, 'Warning', 'Unhealthy', message),
      },
      opts.log.child({ part: 'prober' }),
      opts.scheduler ?? realClock,
    );
    this.syncer = new PodSyncer({ ...opts, sources, volumes: this.volumes, probes: this.probes, now: this.now });
    void this.runWorkers();
  }

  /** The pod network (set up for the node's podCIDR); pods but host-network ones wait until it is set. */
  setNetwork(net: PodNetwork): Promise<void> {
    return this.syncer.sandboxes.setNetwork(net);
  }

  /**
   * Declares that the set of desired pods is complete (the pod informer has
   * synced). Before that, containers of unknown pods are left alone, never
   * treated as orphans.
   */
  markSourcesReady(): void {
    this.sourcesReady = true;
  }

  /**
   * A pod bound to this node was added or changed in the API. Like kubelet, a
   * change of its status alone (most often this kubelet's own write coming back)
   * needs no sync: the copy is kept, the containers are left alone.
   */
  updatePod(pod: Pod): Promise<void> {
    const uid = pod.metadata?.uid;
    if (!uid) return Promise.resolve();
    const rec = this.recordFor(uid);
    const prev = rec.pod;
    rec.pod = pod;
    if (prev && !specChanged(prev, pod)) return rec.syncing ?? Promise.resolve();
    return this.enqueue(uid);
  }

  /** A pod disappeared from the API (deleted with grace 0, or by us after termination). */
  removePod(pod: Pod): Promise<void> {
    const uid = pod.metadata?.uid;
    if (!uid) return Promise.resolve();
    const rec = this.records.get(uid);
    if (rec?.pod) {
      rec.pod = undefined;
      rec.forceDeleted = true;
    }
    return this.enqueue(uid);
  }

  /** Whether the pod (by uid) is one this node runs: known from the API and not yet removed. */
  isLive(uid: string): boolean {
    return this.records.get(uid)?.pod !== undefined || !this.sourcesReady;
  }

  /** Removes the tmpfs volumes of pods that are gone from the API and from Docker (once the pod sources are ready). */
  async cleanupOrphanedVolumes(): Promise<string[]> {
    if (!this.sourcesReady) return [];
    return this.volumes.cleanupOrphanedTmpfs((uid) => this.isLive(uid));
  }

  getPod(uid: string): Pod | undefined {
    return this.records.get(uid)?.pod;
  }

  /** What the kubelet keeps about a pod between syncs (debugging, tests); undefined before it is seen and once it is forgotten. */
  record(uid: string): Readonly<PodRecord> | undefined {
    return this.records.get(uid);
  }

  /** Syncs one pod by uid and resolves when that sync (or the one it joined) finished. */
  sync(uid: string): Promise<void> {
    return this.enqueue(uid);
  }

  /** Syncs every desired pod and every pod the runtime has containers of (orphans, once sources are ready). */
  async syncAll(): Promise<void> {
    const uids = new Set([...this.desiredPods()].map(([uid]) => uid));
    const listedAt = this.now();
    const seq = ++this.seq;
    const containers = await this.opts.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName });
    this.syncer.sandboxes.reconcile(containers, listedAt);
    const byPod = new Map<string, RuntimeContainer[]>();
    for (const c of containers) if (c.podUid) byPod.set(c.podUid, [...(byPod.get(c.podUid) ?? []), c]);
    for (const uid of byPod.keys()) uids.add(uid);
    if (this.sourcesReady) for (const uid of await this.volumes.podUidsOnDisk()) uids.add(uid);
    // Records of pods gone from the API and the runtime that no sync forgot (their sources were not ready).
    for (const [uid, rec] of this.records) if (!rec.pod && !uids.has(uid) && !rec.syncing && rec.waiters.length === 0) this.records.delete(uid);
    this.updateGauges(containers);
    await Promise.all([...uids].map((uid) => this.enqueue(uid, { containers: byPod.get(uid) ?? [], seq })));
  }

  /** A ConfigMap, Secret, claim or volume changed: resync the pods that use it, so their volumes and env refresh at once. */
  objectChanged(...[kind, namespace, name]: Parameters<SourceChange>): void {
    for (const [uid, pod] of this.desiredPods()) {
      const claims = (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
      if (kind === 'PersistentVolume') {
        if (claims.length > 0) void this.enqueue(uid);
        continue;
      }
      if ((pod.metadata?.namespace ?? 'default') !== namespace) continue;
      const refs = referencedObjects(pod);
      const uses = kind === 'ConfigMap' ? refs.configMaps.has(name) : kind === 'Secret' ? refs.secrets.has(name) : claims.includes(name);
      if (uses) void this.enqueue(uid);
    }
  }

  /** A runtime event for one of our containers: resync its pod now. */
  onRuntimeEvent(ev: RuntimeEvent): void {
    // The start of a container this kubelet started is already followed by its own relist.
    if (ev.action === 'start' && this.syncer.startedByUs(ev.containerId)) return;
    if (ev.podUid) void this.enqueue(ev.podUid);
  }

  /**
   * Graceful node shutdown: stops syncing, then stops every pod's containers
   * and sandbox and reports the pod Failed with reason Terminated
   * (`PodSyncer.shutdownPod`), as kubelet's node shutdown manager does.
   */
  async shutdownPods(maxGraceSeconds: number): Promise<void> {
    await this.stop();
    await Promise.all(
      [...this.desiredPods()].map(async ([uid, pod]) => {
        try {
          await this.syncer.shutdownPod(this.recordFor(uid), pod, maxGraceSeconds);
        } catch (err) {
          this.log.error({ pod: podRef(pod), err: (err as Error).message }, 'cannot stop pod for node shutdown');
        }
      }),
    );
  }

  /** Stops scheduling syncs and waits for the ones in flight. Leaves containers running. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    this.probes.stop();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    // Syncs asked for but never begun: their callers stop waiting.
    for (const rec of this.records.values()) for (const resolve of rec.waiters.splice(0)) resolve();
  }

  /** The pod's record, made when the pod (or a container of it) is first seen. */
  private recordFor(uid: string): PodRecord {
    let rec = this.records.get(uid);
    if (!rec) this.records.set(uid, (rec = new PodRecord(uid, this.seq)));
    return rec;
  }

  /** The pods known from the API. */
  private *desiredPods(): Iterable<[string, Pod]> {
    for (const [uid, rec] of this.records) if (rec.pod) yield [uid, rec.pod];
  }

  /** Asks for a sync of the pod; resolves when a sync begun after this call ended (at once when stopped). */
  private enqueue(uid: string, listed?: ListedContainers): Promise<void> {
    // Anything but a node-wide resync (an event, a change) wants a fresh look at the runtime.
    const rec = this.recordFor(uid);
    rec.listed = listed;
    if (this.queue.isShuttingDown) return Promise.resolve();
    const done = new Promise<void>((resolve) => rec.waiters.push(resolve));
    this.queue.add(uid);
    return done;
  }

  /** Hands each pod taken from the queue to its own sync at once: pods sync in parallel, one sync per pod at a time. */
  private async runWorkers(): Promise<void> {
    for (let uid = await this.queue.get(); uid !== undefined; uid = await this.queue.get()) {
      const sync = this.process(uid);
      this.inFlight.add(sync);
      void sync.finally(() => this.inFlight.delete(sync));
    }
  }

  /** One sync of the pod taken from the queue; wakes those who asked for it and gives the key back. */
  private async process(uid: string): Promise<void> {
    const rec = this.recordFor(uid);
    const waiters = rec.waiters.splice(0);
    let ended = () => {};
    rec.syncing = new Promise<void>((resolve) => (ended = resolve));
    try {
      await this.syncOnce(rec);
    } finally {
      rec.syncing = undefined;
      ended();
      for (const resolve of waiters) resolve();
      // Asked for during the sync of a pod it forgot: they wait for the next sync, with the next record.
      if (rec.waiters.length > 0 && this.records.get(uid) !== rec) this.recordFor(uid).waiters.push(...rec.waiters.splice(0));
      this.queue.done(uid);
    }
  }

  /** Runs the pipeline once for the pod, then does what it asks: drop the record, or sync again when a backoff ends. */
  private async syncOnce(rec: PodRecord): Promise<void> {
    const end = this.opts.metrics?.podSyncDuration.startTimer({ operation: 'sync' });
    let result: SyncResult | undefined;
    try {
      result = await this.syncer.syncPod(rec, this.sourcesReady);
    } catch (err) {
      this.log.error({ podUid: rec.uid, err: (err as Error).message }, 'pod sync failed');
      this.opts.metrics?.runtimeErrors.inc({ operation_type: 'sync' });
    } finally {
      end?.();
    }
    rec.syncEndSeq = ++this.seq;
    if (result?.forget) {
      this.forget(rec);
      if (result.forget.keep) this.recordFor(rec.uid).pod = result.forget.keep;
    } else if (result?.resyncAt !== undefined) {
      this.queue.addAfter(rec.uid, Math.max(0, result.resyncAt - this.now()) + 50);
    }
  }

  /** A liveness or startup probe gave up on a container instance: the pod's next sync stops it and restarts it (with backoff). */
  private restartUnhealthy(pod: Pod, name: string, id: string, kind: ProbeKind, message: string): void {
    const uid = pod.metadata!.uid!;
    this.log.info({ pod: podRef(pod), container: name, probe: kind }, 'probe failed; the container will be restarted');
    this.recordFor(uid).unhealthy.set(id, message);
    void this.enqueue(uid);
  }

  /**
   * Drops everything known about a pod gone from the API and the runtime: its
   * record and its probe workers. A resync still pending for it finds no pod
   * and no containers, and forgets it again.
   */
  private forget(rec: PodRecord): void {
    this.probes.removePod(rec.uid);
    if (this.records.get(rec.uid) === rec) this.records.delete(rec.uid);
  }

  private updateGauges(containers: RuntimeContainer[]): void {
    const m = this.opts.metrics;
    if (!m) return;
    m.runningPods.set(containers.filter((c) => c.containerName === SANDBOX_CONTAINER_NAME && c.state === 'running').length);
    m.runningContainers.reset();
    for (const c of containers) if (c.containerName !== SANDBOX_CONTAINER_NAME) m.runningContainers.inc({ container_state: c.state });
  }
}

/** Whether anything but the status (and bookkeeping metadata) of the pod differs: what a sync acts on. */
export function specChanged(a: Pod, b: Pod): boolean {
  const m = (p: Pod) => [p.metadata?.labels, p.metadata?.annotations, p.metadata?.deletionTimestamp, p.metadata?.deletionGracePeriodSeconds, p.metadata?.ownerReferences];
  return JSON.stringify([a.spec, m(a)]) !== JSON.stringify([b.spec, m(b)]);
}
