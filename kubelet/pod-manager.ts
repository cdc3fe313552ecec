import os from 'node:os';
import path from 'node:path';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import type { Logger } from '../lib/log';
import { rfc3339 } from '../lib/time';
import {
  podGracePeriodSeconds,
  podRef,
  referencedObjects,
  type PodObjects,
  type PreparedVolume,
} from './container-spec';
import { ContainerStarter, type SandboxState } from './container-start';
import { ContainerStopper, SANDBOX_STOP_SECONDS } from './container-stop';
import type { KubeletMetrics } from './metrics';
import { StaticPodSources, type PodSources, type SourceChange } from './pod-sources';
import { computePodActions, computePodStatus, type PodActions } from './pod-sync';
import { serviceEnvVars, servicesForPod } from './service-env';
import { ProbeManager, runtimeProbeRunner, type ProbeKind, type ProbeRunner } from './prober';
import { realClock, type Clock } from '../lib/clock';
import type { PodNetwork } from './pod-network';
import { SandboxStarter } from './sandbox-start';
import { PodRecord } from './pod-record';
import { TerminationMessages } from './termination-message';
import { VolumeError, VolumeManager } from './volumes';
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
  /** One record per pod (by uid): everything known about it between syncs (pod-record.ts). */
  private readonly records = new Map<string, PodRecord>();
  private readonly workers = new Map<string, Worker>();
  readonly volumes: VolumeManager;
  readonly probes: ProbeManager;
  private readonly starter: ContainerStarter;
  private readonly stopper: ContainerStopper;
  /** Termination messages of dead containers (they never change). */
  private readonly termMessages: TerminationMessages;
  private readonly sources: PodSources;
  private readonly sandboxes: SandboxStarter;
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
      podIP: (pod) => this.records.get(pod.metadata!.uid!)?.lastStatus?.podIP ?? pod.status?.podIP,
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
    const rec = this.recordFor(uid);
    const prev = rec.pod;
    rec.pod = pod;
    if (prev && !specChanged(prev, pod)) return this.workers.get(uid)?.done ?? Promise.resolve();
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

  /** Syncs one pod by uid and resolves when that sync (or the one it joined) finished. */
  sync(uid: string): Promise<void> {
    return this.enqueue(uid);
  }

  /** Syncs every desired pod and every pod the runtime has containers of (orphans, once sources are ready). */
  async syncAll(): Promise<void> {
    const uids = new Set([...this.desiredPods()].map(([uid]) => uid));
    const listedAt = this.now();
    const seq = ++this.seq;
    const containers = await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName });
    this.sandboxes.reconcile(containers, listedAt);
    const byPod = new Map<string, RuntimeContainer[]>();
    for (const c of containers) if (c.podUid) byPod.set(c.podUid, [...(byPod.get(c.podUid) ?? []), c]);
    for (const uid of byPod.keys()) uids.add(uid);
    if (this.sourcesReady) for (const uid of await this.volumes.podUidsOnDisk()) uids.add(uid);
    // Records of pods gone from the API and from the runtime whose sync forgot nothing (sources not ready then).
    for (const [uid, rec] of this.records) if (!rec.pod && !uids.has(uid) && !this.workers.has(uid)) this.records.delete(uid);
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
      [...this.desiredPods()].map(async ([, pod]) => {
        const uid = pod.metadata!.uid!;
        try {
          const observed = await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName, [LABEL_POD_UID]: uid });
          if (!observed.some((c) => c.state === 'running')) return;
          const grace = Math.min(pod.metadata?.deletionGracePeriodSeconds ?? podGracePeriodSeconds(pod), maxGraceSeconds);
          this.log.info({ pod: podRef(pod), gracePeriodSeconds: grace }, 'stopping pod for node shutdown');
          await this.stopper.stopAll(observed, grace, pod);
          const rec = this.recordFor(uid);
          const after = await this.termMessages.attach(rec.terminationMessages, await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName, [LABEL_POD_UID]: uid }));
          const status = computePodStatus(rec.withLastStatus(pod), after, { hostIP: this.opts.nodeIP, now: this.now(), waiting: rec.waiting });
          status.phase = 'Failed';
          status.reason = NODE_SHUTDOWN_REASON;
          status.message = NODE_SHUTDOWN_MESSAGE;
          status.conditions = [
            ...(status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'),
            { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: NODE_SHUTDOWN_MESSAGE, lastTransitionTime: rfc3339(this.now()) },
          ];
          rec.lastStatus = status;
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
    for (const rec of this.records.values()) this.scheduleResync(rec, undefined);
    await Promise.all([...this.workers.values()].map((w) => w.done));
  }

  private enqueue(uid: string, listed?: { containers: RuntimeContainer[]; seq: number }): Promise<void> {
    // Anything else that asks for a sync (an event, a change) wants a fresh look at the runtime.
    this.recordFor(uid).listed = listed;
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
            this.syncEnded(uid);
          } catch (err) {
            this.syncEnded(uid);
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

  private syncEnded(uid: string): void {
    const seq = ++this.seq;
    const rec = this.records.get(uid);
    if (rec) rec.syncEndSeq = seq;
  }

  /** Debug log of a pod start's phases (COXSWAIN_LOG_LEVEL=debug): where its start-up time goes. */
  private trace(uid: string, phase: string): void {
    this.log.debug({ podUid: uid, phase }, 'pod sync phase');
  }

  private async syncOne(uid: string): Promise<void> {
    this.trace(uid, 'sync-start');
    const rec = this.recordFor(uid);
    const listed = rec.listed;
    rec.listed = undefined;
    let observed = listed && listed.seq > rec.syncEndSeq ? listed.containers : await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName, [LABEL_POD_UID]: uid });
    const pod = rec.pod;
    if (!pod) {
      if (!this.sourcesReady) return;
      await this.removeOrphan(rec, observed);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      await this.terminate(rec, pod, observed);
      return;
    }
    if (!pod.spec?.hostNetwork && !this.sandboxes.networkReady) return;
    if (!pod.spec?.hostNetwork && !(await this.sandboxes.checkWiring(pod, observed))) {
      // No container may start in a sandbox without its interface: try again shortly.
      this.scheduleResync(rec, this.now() + 5_000);
      return;
    }

    if (await this.killUnhealthy(rec, pod, observed)) observed = await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName, [LABEL_POD_UID]: uid });
    const now = this.now();
    const actions = computePodActions(rec.withLastStatus(pod), observed, now, { maxPerPodContainer: this.opts.maxPerPodContainer });
    const changed = await this.apply(rec, pod, actions, observed, now);
    const after = await this.termMessages.attach(rec.terminationMessages, changed ? await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName, [LABEL_POD_UID]: uid }) : observed);
    if (!rec.pod) return; // deleted meanwhile
    this.probes.sync(rec.withLastStatus(pod), after, this.podIPOf(pod, after));
    const status = computePodStatus(rec.withLastStatus(pod), after, { hostIP: this.opts.nodeIP, now: this.now(), waiting: rec.waiting, probes: this.probes.view(uid) });
    rec.lastStatus = status;
    this.trace(uid, `status ${status.phase}`);
    this.opts.sink.setStatus(pod, status);
    this.scheduleResync(rec, rec.resyncAt(actions.resyncAt));
  }

  private podIPOf(pod: Pod, observed: RuntimeContainer[]): string | undefined {
    if (pod.spec?.hostNetwork) return this.opts.nodeIP;
    return observed.find((c) => c.containerName === SANDBOX_CONTAINER_NAME && c.state === 'running')?.ip;
  }

  /** Fetches the ConfigMaps and Secrets the pod references; on API errors, the last ones fetched. */
  private async fetchObjects(rec: PodRecord, pod: Pod): Promise<PodObjects> {
    const ns = pod.metadata?.namespace ?? 'default';
    const refs = referencedObjects(pod);
    try {
      const objects: PodObjects = { configMaps: new Map(), secrets: new Map() };
      await Promise.all([
        ...[...refs.configMaps].map(async (n) => objects.configMaps.set(n, (await this.sources.getConfigMap(ns, n)) ?? null)),
        ...[...refs.secrets].map(async (n) => objects.secrets.set(n, (await this.sources.getSecret(ns, n)) ?? null)),
      ]);
      rec.objects = objects;
      return objects;
    } catch (err) {
      const cached = rec.objects;
      if (!cached) throw err;
      this.log.warn({ pod: podRef(pod), err: (err as Error).message }, 'cannot read referenced objects; using the last ones read');
      return cached;
    }
  }

  private scheduleResync(rec: PodRecord, at: number | undefined): void {
    if (rec.resyncTimer) clearTimeout(rec.resyncTimer);
    rec.resyncTimer = undefined;
    if (at === undefined || this.stopped) return;
    const t = setTimeout(() => {
      rec.resyncTimer = undefined;
      void this.enqueue(rec.uid);
    }, Math.max(0, at - this.now()) + 50);
    t.unref();
    rec.resyncTimer = t;
  }

  /** Carries out the actions; returns whether anything in the runtime changed. */
  private async apply(rec: PodRecord, pod: Pod, actions: PodActions, observed: RuntimeContainer[], now: number): Promise<boolean> {
    const uid = rec.uid;
    const waiting = rec.waiting;
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
      if (rec.backoffEvents.get(b.name) !== b.until) {
        rec.backoffEvents.set(b.name, b.until);
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
      const id = await this.sandboxes.create(pod, actions, rec, sandbox, now);
      if (!id) return changed;
      sandboxId = id;
      changed = true;
    }
    if (!sandboxId) return changed;
    if (actions.stopSandbox) return changed;
    try {
      return (await this.applyContainers(rec, pod, actions, sandboxId, sandbox, now)) || changed;
    } finally {
      // Never leave a sync with the sandbox half started (the next one would see it "created").
      if (sandbox.ready) await sandbox.ready;
    }
  }

  /** Volumes, environment and the containers to start, once the pod has a sandbox (maybe still starting). */
  private async applyContainers(rec: PodRecord, pod: Pod, actions: PodActions, sandboxId: string, sandbox: SandboxState, now: number): Promise<boolean> {
    const uid = rec.uid;
    const waiting = rec.waiting;
    let changed = false;
    const podIP = sandbox.podIP;

    // Volumes are (re)written on every sync of a live pod: ConfigMap/Secret changes reach running containers.
    let objects: PodObjects;
    let volumes: Map<string, PreparedVolume>;
    try {
      objects = await this.fetchObjects(rec, pod);
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
      if (await this.starter.start(pod, spec, toStart.restartCount, toStart.backoffCount ?? 0, sandboxId, sandbox, now, objects, volumes, serviceEnv, rec)) changed = true;
    }
    return changed;
  }

  /** A liveness or startup probe gave up on a container instance: the pod's next sync stops it and restarts it (with backoff). */
  private restartUnhealthy(pod: Pod, name: string, id: string, kind: ProbeKind, message: string): void {
    const uid = pod.metadata!.uid!;
    this.log.info({ pod: podRef(pod), container: name, probe: kind }, 'probe failed; the container will be restarted');
    this.recordFor(uid).unhealthy.set(id, message);
    void this.enqueue(uid);
  }

  /** Stops the instances the prober gave up on; returns whether any was running. */
  private async killUnhealthy(rec: PodRecord, pod: Pod, observed: RuntimeContainer[]): Promise<boolean> {
    const unhealthy = [...rec.unhealthy];
    rec.unhealthy.clear();
    let killed = false;
    for (const [id, message] of unhealthy) {
      const c = observed.find((x) => x.id === id && x.state === 'running');
      if (!c) continue;
      await this.stopper.killContainer(pod, c, podGracePeriodSeconds(pod), message);
      killed = true;
    }
    return killed;
  }

  /** Graceful termination of a pod with a deletionTimestamp, then its final DELETE. */
  private async terminate(rec: PodRecord, pod: Pod, observed: RuntimeContainer[]): Promise<void> {
    const uid = rec.uid;
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
    // An update that came in meanwhile is kept (the API's delete of the pod removes it).
    const newer = rec.pod === pod ? undefined : rec.pod;
    this.forget(rec);
    if (newer) this.recordFor(uid).pod = newer;
  }

  /** Containers of a pod the API no longer has: stop and remove them. */
  private async removeOrphan(rec: PodRecord, observed: RuntimeContainer[]): Promise<void> {
    const uid = rec.uid;
    if (observed.length > 0) {
      const first = observed[0];
      const labelled = Math.max(0, ...observed.map((c) => c.gracePeriodSeconds ?? 0));
      const grace = rec.forceDeleted ? Math.min(labelled, this.opts.forceDeleteGraceSeconds ?? 2) : labelled;
      this.log.info({ pod: `${first.podNamespace}/${first.podName}`, podUid: uid, gracePeriodSeconds: grace }, 'removing containers of a pod that is not in the API');
      await this.stopper.stopAll(observed, grace);
      await this.stopper.removeAll(observed);
    }
    await this.volumes.cleanup(uid);
    this.forget(rec);
  }

  /** Drops everything known about a pod gone from the API and the runtime: its record, its probe workers, its resync timer. */
  private forget(rec: PodRecord): void {
    this.probes.removePod(rec.uid);
    this.scheduleResync(rec, undefined);
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
