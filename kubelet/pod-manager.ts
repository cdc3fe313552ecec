import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import type { Logger } from '../lib/log';
import {
  ContainerConfigError,
  PAUSE_IMAGE,
  buildContainerSpec,
  buildSandboxSpec,
  podGracePeriodSeconds,
  pullPolicyOf,
} from './container-spec';
import type { KubeletMetrics } from './metrics';
import { computePodActions, computePodStatus, type PodActions, type WaitingReason } from './pod-sync';
import {
  ImageError,
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
}

export const IMAGE_BACKOFF_INITIAL_MS = 10_000;
export const IMAGE_BACKOFF_MAX_MS = 300_000;
const SANDBOX_STOP_SECONDS = 2;

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
 * new manager adopts whatever is running.
 */
export class PodManager {
  private readonly runtime: ContainerRuntime;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly pods = new Map<string, Pod>();
  private readonly workers = new Map<string, Worker>();
  private readonly waiting = new Map<string, Map<string, WaitingReason>>();
  private readonly imageBackoff = new Map<string, { until: number; delay: number }>();
  private readonly lastStatus = new Map<string, PodStatus>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly forceDeleted = new Set<string>();
  private network?: string;
  private sourcesReady = false;
  private stopped = false;

  constructor(private readonly opts: PodManagerOptions) {
    this.runtime = opts.runtime;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
  }

  /** The Docker network pods join; pods (but host-network ones) wait until it is set. */
  setNetwork(name: string): void {
    this.network = name;
  }

  /**
   * Declares that the set of desired pods is complete (the pod informer has
   * synced). Before that, containers of unknown pods are left alone, never
   * treated as orphans.
   */
  markSourcesReady(): void {
    this.sourcesReady = true;
  }

  /** A pod bound to this node was added or changed in the API. */
  updatePod(pod: Pod): Promise<void> {
    const uid = pod.metadata?.uid;
    if (!uid) return Promise.resolve();
    this.pods.set(uid, pod);
    return this.enqueue(uid);
  }

  /** A pod disappeared from the API (deleted with grace 0, or by us after termination). */
  removePod(pod: Pod): Promise<void> {
    const uid = pod.metadata?.uid;
    if (!uid) return Promise.resolve();
    if (this.pods.delete(uid)) this.forceDeleted.add(uid);
    return this.enqueue(uid);
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
    const containers = await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName });
    for (const c of containers) if (c.podUid) uids.add(c.podUid);
    this.updateGauges(containers);
    await Promise.all([...uids].map((uid) => this.enqueue(uid)));
  }

  /** A runtime event for one of our containers: resync its pod now. */
  onRuntimeEvent(ev: RuntimeEvent): void {
    if (ev.podUid) void this.enqueue(ev.podUid);
  }

  /** Stops scheduling syncs and waits for the ones in flight. Leaves containers running. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.workers.values()].map((w) => w.done));
  }

  private enqueue(uid: string): Promise<void> {
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
          } catch (err) {
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

  private async syncOne(uid: string): Promise<void> {
    const observed = await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName, [LABEL_POD_UID]: uid });
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
    if (!pod.spec?.hostNetwork && !this.network) return;

    const now = this.now();
    const actions = computePodActions(this.withLastStatus(pod), observed, now);
    const changed = await this.apply(pod, actions, observed, now);
    const after = changed ? await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName, [LABEL_POD_UID]: uid }) : observed;
    if (!this.pods.has(uid)) return; // deleted meanwhile
    const status = computePodStatus(this.withLastStatus(pod), after, { hostIP: this.opts.nodeIP, now: this.now(), waiting: this.waiting.get(uid) });
    this.lastStatus.set(uid, status);
    this.opts.sink.setStatus(pod, status);
    this.scheduleResync(uid, this.nextResync(uid, actions));
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

  private nextResync(uid: string, actions: PodActions): number | undefined {
    let at = actions.resyncAt;
    for (const [key, b] of this.imageBackoff) if (key.startsWith(`${uid}/`)) at = Math.min(at ?? Infinity, b.until);
    return at;
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
      await this.stopAll(observed, grace);
      changed = true;
    }
    for (const k of actions.containersToKill) {
      this.log.info({ pod: podRef(pod), container: k.name, reason: k.reason }, 'stopping container');
      await this.runtime.stopContainer(k.id, grace);
      changed = true;
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
    let podIP: string | undefined = pod.spec?.hostNetwork ? this.opts.nodeIP : observed.find((c) => c.id === sandboxId)?.ip;
    if (actions.createSandbox) {
      try {
        await this.runtime.ensureImage(PAUSE_IMAGE, 'IfNotPresent');
        sandboxId = await this.runtime.runSandbox(buildSandboxSpec(pod, actions.sandboxAttempt, this.opts.nodeName, this.network));
        changed = true;
        const sandbox = (await this.runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName, [LABEL_POD_UID]: uid })).find((c) => c.id === sandboxId);
        if (!pod.spec?.hostNetwork) podIP = sandbox?.ip;
        this.log.info({ pod: podRef(pod), sandbox: sandboxId.slice(0, 12), podIP }, 'started pod sandbox');
      } catch (err) {
        const message = `failed to create pod sandbox: ${(err as Error).message}`;
        this.log.error({ pod: podRef(pod), err: (err as Error).message }, 'sandbox creation failed');
        this.opts.metrics?.runtimeErrors.inc({ operation_type: 'run_sandbox' });
        for (const c of actions.containersToStart) waiting.set(c.name, { reason: 'ContainerCreating', message });
        this.scheduleResync(uid, now + 5_000);
        return changed;
      }
    }
    if (!sandboxId) return changed;

    for (const toStart of actions.containersToStart) {
      const spec = pod.spec?.containers?.find((c) => c.name === toStart.name);
      if (!spec) continue;
      if (await this.startContainer(pod, spec, toStart.restartCount, sandboxId, podIP, now)) changed = true;
    }
    return changed;
  }

  /** Pulls, creates and starts one container; records a waiting reason on failure. Returns whether the runtime changed. */
  private async startContainer(pod: Pod, spec: NonNullable<Pod['spec']>['containers'][number], restartCount: number, sandboxId: string, podIP: string | undefined, now: number): Promise<boolean> {
    const uid = pod.metadata!.uid!;
    const waiting = this.waitingOf(uid);
    const image = spec.image ?? '';
    const backoffKey = `${uid}/${spec.name}`;
    const backoff = this.imageBackoff.get(backoffKey);
    if (backoff && now < backoff.until) {
      waiting.set(spec.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });
      return false;
    }
    try {
      await this.runtime.ensureImage(image, pullPolicyOf(spec));
      this.imageBackoff.delete(backoffKey);
    } catch (err) {
      if (!(err instanceof ImageError)) throw err;
      waiting.set(spec.name, { reason: err.reason, message: err.message });
      if (err.reason === 'ErrImagePull') {
        const delay = backoff ? Math.min(backoff.delay * 2, IMAGE_BACKOFF_MAX_MS) : IMAGE_BACKOFF_INITIAL_MS;
        this.imageBackoff.set(backoffKey, { until: now + delay, delay });
      }
      this.log.warn({ pod: podRef(pod), container: spec.name, image, reason: err.reason, err: err.message }, 'image not available');
      this.opts.metrics?.runtimeErrors.inc({ operation_type: 'pull_image' });
      return false;
    }
    let cspec;
    try {
      cspec = buildContainerSpec(pod, spec, restartCount, sandboxId, { podIP, hostIP: this.opts.nodeIP, nodeName: this.opts.nodeName });
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      waiting.set(spec.name, { reason: err.reason, message: err.message });
      return false;
    }
    let id: string;
    try {
      id = await this.runtime.createContainer(cspec);
    } catch (err) {
      waiting.set(spec.name, { reason: 'CreateContainerError', message: (err as Error).message });
      this.opts.metrics?.runtimeErrors.inc({ operation_type: 'create_container' });
      this.log.error({ pod: podRef(pod), container: spec.name, err: (err as Error).message }, 'create container failed');
      return false;
    }
    try {
      await this.runtime.startContainer(id);
    } catch (err) {
      waiting.set(spec.name, { reason: 'RunContainerError', message: (err as Error).message });
      this.opts.metrics?.runtimeErrors.inc({ operation_type: 'start_container' });
      this.log.error({ pod: podRef(pod), container: spec.name, err: (err as Error).message }, 'start container failed');
      return true;
    }
    waiting.delete(spec.name);
    this.log.info({ pod: podRef(pod), container: spec.name, id: id.slice(0, 12), restartCount }, 'started container');
    return true;
  }

  /** Stops app containers (in parallel, SIGTERM then SIGKILL after `grace`), then sandboxes. */
  private async stopAll(observed: RuntimeContainer[], grace: number): Promise<void> {
    const running = observed.filter((c) => c.state === 'running');
    await Promise.all(running.filter((c) => c.containerName !== SANDBOX_CONTAINER_NAME).map((c) => this.runtime.stopContainer(c.id, grace)));
    await Promise.all(running.filter((c) => c.containerName === SANDBOX_CONTAINER_NAME).map((c) => this.runtime.stopContainer(c.id, SANDBOX_STOP_SECONDS)));
  }

  private async removeAll(observed: RuntimeContainer[]): Promise<void> {
    const apps = observed.filter((c) => c.containerName !== SANDBOX_CONTAINER_NAME);
    await Promise.all(apps.map((c) => this.runtime.removeContainer(c.id)));
    await Promise.all(observed.filter((c) => c.containerName === SANDBOX_CONTAINER_NAME).map((c) => this.runtime.removeContainer(c.id)));
  }

  /** Graceful termination of a pod with a deletionTimestamp, then its final DELETE. */
  private async terminate(pod: Pod, observed: RuntimeContainer[]): Promise<void> {
    const uid = pod.metadata!.uid!;
    const grace = pod.metadata?.deletionGracePeriodSeconds ?? podGracePeriodSeconds(pod);
    if (observed.length > 0) {
      this.log.info({ pod: podRef(pod), gracePeriodSeconds: grace }, 'terminating pod');
      await this.stopAll(observed, grace);
      await this.removeAll(observed);
    }
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
      await this.stopAll(observed, grace);
      await this.removeAll(observed);
    }
    this.forget(uid);
  }

  private forget(uid: string): void {
    this.waiting.delete(uid);
    this.lastStatus.delete(uid);
    this.forceDeleted.delete(uid);
    for (const key of this.imageBackoff.keys()) if (key.startsWith(`${uid}/`)) this.imageBackoff.delete(key);
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

function podRef(pod: Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name}`;
}
