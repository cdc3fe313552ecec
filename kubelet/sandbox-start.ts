import type { Pod } from 'kubernetes-types/core/v1';
import type { Logger } from '../lib/log';
import { PAUSE_IMAGE, buildSandboxSpec, podRef } from './container-spec';
import type { SandboxState } from './container-start';
import type { KubeletMetrics } from './metrics';
import { IPAMExhaustedError, type PodNetwork } from './pod-network';
import type { PodActions } from './pod-sync';
import type { PodRecord } from './pod-record';
import { LABEL_CONTAINER_NAME, LABEL_NODE, SANDBOX_CONTAINER_NAME, type ContainerRuntime, type RuntimeContainer } from './runtime';

/** Backoff between failed sandbox creations of a pod. */
export const SANDBOX_BACKOFF_INITIAL_MS = 2_000;
export const SANDBOX_BACKOFF_MAX_MS = 60_000;

export interface SandboxStarterDeps {
  runtime: ContainerRuntime;
  nodeName: string;
  log: Logger;
  metrics?: KubeletMetrics;
  /** `--seccomp-default`: RuntimeDefault for sandboxes of pods that name no seccomp profile. */
  seccompDefault?: boolean;
  now: () => number;
  event: (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string) => void;
  trace: (uid: string, phase: string) => void;
  /** Told a container is about to be started by this kubelet (its runtime start event needs no sync). */
  onStarting: (id: string) => void;
}

/**
 * Pod sandboxes and their place on the pod network: the pod IP allocated before
 * the sandbox is created, the sandbox started and wired before any container
 * of the pod starts, failed attempts backed off, and adopted sandboxes (a
 * restarted kubelet) checked once and rewired when they lack their interface.
 */
export class SandboxStarter {
  private network?: PodNetwork;
  /** Running sandboxes whose wiring this kubelet has seen or checked (the rest are checked once: a kubelet killed mid-wiring). */
  private readonly wired = new Set<string>();

  constructor(private readonly deps: SandboxStarterDeps) {}

  /** Whether pods on the pod network can get sandboxes yet. */
  get networkReady(): boolean {
    return this.network !== undefined;
  }

  /** The pod network, once set up for the node's podCIDR; its allocations are first rebuilt from the sandboxes in the runtime. */
  async setNetwork(net: PodNetwork): Promise<void> {
    await this.reconcileIPs(net);
    this.network = net;
  }

  /** Frees the pod IPs of sandboxes gone from a listing of the node's containers begun at `listedAt` (see PodIPAM.reconcile). */
  reconcile(containers: RuntimeContainer[], listedAt: number): void {
    this.network?.reconcile(liveSandboxes(containers), listedAt);
  }

  private async reconcileIPs(net: PodNetwork): Promise<void> {
    const listedAt = this.deps.now();
    net.reconcile(liveSandboxes(await this.deps.runtime.listContainers({ [LABEL_NODE]: this.deps.nodeName, [LABEL_CONTAINER_NAME]: SANDBOX_CONTAINER_NAME })), listedAt);
  }

  /** A pod IP for a new sandbox; when none is free, the allocations are first checked against the runtime. */
  private async allocateIP(net: PodNetwork, uid: string): Promise<string> {
    try {
      return net.allocate(uid);
    } catch (err) {
      if (!(err instanceof IPAMExhaustedError)) throw err;
      await this.reconcileIPs(net);
      return net.allocate(uid);
    }
  }

  /**
   * A running sandbox this kubelet has not wired itself (adopted after a
   * restart) is checked once, and rewired if it lacks its interface; false when
   * that failed (no container may start in it).
   */
  async checkWiring(pod: Pod, observed: RuntimeContainer[]): Promise<boolean> {
    for (const sb of observed) {
      if (sb.containerName !== SANDBOX_CONTAINER_NAME || sb.state !== 'running' || this.wired.has(sb.id) || !sb.pid || !sb.ip || !this.network) continue;
      try {
        if (!(await this.network.isAttached(sb.id, sb.pid))) {
          this.deps.log.warn({ pod: podRef(pod), sandbox: sb.id.slice(0, 12), podIP: sb.ip }, 'sandbox has no pod interface; wiring it again');
          await this.network.attach(sb.id, sb.pid, sb.ip);
        }
        this.markWired(sb.id);
      } catch (err) {
        this.deps.log.error({ pod: podRef(pod), sandbox: sb.id.slice(0, 12), err: (err as Error).message }, 'cannot wire sandbox to the pod network');
        return false;
      }
    }
    return true;
  }

  private markWired(id: string): void {
    if (this.wired.size > 4096) this.wired.clear();
    this.wired.add(id);
  }

  /**
   * Creates the pod's sandbox and starts it in the background: `sandbox.started`
   * resolves once it runs and is wired (app containers may be created against it
   * meanwhile), `sandbox.ready` once that is logged. Returns the new sandbox's ID,
   * or undefined when it could not be created or is backing off (the reasons are
   * in `rec.waiting`, the backoff in `rec.sandboxBackoff`, the next attempt in `actions.resyncAt`).
   */
  async create(pod: Pod, actions: PodActions, rec: Pick<PodRecord, 'waiting' | 'sandboxBackoff'>, sandbox: SandboxState, now: number): Promise<string | undefined> {
    const uid = pod.metadata!.uid!;
    const waiting = rec.waiting;
    // After a failure, the next attempt waits (2 s doubling to 1 min), not the next event: the
    // failed sandbox's own removal would otherwise bring the pod straight back here.
    const backoff = rec.sandboxBackoff;
    if (backoff && now < backoff.until) {
      actions.resyncAt = Math.min(actions.resyncAt ?? Infinity, backoff.until);
      return undefined;
    }
    const net = pod.spec?.hostNetwork ? undefined : this.network;
    let podIP: string | undefined;
    const failed = (err: unknown): false => {
      const message = `failed to create pod sandbox: ${(err as Error).message}`;
      this.deps.log.error({ pod: podRef(pod), err: (err as Error).message }, 'sandbox creation failed');
      this.deps.metrics?.runtimeErrors.inc({ operation_type: 'run_sandbox' });
      if (podIP) net?.release(podIP);
      for (const c of actions.containersToStart) waiting.set(c.name, { reason: 'ContainerCreating', message });
      const delayMs = Math.min((backoff?.delayMs ?? SANDBOX_BACKOFF_INITIAL_MS / 2) * 2, SANDBOX_BACKOFF_MAX_MS);
      if (backoff?.message !== message) this.deps.event(pod, 'Warning', 'FailedCreatePodSandBox', message);
      rec.sandboxBackoff = { until: this.deps.now() + delayMs, delayMs, message };
      actions.resyncAt = Math.min(actions.resyncAt ?? Infinity, this.deps.now() + delayMs);
      return false;
    };
    let id: string;
    try {
      await this.deps.runtime.ensureImage(PAUSE_IMAGE, 'IfNotPresent');
      podIP = net ? await this.allocateIP(net, uid) : undefined;
      id = await this.deps.runtime.createSandbox(buildSandboxSpec(pod, actions.sandboxAttempt, this.deps.nodeName, podIP, this.deps.seccompDefault));
    } catch (err) {
      failed(err);
      return undefined;
    }
    if (net && podIP) {
      net.bind(podIP, id);
      sandbox.podIP = podIP;
    }
    // Docker creates app containers against a created sandbox (only their start needs it running):
    // the sandbox starts while volumes, environment and containers are prepared.
    this.deps.trace(uid, 'sandbox-created');
    let markStarted: (ok: boolean) => void = () => undefined;
    sandbox.started = new Promise<boolean>((resolve) => (markStarted = resolve));
    // Containers start once the sandbox runs and (pod network) is wired: nothing in the pod ever sees it without its interface.
    this.deps.onStarting(id);
    sandbox.ready = this.deps.runtime
      .startSandbox(id, () => {
        this.deps.trace(uid, 'sandbox-running');
        if (!net) markStarted(true);
      })
      .then(async (sb) => {
        if (net && podIP) {
          try {
            await net.attach(id, sb?.pid ?? 0, podIP);
          } catch (err) {
            await this.deps.runtime.removeContainer(id).catch(() => undefined);
            throw err;
          }
          this.markWired(id);
          this.deps.trace(uid, 'sandbox-wired');
        }
      })
      .then(
        () => {
          markStarted(true);
          rec.sandboxBackoff = undefined;
          this.deps.log.info({ pod: podRef(pod), sandbox: id.slice(0, 12), podIP: sandbox.podIP }, 'started pod sandbox');
          return true;
        },
        (err: unknown) => {
          markStarted(false);
          return failed(err);
        },
      );
    return id;
  }
}

/** Sandboxes that hold a pod IP (running, or created and about to start). */
function liveSandboxes(containers: RuntimeContainer[]): { id: string; ip?: string }[] {
  return containers.filter((c) => c.containerName === SANDBOX_CONTAINER_NAME && (c.state === 'running' || c.state === 'created')).map((c) => ({ id: c.id, ip: c.ip }));
}
