import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1';
import { containerHash } from './container-spec';
import { SANDBOX_CONTAINER_NAME, type RuntimeContainer } from './runtime';
import { rfc3339 } from '../lib/time';

/**
 * The pure pod sync core. Given the desired pod (from the API) and what the
 * runtime shows for it (containers found by labels), `computePodActions` says
 * what to do next and `computePodStatus` says what to report. Both are
 * deterministic functions of their inputs and a `now` passed in; the pod
 * manager does the IO. Modelled on kubelet's kuberuntime `computePodActions`
 * and `convertToAPIContainerStatuses`.
 */

export const CRASH_BACKOFF_INITIAL_MS = 10_000;
export const CRASH_BACKOFF_MAX_MS = 300_000;

/** A container that ran this long before dying restarts with the initial backoff again. */
export const CRASH_BACKOFF_RESET_MS = 600_000;

/** Delay after the `n`th consecutive quick failure (n from 0): 10 s doubling, capped at 5 min. */
export function crashBackoffMs(n: number): number {
  return Math.min(CRASH_BACKOFF_INITIAL_MS * 2 ** Math.min(n, 30), CRASH_BACKOFF_MAX_MS);
}

/**
 * Backoff before restarting the dead instance `c`, and the failure count the
 * next instance carries (label coxswain.crash-backoff). A run of 10 minutes or
 * more resets the count, as kubelet's backoff does.
 */
export function restartBackoff(c: RuntimeContainer): { delayMs: number; nextCount: number } {
  const ran = c.startedAt && c.finishedAt ? Date.parse(c.finishedAt) - Date.parse(c.startedAt) : 0;
  const n = ran >= CRASH_BACKOFF_RESET_MS ? 0 : (c.backoffCount ?? c.restartCount);
  return { delayMs: crashBackoffMs(n), nextCount: n + 1 };
}

/** A reason a container is waiting that the runtime state alone does not show (image pull, config, start errors). */
export interface WaitingReason {
  reason: string;
  message?: string;
}

export interface ContainerToStart {
  name: string;
  restartCount: number;
  /** Consecutive quick failures before this instance (its crash-backoff label); 0 when absent. */
  backoffCount?: number;
}

export interface ContainerToKill {
  id: string;
  name: string;
  reason: string;
}

export interface PodActions {
  /** Stop every running container and the sandbox before anything else (the sandbox is gone or replaced). */
  killPod: boolean;
  /** Create a new sandbox (after killPod, if set) with attempt number `sandboxAttempt`. */
  createSandbox: boolean;
  sandboxAttempt: number;
  /** The running sandbox to start containers in, when no new one is created. */
  sandboxId?: string;
  /** Containers to create and start, in spec order: one init container, or app containers once initialized. */
  containersToStart: ContainerToStart[];
  /** Running app containers to stop (then remove). */
  containersToKill: ContainerToKill[];
  /** Dead containers nobody needs any more (older instances, old sandboxes). */
  containersToRemove: string[];
  /** The pod reached a terminal phase: stop its sandbox (containers stay for their status). */
  stopSandbox: boolean;
  /** Containers held back by crash-loop backoff. */
  backoff: { name: string; until: number; message: string }[];
  /** Earliest time (epoch ms) the pod wants another sync, when a backoff ends. */
  resyncAt?: number;
}

/** The runtime's containers of one pod, split into sandboxes and app instances, newest first. */
export interface ObservedPod {
  sandboxes: RuntimeContainer[];
  /** Container name → instances, newest (highest restart count) first. */
  containers: Map<string, RuntimeContainer[]>;
}

function newestFirst(a: RuntimeContainer, b: RuntimeContainer): number {
  return b.restartCount - a.restartCount || b.createdAt.localeCompare(a.createdAt);
}

export function observePod(containers: RuntimeContainer[]): ObservedPod {
  const sandboxes: RuntimeContainer[] = [];
  const byName = new Map<string, RuntimeContainer[]>();
  for (const c of containers) {
    if (c.containerName === SANDBOX_CONTAINER_NAME) sandboxes.push(c);
    else {
      const list = byName.get(c.containerName) ?? [];
      list.push(c);
      byName.set(c.containerName, list);
    }
  }
  sandboxes.sort(newestFirst);
  for (const list of byName.values()) list.sort(newestFirst);
  return { sandboxes, containers: byName };
}

function isDead(c: RuntimeContainer): boolean {
  return c.state !== 'running';
}

/** Created but never started (a kubelet stopped while the sandbox was starting): it never ran. */
function neverRan(c: RuntimeContainer): boolean {
  return c.state === 'created' && !c.startedAt;
}

function restartPolicy(pod: Pod): 'Always' | 'OnFailure' | 'Never' {
  const p = pod.spec?.restartPolicy;
  return p === 'OnFailure' || p === 'Never' ? p : 'Always';
}

/** Whether a container whose latest instance is dead should run again under the pod's restart policy. */
function shouldRestart(pod: Pod, latest: RuntimeContainer): boolean {
  const policy = restartPolicy(pod);
  if (policy === 'Always') return true;
  if (policy === 'Never') return false;
  // OnFailure: a container that was created but never ran did not succeed.
  return latest.state !== 'exited' || latest.exitCode !== 0;
}

/** Where a pod's init containers stand: all done, one still to run/running, or one failed for good (restartPolicy Never). */
export type InitState = 'done' | 'pending' | 'failed';

export function initState(pod: Pod, o: ObservedPod): InitState {
  const inits = pod.spec?.initContainers ?? [];
  if (inits.length === 0) return 'done';
  // Once an app container ran, the pod was initialized (even if init instances were removed since).
  if ((pod.spec?.containers ?? []).some((c) => (o.containers.get(c.name)?.length ?? 0) > 0)) return 'done';
  for (const c of inits) {
    const latest = o.containers.get(c.name)?.[0];
    if (!latest || latest.state !== 'exited') return 'pending';
    if (latest.exitCode === 0) continue;
    return restartPolicy(pod) === 'Never' ? 'failed' : 'pending';
  }
  return 'done';
}

/** Restart (or hold back in crash-loop backoff) a dead container; `what` names it in the message. */
function restartOrBackoff(pod: Pod, name: string, latest: RuntimeContainer, now: number, actions: PodActions): void {
  const finished = latest.finishedAt ? Date.parse(latest.finishedAt) : now;
  const { delayMs, nextCount } = restartBackoff(latest);
  const until = finished + delayMs;
  if (now < until) {
    actions.backoff.push({
      name,
      until,
      message: `back-off ${Math.round(delayMs / 1000)}s restarting failed container=${name} pod=${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`,
    });
    actions.resyncAt = Math.min(actions.resyncAt ?? Infinity, until);
    return;
  }
  actions.containersToStart.push({ name, restartCount: latest.restartCount + 1, backoffCount: nextCount });
}

/**
 * Init containers run one at a time, in order, each to completion. Adds the
 * next step to `actions`; returns true once every init container succeeded.
 */
function initActions(pod: Pod, o: ObservedPod, now: number, actions: PodActions): boolean {
  if (initState(pod, o) === 'done') return true;
  for (const c of pod.spec?.initContainers ?? []) {
    const latest = o.containers.get(c.name)?.[0];
    if (!latest) {
      actions.containersToStart.push({ name: c.name, restartCount: 0 });
      return false;
    }
    if (latest.state === 'running') return false;
    if (latest.state === 'created' || latest.state === 'unknown') {
      actions.containersToRemove.push(latest.id);
      actions.containersToStart.push({ name: c.name, restartCount: latest.restartCount, ...(latest.backoffCount !== undefined ? { backoffCount: latest.backoffCount } : {}) });
      return false;
    }
    if (latest.exitCode === 0) continue;
    // An init container's failure restarts it under Always and OnFailure; Never fails the pod.
    if (restartPolicy(pod) !== 'Never') restartOrBackoff(pod, c.name, latest, now, actions);
    return false;
  }
  return true;
}

function isTerminalPhase(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/**
 * Decides what to do for a pod that is not being deleted. `now` is epoch ms.
 * Idempotent: applying the actions and calling again with the new runtime state
 * converges to no actions.
 */
export function computePodActions(pod: Pod, observed: RuntimeContainer[], now: number, opts: { maxPerPodContainer?: number } = {}): PodActions {
  const maxDead = opts.maxPerPodContainer ?? 1;
  const o = observePod(observed);
  const specContainers = pod.spec?.containers ?? [];
  const specNames = new Set([...specContainers, ...(pod.spec?.initContainers ?? [])].map((c) => c.name));
  const actions: PodActions = {
    killPod: false,
    createSandbox: false,
    sandboxAttempt: 0,
    containersToStart: [],
    containersToKill: [],
    containersToRemove: [],
    stopSandbox: false,
    backoff: [],
  };
  const [sandbox, ...oldSandboxes] = o.sandboxes;

  // Garbage: old sandboxes, unknown containers, and dead instances beyond the newest `maxPerPodContainer`
  // dead ones (kubelet's container GC; the newest instance always stays, it carries restartCount and state).
  for (const s of oldSandboxes) {
    if (isDead(s)) actions.containersToRemove.push(s.id);
    else actions.killPod = true;
  }
  for (const [name, instances] of o.containers) {
    if (!specNames.has(name)) {
      for (const c of instances) {
        if (isDead(c)) actions.containersToRemove.push(c.id);
        else actions.containersToKill.push({ id: c.id, name, reason: 'not in the pod spec' });
      }
      continue;
    }
    let dead = 0;
    instances.forEach((c, i) => {
      if (i > 0 && !isDead(c)) actions.containersToKill.push({ id: c.id, name, reason: 'superseded by a newer instance' });
      else if (isDead(c) && ++dead > maxDead && i > 0 && maxDead >= 0) actions.containersToRemove.push(c.id);
    });
  }

  const phase = computePhase(pod, specContainers, o, new Map());
  if (isTerminalPhase(pod.status?.phase) || isTerminalPhase(phase)) {
    for (const c of [...specContainers, ...(pod.spec?.initContainers ?? [])]) {
      const latest = o.containers.get(c.name)?.[0];
      if (latest && !isDead(latest)) actions.containersToKill.push({ id: latest.id, name: c.name, reason: 'pod is terminal' });
    }
    actions.stopSandbox = !!sandbox && !isDead(sandbox);
    return actions;
  }

  if (!sandbox || isDead(sandbox)) {
    const anyRunning = observed.some((c) => !isDead(c));
    actions.killPod = actions.killPod || anyRunning;
    actions.sandboxAttempt = sandbox ? sandbox.restartCount + 1 : 0;
    // restartPolicy Never: once containers have run, a lost sandbox is not replaced.
    const containersRan = [...o.containers.values()].some((l) => l.some((c) => !neverRan(c)));
    if (sandbox && restartPolicy(pod) === 'Never' && containersRan) return actions;
    actions.createSandbox = true;
    // A new sandbox runs the init containers again, first to last.
    const inits = pod.spec?.initContainers ?? [];
    if (inits.length > 0) {
      const latest = o.containers.get(inits[0].name)?.[0];
      actions.containersToStart.push({ name: inits[0].name, restartCount: latest ? latest.restartCount + 1 : 0 });
      return actions;
    }
    for (const c of specContainers) {
      const latest = o.containers.get(c.name)?.[0];
      if (latest && neverRan(latest)) actions.containersToRemove.push(latest.id); // bound to the dead sandbox
      if (!latest || neverRan(latest)) actions.containersToStart.push({ name: c.name, restartCount: latest?.restartCount ?? 0 });
      else if (!isDead(latest) || shouldRestart(pod, latest)) actions.containersToStart.push({ name: c.name, restartCount: latest.restartCount + 1 });
    }
    return actions;
  }

  actions.sandboxId = sandbox.id;
  if (!initActions(pod, o, now, actions)) return actions;
  for (const c of specContainers) {
    const latest = o.containers.get(c.name)?.[0];
    if (!latest) {
      actions.containersToStart.push({ name: c.name, restartCount: 0 });
      continue;
    }
    if (latest.state === 'running') {
      if (latest.hash && latest.hash !== containerHash(c)) {
        actions.containersToKill.push({ id: latest.id, name: c.name, reason: 'container spec changed' });
        actions.containersToStart.push({ name: c.name, restartCount: latest.restartCount + 1, backoffCount: 0 });
      }
      continue;
    }
    if (latest.state === 'created') {
      // Created but never started (a failed start): replace it, same restart count.
      actions.containersToRemove.push(latest.id);
      actions.containersToStart.push({ name: c.name, restartCount: latest.restartCount, ...(latest.backoffCount !== undefined ? { backoffCount: latest.backoffCount } : {}) });
      continue;
    }
    if (!shouldRestart(pod, latest)) continue;
    restartOrBackoff(pod, c.name, latest, now, actions);
  }
  return actions;
}

function terminatedState(c: RuntimeContainer): ContainerState {
  const exitCode = c.exitCode ?? 0;
  const reason = c.oomKilled ? 'OOMKilled' : c.state === 'exited' ? (exitCode === 0 ? 'Completed' : 'Error') : 'Unknown';
  return {
    terminated: {
      exitCode,
      reason,
      ...(c.terminationMessage || c.error ? { message: c.terminationMessage || c.error } : {}),
      ...(c.startedAt ? { startedAt: rfc3339(c.startedAt) } : {}),
      ...(c.finishedAt ? { finishedAt: rfc3339(c.finishedAt) } : {}),
      containerID: `docker://${c.id}`,
    },
  };
}

function stateOf(c: RuntimeContainer): ContainerState {
  if (c.state === 'running') return { running: { startedAt: rfc3339(c.startedAt ?? c.createdAt) } };
  if (c.state === 'created') return { waiting: { reason: 'ContainerCreating' } };
  return terminatedState(c);
}

/** What the probes say about a container's current instance (absent = no result yet). */
export interface ProbeView {
  ready?: boolean;
  started?: boolean;
}

function containerStatus(spec: Container, instances: RuntimeContainer[] | undefined, waiting: WaitingReason | undefined, probes?: ProbeView, init = false): ContainerStatus {
  const [cur, prev] = instances ?? [];
  const status: ContainerStatus = {
    name: spec.name,
    image: spec.image ?? '',
    imageID: cur?.imageId ? `docker://${cur.imageId}` : '',
    ready: false,
    started: false,
    restartCount: cur?.restartCount ?? 0,
    state: { waiting: { reason: 'ContainerCreating' } },
    lastState: prev && prev.state !== 'running' ? terminatedState(prev) : {},
  };
  if (cur) status.containerID = `docker://${cur.id}`;
  if (cur?.state === 'running') {
    status.state = stateOf(cur);
    if (init) {
      status.ready = false;
      status.started = true;
      return status;
    }
    status.started = spec.startupProbe ? probes?.started === true : true;
    status.ready = status.started && (spec.readinessProbe ? probes?.ready === true : true);
    return status;
  }
  if (cur && cur.state !== 'created') {
    status.state = terminatedState(cur);
    // A completed init container counts as ready.
    if (init && cur.state === 'exited' && cur.exitCode === 0) status.ready = true;
  }
  if (waiting) {
    if (status.state?.terminated) status.lastState = status.state;
    status.state = { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } };
  }
  return status;
}

/** Kubernetes' getPhase over container statuses. */
function phaseFromStatuses(pod: Pod, specs: Container[], statuses: ContainerStatus[]): string {
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  let unknown = 0;
  for (const spec of specs) {
    const s = statuses.find((x) => x.name === spec.name);
    if (!s) unknown++;
    else if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    const policy = restartPolicy(pod);
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function computePhase(pod: Pod, specs: Container[], o: ObservedPod, waiting: Map<string, WaitingReason>): string {
  const init = initState(pod, o);
  if (init === 'failed') return 'Failed';
  if (init === 'pending') return 'Pending';
  return phaseFromStatuses(pod, specs, specs.map((s) => containerStatus(s, o.containers.get(s.name), waiting.get(s.name))));
}

export interface StatusContext {
  hostIP: string;
  /** Epoch ms; used for condition transitions and a first startTime. */
  now: number;
  /** Waiting reasons the runtime does not show, by container name (pull errors, CrashLoopBackOff, ...). */
  waiting?: Map<string, WaitingReason>;
  /** Probe results of the containers' current instances, by container name. */
  probes?: Map<string, ProbeView>;
}

function condition(type: string, ok: boolean, now: number, old: PodCondition[] | undefined, reason?: string, message?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const prev = old?.find((c) => c.type === type);
  return {
    type,
    status,
    lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

/**
 * The status to report for a pod, from its runtime containers. Keeps what must
 * not move backwards: a terminal phase, startTime, condition transition times,
 * and the pod IP once the sandbox has stopped.
 */
export function computePodStatus(pod: Pod, observed: RuntimeContainer[], ctx: StatusContext): PodStatus {
  const o = observePod(observed);
  const old = pod.status ?? {};
  const specs = pod.spec?.containers ?? [];
  const waiting = ctx.waiting ?? new Map<string, WaitingReason>();
  const inits = pod.spec?.initContainers ?? [];
  const init = initState(pod, o);
  const initWaiting = (name: string): WaitingReason | undefined => waiting.get(name) ?? (init === 'done' ? undefined : { reason: 'PodInitializing' });
  const containerStatuses = specs.map((s) => containerStatus(s, o.containers.get(s.name), initWaiting(s.name), ctx.probes?.get(s.name)));
  const initContainerStatuses = inits.map((s) => containerStatus(s, o.containers.get(s.name), waiting.get(s.name), undefined, true));
  let phase: string;
  if (isTerminalPhase(old.phase)) phase = old.phase!;
  else if (init === 'failed') phase = 'Failed';
  else if (init === 'pending') phase = 'Pending';
  else phase = phaseFromStatuses(pod, specs, containerStatuses);
  const pendingInits = initContainerStatuses.filter((s) => !s.ready).map((s) => s.name);

  const unready = containerStatuses.filter((s) => !s.ready).map((s) => s.name);
  const ready = unready.length === 0;
  const notReadyMsg = `containers with unready status: [${unready.join(' ')}]`;
  const completed = phase === 'Succeeded' || phase === 'Failed';
  const conditions: PodCondition[] = [
    condition('PodScheduled', true, ctx.now, old.conditions),
    init === 'done'
      ? condition('Initialized', true, ctx.now, old.conditions)
      : condition('Initialized', false, ctx.now, old.conditions, 'ContainersNotInitialized', `containers with incomplete status: [${pendingInits.join(' ')}]`),
    condition('ContainersReady', ready, ctx.now, old.conditions, ready ? undefined : completed ? 'PodCompleted' : 'ContainersNotReady', ready || completed ? undefined : notReadyMsg),
    condition('Ready', ready, ctx.now, old.conditions, ready ? undefined : completed ? 'PodCompleted' : 'ContainersNotReady', ready || completed ? undefined : notReadyMsg),
  ];

  const sandbox = o.sandboxes[0];
  let podIP: string | undefined;
  if (pod.spec?.hostNetwork) podIP = ctx.hostIP;
  else if (sandbox?.state === 'running' && sandbox.ip) podIP = sandbox.ip;
  else if (sandbox) podIP = old.podIP;

  const status: PodStatus = {
    phase,
    conditions,
    hostIP: ctx.hostIP,
    hostIPs: [{ ip: ctx.hostIP }],
    startTime: old.startTime ?? rfc3339(ctx.now),
    containerStatuses,
  };
  if (inits.length > 0) status.initContainerStatuses = initContainerStatuses;
  if (podIP) {
    status.podIP = podIP;
    status.podIPs = [{ ip: podIP }];
  }
  if (old.qosClass) status.qosClass = old.qosClass;
  // Conditions others own (DisruptionTarget, readiness gates) stay; so do a terminal pod's reason and message.
  for (const c of old.conditions ?? []) if (!conditions.some((x) => x.type === c.type)) conditions.push(c);
  if (isTerminalPhase(phase) && phase === old.phase) {
    if (old.reason) status.reason = old.reason;
    if (old.message) status.message = old.message;
  }
  return status;
}

/**
 * Whether two statuses differ in anything but condition probe times: the
 * status manager writes only when this is true.
 */
export function statusEqual(a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined && obj[k] !== null && k !== 'lastProbeTime')
      .filter((k) => !(typeof obj[k] === 'object' && !Array.isArray(obj[k]) && Object.keys(obj[k] as object).length === 0))
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
