import type { ClusterDnsConfig } from './pod-files';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import type { Logger } from '../lib/log';
import { rfc3339 } from '../lib/time';
import { podGracePeriodSeconds, podRef, referencedObjects } from './container-spec';
import type { PodObjects, PreparedVolume } from './pod-inputs';
import { ContainerStarter, type SandboxState } from './container-start';
import { ContainerStopper, SANDBOX_STOP_SECONDS } from './container-stop';
import type { KubeletMetrics } from './metrics';
import type { PodRecord } from './pod-record';
import type { PodSources } from './pod-sources';
import { computePodActions, type PodActions } from './pod-sync';
import { computePodStatus } from './pod-status';
import type { ProbeManager } from './prober';
import { SandboxStarter } from './sandbox-start';
import { serviceEnvVars, servicesForPod } from './service-env';
import { TerminationMessages } from './termination-message';
import { VolumeError } from './volume-payloads';
import type { VolumeManager } from './volumes';
import { LABEL_NODE, LABEL_POD_UID, SANDBOX_CONTAINER_NAME, type ContainerRuntime, type RuntimeContainer } from './runtime';

/** Where pod statuses go: the status manager in production, a fake in tests. */
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

/** Status of pods stopped by a graceful node shutdown (Kubernetes' wording). */
export const NODE_SHUTDOWN_REASON = 'Terminated';
export const NODE_SHUTDOWN_MESSAGE = 'Pod was terminated in response to imminent node shutdown.';

export interface PodSyncerDeps {
  runtime: ContainerRuntime;
  nodeName: string;
  nodeIP: string;
  log: Logger;
  metrics?: KubeletMetrics;
  sink: PodStatusSink;
  events?: PodEventSink;
  sources: PodSources;
  volumes: VolumeManager;
  probes: ProbeManager;
  now: () => number;
  /** Grace period for pods force-deleted from the API while their containers run. Default 2 s. */
  forceDeleteGraceSeconds?: number;
  /** Dead instances kept per container; default 1, < 0 = no limit. */
  maxPerPodContainer?: number;
  onImageUsed?: (imageId: string) => void;
  seccompDefault?: boolean;
  /** `--cluster-dns`/`--cluster-domain` (pod-files.ts). */
  clusterDns?: ClusterDnsConfig;
}

/** What the pod's worker does after a sync. */
export interface SyncResult {
  /** When the pod wants its next sync (a backoff ends); absent: at the next event. */
  resyncAt?: number;
  /** The pod is gone from the API and the runtime: drop its record. `keep` is an update of it that arrived meanwhile. */
  forget?: { keep?: Pod };
}

/**
 * One pod's sync, in the manner of the Kubernetes kubelet's SyncPod
 * (kubelet.go syncPod, kuberuntime_manager.go SyncPod): observe the runtime's
 * containers of the pod, plan with the pure `computePodActions` (pod-sync.ts),
 * act (sandbox-start.ts, container-start.ts, container-stop.ts), and report
 * the status (`computePodStatus` to the status sink). The pod's record
 * (pod-record.ts) carries what the runtime cannot show from one sync to the
 * next. The pod manager runs at most one `syncPod` per pod at a time.
 */
export class PodSyncer {
  readonly sandboxes: SandboxStarter;
  private readonly starter: ContainerStarter;
  private readonly stopper: ContainerStopper;
  private readonly termMessages: TerminationMessages;
  /** Containers this kubelet is starting: their runtime start events are its own doing. */
  private readonly ownStarts = new Set<string>();

  constructor(private readonly deps: PodSyncerDeps) {
    const event = (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string) => this.event(pod, type, reason, message);
    const trace = (uid: string, phase: string) => this.trace(uid, phase);
    const onStarting = (id: string) => this.startingOurselves(id);
    const { runtime, nodeName, log, metrics, seccompDefault } = deps;
    this.starter = new ContainerStarter({ runtime, nodeName, nodeIP: deps.nodeIP, log, volumes: deps.volumes, metrics, onImageUsed: deps.onImageUsed, event, trace, seccompDefault, onStarting, clusterDns: deps.clusterDns });
    this.sandboxes = new SandboxStarter({ runtime, nodeName, log, metrics, seccompDefault, now: deps.now, event, trace, onStarting });
    this.stopper = new ContainerStopper({ runtime, log, event });
    this.termMessages = new TerminationMessages(runtime, log);
  }

  /**
   * Syncs one pod: observe → plan → act → report. `sourcesReady`: the set of
   * desired pods is complete, so containers of a pod without one are orphans.
   * Throws on runtime errors (the worker logs them; the next event retries).
   */
  async syncPod(rec: PodRecord, sourcesReady: boolean): Promise<SyncResult | undefined> {
    const uid = rec.uid;
    this.trace(uid, 'sync-start');

    // 1. Observe: the runtime's containers of the pod (the last node-wide listing when it is newer than this pod's last sync).
    const listed = rec.listed;
    rec.listed = undefined;
    let observed = listed && listed.seq > rec.syncEndSeq ? listed.containers : await this.listPod(uid);
    const pod = rec.pod;
    if (!pod) return sourcesReady ? this.removeOrphan(rec, observed) : undefined;
    if (pod.metadata?.deletionTimestamp) return this.terminate(rec, pod, observed);
    if (!pod.spec?.hostNetwork && !this.sandboxes.networkReady) return undefined;
    // No container may start in a sandbox without its interface: try again shortly.
    if (!pod.spec?.hostNetwork && !(await this.sandboxes.checkWiring(pod, observed))) return { resyncAt: this.deps.now() + 5_000 };
    if (await this.killUnhealthy(rec, pod, observed)) observed = await this.listPod(uid);

    // 2. Plan: the pure core says what to do.
    const now = this.deps.now();
    const actions = computePodActions(rec.withLastStatus(pod), observed, now, { maxPerPodContainer: this.deps.maxPerPodContainer });

    // 3. Act: kill what must go, (re)create the sandbox, start init and app containers.
    const changed = await this.act(rec, pod, actions, observed, now);

    // 4. Report: the status of what now runs, to the status manager; probes follow the running instances.
    const after = await this.termMessages.attach(rec.terminationMessages, changed ? await this.listPod(uid) : observed);
    if (!rec.pod) return undefined; // deleted meanwhile
    this.deps.probes.sync(rec.withLastStatus(pod), after, this.podIPOf(pod, after));
    const status = computePodStatus(rec.withLastStatus(pod), after, { hostIP: this.deps.nodeIP, now: this.deps.now(), waiting: rec.waiting, probes: this.deps.probes.view(uid) });
    rec.lastStatus = status;
    this.trace(uid, `status ${status.phase}`);
    this.deps.sink.setStatus(pod, status);
    return { resyncAt: rec.resyncAt(actions.resyncAt) };
  }

  /** Whether a runtime start event is of a container this kubelet started (its own relist follows; no sync needed). */
  startedByUs(containerId: string): boolean {
    return this.ownStarts.delete(containerId);
  }

  /**
   * Graceful node shutdown of one pod: stops its containers (preStop hook,
   * SIGTERM, SIGKILL after its grace period capped at `maxGraceSeconds`) and its
   * sandbox, and reports it Failed with reason Terminated, as kubelet's node
   * shutdown manager does. Containers are kept (stopped) for their statuses and logs.
   */
  async shutdownPod(rec: PodRecord, pod: Pod, maxGraceSeconds: number): Promise<void> {
    const observed = await this.listPod(rec.uid);
    if (!observed.some((c) => c.state === 'running')) return;
    const grace = Math.min(pod.metadata?.deletionGracePeriodSeconds ?? podGracePeriodSeconds(pod), maxGraceSeconds);
    this.deps.log.info({ pod: podRef(pod), gracePeriodSeconds: grace }, 'stopping pod for node shutdown');
    await this.stopper.stopAll(observed, grace, rec.withLastStatus(pod));
    const after = await this.termMessages.attach(rec.terminationMessages, await this.listPod(rec.uid));
    const status = computePodStatus(rec.withLastStatus(pod), after, { hostIP: this.deps.nodeIP, now: this.deps.now(), waiting: rec.waiting });
    status.phase = 'Failed';
    status.reason = NODE_SHUTDOWN_REASON;
    status.message = NODE_SHUTDOWN_MESSAGE;
    status.conditions = [
      ...(status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'),
      { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: NODE_SHUTDOWN_MESSAGE, lastTransitionTime: rfc3339(this.deps.now()) },
    ];
    rec.lastStatus = status;
    this.deps.sink.setStatus(pod, status);
  }

  private listPod(uid: string): Promise<RuntimeContainer[]> {
    return this.deps.runtime.listContainers({ [LABEL_NODE]: this.deps.nodeName, [LABEL_POD_UID]: uid });
  }

  private event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.deps.events?.event({ apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata }, type, reason, message);
  }

  /** Debug log of a pod start's phases (COXSWAIN_LOG_LEVEL=debug): where its start-up time goes. */
  private trace(uid: string, phase: string): void {
    this.deps.log.debug({ podUid: uid, phase }, 'pod sync phase');
  }

  private startingOurselves(id: string): void {
    if (this.ownStarts.size > 4096) this.ownStarts.clear();
    this.ownStarts.add(id);
  }

  private podIPOf(pod: Pod, observed: RuntimeContainer[]): string | undefined {
    if (pod.spec?.hostNetwork) return this.deps.nodeIP;
    return observed.find((c) => c.containerName === SANDBOX_CONTAINER_NAME && c.state === 'running')?.ip;
  }

  /** Stops the instances the prober gave up on; returns whether any was running. */
  private async killUnhealthy(rec: PodRecord, pod: Pod, observed: RuntimeContainer[]): Promise<boolean> {
    const unhealthy = [...rec.unhealthy];
    rec.unhealthy.clear();
    let killed = false;
    for (const [id, message] of unhealthy) {
      const c = observed.find((x) => x.id === id && x.state === 'running');
      if (!c) continue;
      await this.stopper.killContainer(rec.withLastStatus(pod), c, podGracePeriodSeconds(pod), message);
      killed = true;
    }
    return killed;
  }

  /** Carries out the plan: kills, garbage, the sandbox, then the containers; returns whether anything in the runtime changed. */
  private async act(rec: PodRecord, pod: Pod, actions: PodActions, observed: RuntimeContainer[], now: number): Promise<boolean> {
    let changed = await this.killAndRemove(rec, pod, actions, observed);
    let sandboxId = actions.sandboxId;
    const sandbox: SandboxState = { podIP: pod.spec?.hostNetwork ? this.deps.nodeIP : observed.find((c) => c.id === sandboxId)?.ip };
    if (actions.createSandbox) {
      const id = await this.sandboxes.create(pod, actions, rec, sandbox, now);
      if (!id) return changed;
      sandboxId = id;
      changed = true;
    }
    if (!sandboxId || actions.stopSandbox) return changed;
    try {
      return (await this.startContainers(rec, pod, actions, sandboxId, sandbox, now)) || changed;
    } finally {
      // Never leave a sync with the sandbox half started (the next one would see it "created").
      if (sandbox.ready) await sandbox.ready;
    }
  }

  /** Records backoffs, then stops and removes what the plan says must go (the whole pod first when its sandbox is gone). */
  private async killAndRemove(rec: PodRecord, pod: Pod, actions: PodActions, observed: RuntimeContainer[]): Promise<boolean> {
    const grace = podGracePeriodSeconds(pod);
    let changed = false;
    // Crash-loop backoff is recomputed every sync; other reasons persist until the container starts.
    for (const [name, w] of rec.waiting) if (w.reason === 'CrashLoopBackOff') rec.waiting.delete(name);
    for (const b of actions.backoff) rec.waiting.set(b.name, { reason: 'CrashLoopBackOff', message: b.message });

    if (actions.killPod) {
      this.deps.log.info({ pod: podRef(pod) }, 'killing pod containers (sandbox gone or replaced)');
      await this.stopper.stopAll(observed, grace);
      changed = true;
    }
    for (const k of actions.containersToKill) {
      this.deps.log.info({ pod: podRef(pod), container: k.name, reason: k.reason }, 'stopping container');
      const c = observed.find((x) => x.id === k.id);
      const message = k.reason === 'container spec changed' ? `Container ${k.name} definition changed, will be restarted` : `Stopping container ${k.name}`;
      if (c) await this.stopper.killContainer(rec.withLastStatus(pod), c, grace, message);
      else await this.deps.runtime.stopContainer(k.id, grace);
      changed = true;
    }
    for (const b of actions.backoff) {
      // One BackOff event per backoff period, not per sync.
      if (rec.backoffEvents.get(b.name) === b.until) continue;
      rec.backoffEvents.set(b.name, b.until);
      this.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${b.name} in pod ${pod.metadata?.name}_${pod.metadata?.namespace}(${rec.uid})`);
    }
    for (const id of actions.containersToRemove) {
      await this.deps.runtime.removeContainer(id);
      changed = true;
    }
    if (actions.stopSandbox) {
      for (const s of observed) if (s.containerName === SANDBOX_CONTAINER_NAME && s.state === 'running') await this.deps.runtime.stopContainer(s.id, SANDBOX_STOP_SECONDS);
      changed = true;
    }
    return changed;
  }

  /** Volumes, environment and the containers to start, once the pod has a sandbox (maybe still starting). */
  private async startContainers(rec: PodRecord, pod: Pod, actions: PodActions, sandboxId: string, sandbox: SandboxState, now: number): Promise<boolean> {
    const prepared = await this.prepare(rec, pod, actions, sandbox, now);
    if (!prepared) return false;
    let changed = false;
    for (const toStart of actions.containersToStart) {
      const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === toStart.name);
      if (!spec) continue;
      if (await this.starter.start(pod, spec, toStart.restartCount, toStart.backoffCount ?? 0, sandboxId, sandbox, now, prepared.objects, prepared.volumes, prepared.serviceEnv, rec)) changed = true;
    }
    return changed;
  }

  /**
   * The pod's volumes (rewritten every sync of a live pod: ConfigMap and Secret
   * changes reach running containers), referenced objects and Service
   * environment; undefined when they are not ready (the reasons are in
   * `rec.waiting`, a retry in 2 s in `actions.resyncAt`).
   */
  private async prepare(
    rec: PodRecord,
    pod: Pod,
    actions: PodActions,
    sandbox: SandboxState,
    now: number,
  ): Promise<{ objects: PodObjects; volumes: Map<string, PreparedVolume>; serviceEnv: [string, string][] } | undefined> {
    const waiting = rec.waiting;
    let objects: PodObjects;
    let volumes: Map<string, PreparedVolume>;
    try {
      objects = await this.fetchObjects(rec, pod);
      volumes = await this.deps.volumes.setup(pod, objects, { podIP: sandbox.podIP, hostIP: this.deps.nodeIP, nodeName: this.deps.nodeName });
      this.trace(rec.uid, 'volumes');
      for (const [name, w] of waiting) if (w.message?.startsWith('MountVolume')) waiting.delete(name);
    } catch (err) {
      const message = err instanceof VolumeError ? `MountVolume.SetUp failed: ${err.message}` : `cannot prepare volumes: ${(err as Error).message}`;
      const reason = err instanceof VolumeError ? err.reason : 'ContainerCreating';
      for (const c of actions.containersToStart) {
        if (waiting.get(c.name)?.message !== message) this.event(pod, 'Warning', 'FailedMount', message);
        waiting.set(c.name, { reason, message });
      }
      this.deps.log.warn({ pod: podRef(pod), err: message }, 'volumes not ready');
      actions.resyncAt = Math.min(actions.resyncAt ?? Infinity, now + 2_000);
      return undefined;
    }
    if (actions.containersToStart.length === 0) return { objects, volumes, serviceEnv: [] };
    try {
      const ns = pod.metadata?.namespace ?? 'default';
      return { objects, volumes, serviceEnv: serviceEnvVars(servicesForPod(await this.deps.sources.getServices(ns), ns, pod.spec?.enableServiceLinks)) };
    } catch (err) {
      // Like kubelet: without the Services, the environment cannot be built.
      const message = `cannot read services for the environment: ${(err as Error).message}`;
      for (const c of actions.containersToStart) waiting.set(c.name, { reason: 'CreateContainerConfigError', message });
      this.deps.log.warn({ pod: podRef(pod), err: message }, 'services not readable');
      actions.resyncAt = Math.min(actions.resyncAt ?? Infinity, now + 2_000);
      return undefined;
    }
  }

  /** Fetches the ConfigMaps and Secrets the pod references; on API errors, the last ones fetched. */
  private async fetchObjects(rec: PodRecord, pod: Pod): Promise<PodObjects> {
    const ns = pod.metadata?.namespace ?? 'default';
    const refs = referencedObjects(pod);
    try {
      const objects: PodObjects = { configMaps: new Map(), secrets: new Map() };
      await Promise.all([
        ...[...refs.configMaps].map(async (n) => objects.configMaps.set(n, (await this.deps.sources.getConfigMap(ns, n)) ?? null)),
        ...[...refs.secrets].map(async (n) => objects.secrets.set(n, (await this.deps.sources.getSecret(ns, n)) ?? null)),
      ]);
      rec.objects = objects;
      return objects;
    } catch (err) {
      if (!rec.objects) throw err;
      this.deps.log.warn({ pod: podRef(pod), err: (err as Error).message }, 'cannot read referenced objects; using the last ones read');
      return rec.objects;
    }
  }

  /** Graceful termination of a pod with a deletionTimestamp, then its final DELETE. */
  private async terminate(rec: PodRecord, pod: Pod, observed: RuntimeContainer[]): Promise<SyncResult> {
    const uid = rec.uid;
    const grace = pod.metadata?.deletionGracePeriodSeconds ?? podGracePeriodSeconds(pod);
    if (observed.length > 0) {
      this.deps.log.info({ pod: podRef(pod), gracePeriodSeconds: grace }, 'terminating pod');
      this.deps.probes.removePod(uid);
      await this.stopper.stopAll(observed, grace, rec.withLastStatus(pod));
      await this.stopper.removeAll(observed);
    }
    await this.deps.volumes.cleanup(uid);
    await this.deps.sink.deletePod(pod);
    this.deps.log.info({ pod: podRef(pod) }, 'pod terminated and deleted');
    // An update that came in meanwhile is kept (the API's delete of the pod removes it).
    return { forget: { keep: rec.pod === pod ? undefined : rec.pod } };
  }

  /** Containers of a pod the API no longer has: stop and remove them. */
  private async removeOrphan(rec: PodRecord, observed: RuntimeContainer[]): Promise<SyncResult> {
    if (observed.length > 0) {
      const first = observed[0];
      const labelled = Math.max(0, ...observed.map((c) => c.gracePeriodSeconds ?? 0));
      const grace = rec.forceDeleted ? Math.min(labelled, this.deps.forceDeleteGraceSeconds ?? 2) : labelled;
      this.deps.log.info({ pod: `${first.podNamespace}/${first.podName}`, podUid: rec.uid, gracePeriodSeconds: grace }, 'removing containers of a pod that is not in the API');
      await this.stopper.stopAll(observed, grace);
      await this.stopper.removeAll(observed);
    }
    await this.deps.volumes.cleanup(rec.uid);
    return { forget: {} };
  }
}
