import os from 'node:os';
import path from 'node:path';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import type { Logger } from '../lib/log';
import { rfc3339 } from '../lib/time';
import { podGracePeriodSeconds, podRef, referencedObjects } from './container-spec';
import type { PodObjects, PreparedVolume } from './pod-inputs';
import { ContainerStarter, type SandboxState } from './container-start';
import { ContainerStopper, SANDBOX_STOP_SECONDS } from './container-stop';
import type { KubeletMetrics } from './metrics';
import { StaticPodSources, type PodSources, type SourceChange } from './pod-sources';
import { computePodActions, computePodStatus, type PodActions, type WaitingReason } from './pod-sync';
import { serviceEnvVars, servicesForPod } from './service-env';
import { ProbeManager, runtimeProbeRunner, type ProbeKind, type ProbeRunner } from './prober';
import { realClock, type Clock } from '../lib/clock';
import type { PodNetwork } from './pod-network';
import { SandboxStarter } from './sandbox-start';
import { TerminationMessages } from './termination-message';
import { VolumeError } from './volume-payloads';
import { VolumeManager } from './volumes';
import {
  LABEL_NODE,
  LABEL_POD_UID,
  SANDBOX_CONTAINER_NAME,
  type ContainerRuntime,
  type RuntimeContainer,
  type RuntimeEvent,
} from './runtime';

/** Where the pod manager sends its results; the status manager in production, a fake in tests. */
export interface PodStatusSink {
  /** The status computed after a sync; the sink decides whether it must be written. Never throws. */
  setStatus(pod: Pod, status: PodStatus): void;
  /** Removes a terminated pod from the API (DELETE, grace 0, uid precondition). Throws to be retried. */
  deletePod(pod: Pod): Promise<void>;
}

/** Where pod lifecycle events go (lib/events.ts EventRecorder in production). Never throws. */
export interface PodEventSink {
  event(obj: { apiVersion?: string; kind?: string; metadata?: Pod['metadata'] }, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

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
  /** Probe attempts; default exec in the runtime, HTTP/TCP from the host. */
  probeRunner?: ProbeRunner;
  /** Dead instances kept per container (`--maximum-dead-containers-per-container`); default 1, < 0 = no limit. */
  maxPerPodContainer?: number;
  /** Told the image ID of every container started (image GC's record of what this node's pods use). */
  onImageUsed?: (imageId: string) => void;
  /** `--seccomp-default`: RuntimeDefault instead of Unconfined for pods and containers that name no seccomp profile. */
  seccompDefault?: boolean;
}

/** Status of pods stopped by a graceful node shutdown (Kubernetes' wording). */
export const NODE_SHUTDOWN_REASON = 'Terminated';
export const NODE_SHUTDOWN_MESSAGE = 'Pod was terminated in response to imminent node shutdown.';

interface Worker {
  again: boolean;
  done: Promise<void>;
}

/**
 * Runs pods on the container runtime. Each pod (by uid) has at most one sync in
 * flight; a sync asked for while one runs makes it run once more (collapsing).
 * A sync reads the runtime state, asks the pure core what to do, does it, and
 * hands the resulting status to the sink. Runtime state is the source of truth:
 * the manager keeps only desired pods, last statuses and waiting reasons, so a
 * new manager adopts whatever is running. Starting one container is
 * container-start.ts, stopping container-stop.ts; the sandbox is handled here.
 */
export class PodManager {
  private readonly runtime: ContainerRuntime;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly pods = new Map<string, Pod>();
  private readonly workers = new Map<string, Worker>();
  private readonly waiting = new Map<string, Map<string, WaitingReason>>();
  private readonly lastStatus = new Map<string, PodStatus>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly forceDeleted = new Set<string>();
  private readonly objectCache = new Map<string, PodObjects>();
  private readonly backoffEvents = new Map<string, number>();
  /** Container instances the prober gave up on, stopped by the pod's next sync (one sync per pod at a time). */
  private readonly unhealthy = new Map<string, Map<string, string>>();
  readonly volumes: VolumeManager;
  readonly probes: ProbeManager;
  private readonly starter: ContainerStarter;
  private readonly stopper: ContainerStopper;
  /** Termination messages of dead containers (they never change). */
  private readonly termMessages: TerminationMessages;
  private readonly sources: PodSources;
  private readonly sandboxes: SandboxStarter;
  /**
   * A pod's containers from the last node-wide listing (`syncAll`), used by its
   * next sync instead of a listing of its own when the listing began after that
   * pod's previous sync ended (`seq` orders both): one Docker call per resync, not one per pod.
   */
  private readonly listed = new Map<string, { containers: RuntimeContainer[]; seq: number }>();
  private readonly syncEndSeq = new Map<string, number>();
  /** Containers this kubelet is starting: their runtime start events are its own doing. */
  private readonly ownStarts = new Set<string>();
  private seq = 0;
  private sourcesReady = false;
  private stopped = false;

  constructor(private readonly opts: PodManagerOptions) {
    this.runtime = opts.runtime;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.sources = opts.sources ?? new StaticPodSources();
    this.volumes = new VolumeManager({
      rootDir: opts.rootDir ?? path.join(os.tmpdir(), `coxswain-kubelet-${opts.nodeName}`),
      nodeName: opts.nodeName,
      tmpfsRoot: opts.tmpfsRoot,
      tmpfs: opts.tmpfsVolumes,
      sources: this.sources,
      runtime: opts.runtime,
      log: opts.log,
      now: this.now,
    });
    this.probes = new ProbeManager(
      opts.probeRunner ?? runtimeProbeRunner(opts.runtime),
      {
        onChange: (uid) => void this.enqueue(uid),
        onFailure: (pod, name, id, kind, message) => void this.restartUnhealthy(pod, name, id, kind, message),
        onUnhealthy: (pod, name, _kind, message) => this.event(pod, 'Warning', 'Unhealthy', message, name),
      },
      opts.log.child({ part: 'prober' }),
      opts.scheduler ?? realClock,
    );
    const event = (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string) => this.event(pod, type, reason, message);
    this.starter = new ContainerStarter({
      runtime: opts.runtime,
      nodeName: opts.nodeName,
      nodeIP: opts.nodeIP,
      log: opts.log,
      volumes: this.volumes,
      metrics: opts.metrics,
      onImageUsed: opts.onImageUsed,
      event,
      trace: (uid, phase) => this.trace(uid, phase),
      seccompDefault: opts.seccompDefault,
      onStarting: (id) => this.startingOurselves(id),
    });
    this.sandboxes = new SandboxStarter({
      runtime: opts.runtime,
      nodeName: opts.nodeName,
      log: opts.log,
      metrics: opts.metrics,
      seccompDefault: opts.seccompDefault,
      now: this.now,
      event,
      trace: (uid, phase) => this.trace(uid, phase),
      onStarting: (id) => this.startingOurselves(id),
    });
    this.stopper = new ContainerStopper({
      runtime: opts.runtime,
      log: opts.log,
      event,
      podIP: (pod) => this.lastStatus.get(pod.metadata!.uid!)?.podIP ?? pod.status?.podIP,
    });
    this.termMessages = new TerminationMessages(opts.runtime, opts.log);
  }

  private event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, _container?: string): void {
    this.opts.events?.event({ apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata }, type, reason, message);
  }

  /** The pod network (set up for the node's podCIDR); pods but host-network ones wait until it is set. */
  setNetwork(net: PodNetwork): Promise<void> {
    return this.sandboxes.setNetwork(net);
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
    const prev = this.pods.get(uid);
    this.pods.set(uid, pod);
    if (prev && !specChanged(prev, pod)) return this.workers.get(uid)?.done ?? Promise.resolve();
    return this.enqueue(uid);
  }

  /** A pod disappeared from the API (deleted with grace 0, or by us after termination). */
  removePod(pod: Pod): Promise<void> {
    const uid = pod.metadata?.uid;
    if (!uid) return Promise.resolve();
    if (this.pods.delete(uid)) this.forceDeleted.add(uid);
    return this.enqueue(uid);
  }

  /** Whether the pod (by uid) is one this node runs: known from the API and not yet removed. */
  isLive(uid: string): boolean {
    return this.pods.has(uid) || !this.sourcesReady;
  }

  /** Removes the tmpfs volumes of pods that are gone from the API and from Docker (once the pod sources are ready). */
  async cleanupOrphanedVolumes(): Promise<string[]> {
    if (!this.sourcesReady) return [];
    return this.volumes.cleanupOrphanedTmpfs((uid) => this.isLive(uid));
  }

  getPod(uid: string): Pod | undefined {
    return this.pods.get(uid);
  }

  /** Syncs one pod by uid and resolves when that sync (or the one it joined) finished. */
  sync(uid: string): Promise<void> {
    return this.enqueue(uid);
  }

  /** Syncs every desired pod and every pod the runtime has containers of (orphans, once sources are ready). */
  async syncAll(): Promise<void> {
    const uids = new Set(this.pods.keys());
    const listedAt = this.now();
    const seq = ++this.seq;
    const containers = await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName });
    this.sandboxes.reconcile(containers, listedAt);
    const byPod = new Map<string, RuntimeContainer[]>();
    for (const c of containers) if (c.podUid) byPod.set(c.podUid, [...(byPod.get(c.podUid) ?? []), c]);
    for (const uid of byPod.keys()) uids.add(uid);
    if (this.sourcesReady) for (const uid of await this.volumes.podUidsOnDisk()) uids.add(uid);
    for (const uid of this.syncEndSeq.keys()) if (!uids.has(uid) && !this.workers.has(uid)) this.syncEndSeq.delete(uid);
    this.updateGauges(containers);
    await Promise.all([...uids].map((uid) => this.enqueue(uid, { containers: byPod.get(uid) ?? [], seq })));
  }

  /** A ConfigMap, Secret, claim or volume changed: resync the pods that use it, so their volumes and env refresh at once. */
  objectChanged(...[kind, namespace, name]: Parameters<SourceChange>): void {
    for (const [uid, pod] of this.pods) {
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
    if (ev.action === 'start' && this.ownStarts.delete(ev.containerId)) return;
    if (ev.podUid) void this.enqueue(ev.podUid);
  }

  private startingOurselves(id: string): void {
    if (this.ownStarts.size > 4096) this.ownStarts.clear();
    this.ownStarts.add(id);
  }

  /**
   * Graceful node shutdown: stops syncing, then stops every pod's containers
   * (preStop hook, SIGTERM, SIGKILL after the pod's grace period capped at
   * `maxGraceSeconds`) and its sandbox, and reports the pod Failed with reason
   * Terminated, as kubelet's node shutdown manager does. Containers are kept
   * (stopped) for their statuses and logs.
   */
  async shutdownPods(maxGraceSeconds: number): Promise<void> {
    await this.stop();
    await Promise.all(
      [...this.pods.values()].map(async (pod) => {
        const uid = pod.metadata!.uid!;
        try {
          const observed = await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName, [LABEL_POD_UID]: uid });
          if (!observed.some((c) => c.state === 'running')) return;
          const grace = Math.min(pod.metadata?.deletionGracePeriodSeconds ?? podGracePeriodSeconds(pod), maxGraceSeconds);
          this.log.info({ pod: podRef(pod), gracePeriodSeconds: grace }, 'stopping pod for node shutdown');
          await this.stopper.stopAll(observed, grace, pod);
          const after = await this.termMessages.attach(uid, await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName, [LABEL_POD_UID]: uid }));
          const status = computePodStatus(this.withLastStatus(pod), after, { hostIP: this.opts.nodeIP, now: this.now(), waiting: this.waiting.get(uid) });
          status.phase = 'Failed';
          status.reason = NODE_SHUTDOWN_REASON;
          status.message = NODE_SHUTDOWN_MESSAGE;
          status.conditions = [
            ...(status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'),
            { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: NODE_SHUTDOWN_MESSAGE, lastTransitionTime: rfc3339(this.now()) },
          ];
          this.lastStatus.set(uid, status);
          this.opts.sink.setStatus(pod, status);
        } catch (err) {
          this.log.error({ pod: podRef(pod), err: (err as Error).message }, 'cannot stop pod for node shutdown');
        }
      }),
    );
  }

  /** Stops scheduling syncs and waits for the ones in flight. Leaves containers running. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.probes.stop();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.workers.values()].map((w) => w.done));
  }

  private enqueue(uid: string, listed?: { containers: RuntimeContainer[]; seq: number }): Promise<void> {
    // Anything else that asks for a sync (an event, a change) wants a fresh look at the runtime.
    if (listed) this.listed.set(uid, listed);
    else this.listed.delete(uid);
    const existing = this.workers.get(uid);
    if (existing) {
      existing.again = true;
      return existing.done;
    }
    if (this.stopped) return Promise.resolve();
    const w: Worker = { again: false, done: Promise.resolve() };
    this.workers.set(uid, w);
    w.done = (async () => {
      try {
        do {
          w.again = false;
          const end = this.opts.metrics?.podSyncDuration.startTimer({ operation: 'sync' });
          try {
            await this.syncOne(uid);
            this.syncEndSeq.set(uid, ++this.seq);
          } catch (err) {
            this.syncEndSeq.set(uid, ++this.seq);
            this.log.error({ podUid: uid, err: (err as Error).message }, 'pod sync failed');
            this.opts.metrics?.runtimeErrors.inc({ operation_type: 'sync' });
          } finally {
            end?.();
          }
        } while (w.again && !this.stopped);
      } finally {
        this.workers.delete(uid);
      }
    })();
    return w.done;
  }

  /** Debug log of a pod start's phases (COXSWAIN_LOG_LEVEL=debug): where its start-up time goes. */
  private trace(uid: string, phase: string): void {
    this.log.debug({ podUid: uid, phase }, 'pod sync phase');
  }

  private async syncOne(uid: string): Promise<void> {
    this.trace(uid, 'sync-start');
    const listed = this.listed.get(uid);
    this.listed.delete(uid);
    let observed = listed && listed.seq > (this.syncEndSeq.get(uid) ?? 0) ? listed.containers : await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName, [LABEL_POD_UID]: uid });
    const pod = this.pods.get(uid);
    if (!pod) {
      if (!this.sourcesReady) return;
      await this.removeOrphan(uid, observed);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      await this.terminate(pod, observed);
      return;
    }
    if (!pod.spec?.hostNetwork && !this.sandboxes.networkReady) return;
    if (!pod.spec?.hostNetwork && !(await this.sandboxes.checkWiring(pod, observed))) {
      // No container may start in a sandbox without its interface: try again shortly.
      this.scheduleResync(uid, this.now() + 5_000);
      return;
    }

    if (await this.killUnhealthy(pod, observed)) observed = await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName, [LABEL_POD_UID]: uid });
    const now = this.now();
    const actions = computePodActions(this.withLastStatus(pod), observed, now, { maxPerPodContainer: this.opts.maxPerPodContainer });
    const changed = await this.apply(pod, actions, observed, now);
    const after = await this.termMessages.attach(uid, changed ? await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName, [LABEL_POD_UID]: uid }) : observed);
    if (!this.pods.has(uid)) return; // deleted meanwhile
    this.probes.sync(this.withLastStatus(pod), after, this.podIPOf(pod, after));
    const status = computePodStatus(this.withLastStatus(pod), after, { hostIP: this.opts.nodeIP, now: this.now(), waiting: this.waiting.get(uid), probes: this.probes.view(uid) });
    this.lastStatus.set(uid, status);
    this.trace(uid, `status ${status.phase}`);
    this.opts.sink.setStatus(pod, status);
    this.scheduleResync(uid, this.starter.resyncAt(uid, actions.resyncAt));
  }

  private podIPOf(pod: Pod, observed: RuntimeContainer[]): string | undefined {
    if (pod.spec?.hostNetwork) return this.opts.nodeIP;
    return observed.find((c) => c.containerName === SANDBOX_CONTAINER_NAME && c.state === 'running')?.ip;
  }

  /** Fetches the ConfigMaps and Secrets the pod references; on API errors, the last ones fetched. */
  private async fetchObjects(pod: Pod): Promise<PodObjects> {
    const uid = pod.metadata!.uid!;
    const ns = pod.metadata?.namespace ?? 'default';
    const refs = referencedObjects(pod);
    try {
      const objects: PodObjects = { configMaps: new Map(), secrets: new Map() };
      await Promise.all([
        ...[...refs.configMaps].map(async (n) => objects.configMaps.set(n, (await this.sources.getConfigMap(ns, n)) ?? null)),
        ...[...refs.secrets].map(async (n) => objects.secrets.set(n, (await this.sources.getSecret(ns, n)) ?? null)),
      ]);
      this.objectCache.set(uid, objects);
      return objects;
    } catch (err) {
      const cached = this.objectCache.get(uid);
      if (!cached) throw err;
      this.log.warn({ pod: podRef(pod), err: (err as Error).message }, 'cannot read referenced objects; using the last ones read');
      return cached;
    }
  }

  /** The pod with the status this manager last computed (fresher than the informer's copy). */
  private withLastStatus(pod: Pod): Pod {
    const last = this.lastStatus.get(pod.metadata!.uid!);
    return last ? { ...pod, status: { ...pod.status, ...last } } : pod;
  }

  private waitingOf(uid: string): Map<string, WaitingReason> {
    let m = this.waiting.get(uid);
    if (!m) this.waiting.set(uid, (m = new Map()));
    return m;
  }

  private scheduleResync(uid: string, at: number | undefined): void {
    const old = this.timers.get(uid);
    if (old) clearTimeout(old);
    this.timers.delete(uid);
    if (at === undefined || this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(uid);
      void this.enqueue(uid);
    }, Math.max(0, at - this.now()) + 50);
    t.unref();
    this.timers.set(uid, t);
  }

  /** Carries out the actions; returns whether anything in the runtime changed. */
  private async apply(pod: Pod, actions: PodActions, observed: RuntimeContainer[], now: number): Promise<boolean> {
    const uid = pod.metadata!.uid!;
    const waiting = this.waitingOf(uid);
    const grace = podGracePeriodSeconds(pod);
    let changed = false;

    // Crash-loop backoff is recomputed every sync; other reasons persist until the container starts.
    for (const [name, w] of waiting) if (w.reason === 'CrashLoopBackOff') waiting.delete(name);
    for (const b of actions.backoff) waiting.set(b.name, { reason: 'CrashLoopBackOff', message: b.message });

    if (actions.killPod) {
      this.log.info({ pod: podRef(pod) }, 'killing pod containers (sandbox gone or replaced)');
      await this.stopper.stopAll(observed, grace);
      changed = true;
    }
    for (const k of actions.containersToKill) {
      this.log.info({ pod: podRef(pod), container: k.name, reason: k.reason }, 'stopping container');
      const c = observed.find((x) => x.id === k.id);
      if (c) await this.stopper.killContainer(pod, c, grace, k.reason === 'container spec changed' ? `Container ${k.name} definition changed, will be restarted` : `Stopping container ${k.name}`);
      else await this.runtime.stopContainer(k.id, grace);
      changed = true;
    }
    for (const b of actions.backoff) {
      // One BackOff event per backoff period, not per sync.
      const key = `${uid}/${b.name}`;
      if (this.backoffEvents.get(key) !== b.until) {
        this.backoffEvents.set(key, b.until);
        this.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${b.name} in pod ${pod.metadata?.name}_${pod.metadata?.namespace}(${uid})`);
      }
    }
    for (const id of actions.containersToRemove) {
      await this.runtime.removeContainer(id);
      changed = true;
    }
    if (actions.stopSandbox) {
      for (const s of observed) if (s.containerName === SANDBOX_CONTAINER_NAME && s.state === 'running') await this.runtime.stopContainer(s.id, SANDBOX_STOP_SECONDS);
      changed = true;
    }

    let sandboxId = actions.sandboxId;
    const sandbox: SandboxState = { podIP: pod.spec?.hostNetwork ? this.opts.nodeIP : observed.find((c) => c.id === sandboxId)?.ip };
    if (actions.createSandbox) {
      const id = await this.sandboxes.create(pod, actions, waiting, sandbox, now);
      if (!id) return changed;
      sandboxId = id;
      changed = true;
    }
    if (!sandboxId) return changed;
    if (actions.stopSandbox) return changed;
    try {
      return (await this.applyContainers(pod, actions, sandboxId, sandbox, now)) || changed;
    } finally {
      // Never leave a sync with the sandbox half started (the next one would see it "created").
      if (sandbox.ready) await sandbox.ready;
    }
  }

  /** Volumes, environment and the containers to start, once the pod has a sandbox (maybe still starting). */
  private async applyContainers(pod: Pod, actions: PodActions, sandboxId: string, sandbox: SandboxState, now: number): Promise<boolean> {
    const uid = pod.metadata!.uid!;
    const waiting = this.waitingOf(uid);
    let changed = false;
    const podIP = sandbox.podIP;

    // Volumes are (re)written on every sync of a live pod: ConfigMap/Secret changes reach running containers.
    let objects: PodObjects;
    let volumes: Map<string, PreparedVolume>;
    try {
      objects = await this.fetchObjects(pod);
      volumes = await this.volumes.setup(pod, objects, { podIP, hostIP: this.opts.nodeIP, nodeName: this.opts.nodeName });
      this.trace(uid, 'volumes');
      for (const [name, w] of waiting) if (w.message?.startsWith('MountVolume')) waiting.delete(name);
    } catch (err) {
      const message = err instanceof VolumeError ? `MountVolume.SetUp failed: ${err.message}` : `cannot prepare volumes: ${(err as Error).message}`;
      const reason = err instanceof VolumeError ? err.reason : 'ContainerCreating';
      for (const c of actions.containersToStart) {
        const prev = waiting.get(c.name);
        if (prev?.message !== message) this.event(pod, 'Warning', 'FailedMount', message);
        waiting.set(c.name, { reason, message });
      }
      this.log.warn({ pod: podRef(pod), err: message }, 'volumes not ready');
      actions.resyncAt = Math.min(actions.resyncAt ?? Infinity, now + 2_000);
      return changed;
    }

    let serviceEnv: [string, string][] = [];
    if (actions.containersToStart.length > 0) {
      try {
        const ns = pod.metadata?.namespace ?? 'default';
        serviceEnv = serviceEnvVars(servicesForPod(await this.sources.getServices(ns), ns, pod.spec?.enableServiceLinks));
      } catch (err) {
        // Like kubelet: without the Services, the environment cannot be built.
        const message = `cannot read services for the environment: ${(err as Error).message}`;
        for (const c of actions.containersToStart) waiting.set(c.name, { reason: 'CreateContainerConfigError', message });
        this.log.warn({ pod: podRef(pod), err: message }, 'services not readable');
        actions.resyncAt = Math.min(actions.resyncAt ?? Infinity, now + 2_000);
        return changed;
      }
    }
    for (const toStart of actions.containersToStart) {
      const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === toStart.name);
      if (!spec) continue;
      if (await this.starter.start(pod, spec, toStart.restartCount, toStart.backoffCount ?? 0, sandboxId, sandbox, now, objects, volumes, serviceEnv, waiting)) changed = true;
    }
    return changed;
  }

  /** A liveness or startup probe gave up on a container instance: the pod's next sync stops it and restarts it (with backoff). */
  private restartUnhealthy(pod: Pod, name: string, id: string, kind: ProbeKind, message: string): void {
    const uid = pod.metadata!.uid!;
    this.log.info({ pod: podRef(pod), container: name, probe: kind }, 'probe failed; the container will be restarted');
    let m = this.unhealthy.get(uid);
    if (!m) this.unhealthy.set(uid, (m = new Map()));
    m.set(id, message);
    void this.enqueue(uid);
  }

  /** Stops the instances the prober gave up on; returns whether any was running. */
  private async killUnhealthy(pod: Pod, observed: RuntimeContainer[]): Promise<boolean> {
    const m = this.unhealthy.get(pod.metadata!.uid!);
    if (!m) return false;
    this.unhealthy.delete(pod.metadata!.uid!);
    let killed = false;
    for (const [id, message] of m) {
      const c = observed.find((x) => x.id === id && x.state === 'running');
      if (!c) continue;
      await this.stopper.killContainer(pod, c, podGracePeriodSeconds(pod), message);
      killed = true;
    }
    return killed;
  }

  /** Graceful termination of a pod with a deletionTimestamp, then its final DELETE. */
  private async terminate(pod: Pod, observed: RuntimeContainer[]): Promise<void> {
    const uid = pod.metadata!.uid!;
    const grace = pod.metadata?.deletionGracePeriodSeconds ?? podGracePeriodSeconds(pod);
    if (observed.length > 0) {
      this.log.info({ pod: podRef(pod), gracePeriodSeconds: grace }, 'terminating pod');
      this.probes.removePod(uid);
      await this.stopper.stopAll(observed, grace, pod);
      await this.stopper.removeAll(observed);
    }
    await this.volumes.cleanup(uid);
    await this.opts.sink.deletePod(pod);
    this.log.info({ pod: podRef(pod) }, 'pod terminated and deleted');
    if (this.pods.get(uid) === pod) this.pods.delete(uid);
    this.forget(uid);
  }

  /** Containers of a pod the API no longer has: stop and remove them. */
  private async removeOrphan(uid: string, observed: RuntimeContainer[]): Promise<void> {
    if (observed.length > 0) {
      const first = observed[0];
      const labelled = Math.max(0, ...observed.map((c) => c.gracePeriodSeconds ?? 0));
      const grace = this.forceDeleted.has(uid) ? Math.min(labelled, this.opts.forceDeleteGraceSeconds ?? 2) : labelled;
      this.log.info({ pod: `${first.podNamespace}/${first.podName}`, podUid: uid, gracePeriodSeconds: grace }, 'removing containers of a pod that is not in the API');
      await this.stopper.stopAll(observed, grace);
      await this.stopper.removeAll(observed);
    }
    await this.volumes.cleanup(uid);
    this.forget(uid);
  }

  private forget(uid: string): void {
    this.probes.removePod(uid);
    this.unhealthy.delete(uid);
    this.objectCache.delete(uid);
    this.termMessages.forget(uid);
    for (const k of this.backoffEvents.keys()) if (k.startsWith(`${uid}/`)) this.backoffEvents.delete(k);
    this.waiting.delete(uid);
    this.lastStatus.delete(uid);
    this.sandboxes.forget(uid);
    this.forceDeleted.delete(uid);
    this.starter.forget(uid);
    const t = this.timers.get(uid);
    if (t) clearTimeout(t);
    this.timers.delete(uid);
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
