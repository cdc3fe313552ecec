import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1';
import { containerHash } from './container-spec';
import { SANDBOX_CONTAINER_NAME, type RuntimeContainer } from './runtime';

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

/** Delay before restarting a container whose instance number `restartCount` died: 10 s doubling, capped at 5 min. */
export function crashBackoffMs(restartCount: number): number {
  return Math.min(CRASH_BACKOFF_INITIAL_MS * 2 ** Math.min(restartCount, 30), CRASH_BACKOFF_MAX_MS);
}

/** A reason a container is waiting that the runtime state alone does not show (image pull, config, start errors). */
export interface WaitingReason {
  reason: string;
  message?: string;
}

export interface ContainerToStart {
  name: string;
  restartCount: number;
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
  /** App containers to create and start, in spec order. */
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

function isTerminalPhase(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/**
 * Decides what to do for a pod that is not being deleted. `now` is epoch ms.
 * Idempotent: applying the actions and calling again with the new runtime state
 * converges to no actions.
 */
export function computePodActions(pod: Pod, observed: RuntimeContainer[], now: number): PodActions {
  const o = observePod(observed);
  const specContainers = pod.spec?.containers ?? [];
  const specNames = new Set(specContainers.map((c) => c.name));
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

  // Garbage: old sandboxes, instances beyond the latest two (the second one feeds lastState), unknown containers.
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
    instances.forEach((c, i) => {
      if (i === 0) return;
      if (!isDead(c)) actions.containersToKill.push({ id: c.id, name, reason: 'superseded by a newer instance' });
      else if (i >= 2) actions.containersToRemove.push(c.id);
    });
  }

  const phase = computePhase(pod, specContainers, o, new Map());
  if (isTerminalPhase(pod.status?.phase) || isTerminalPhase(phase)) {
    for (const c of specContainers) {
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
    const containersRan = [...o.containers.values()].some((l) => l.length > 0);
    if (sandbox && restartPolicy(pod) === 'Never' && containersRan) return actions;
    actions.createSandbox = true;
    for (const c of specContainers) {
      const latest = o.containers.get(c.name)?.[0];
      if (!latest) actions.containersToStart.push({ name: c.name, restartCount: 0 });
      else if (!isDead(latest) || shouldRestart(pod, latest)) actions.containersToStart.push({ name: c.name, restartCount: latest.restartCount + 1 });
    }
    return actions;
  }

  actions.sandboxId = sandbox.id;
  for (const c of specContainers) {
    const latest = o.containers.get(c.name)?.[0];
    if (!latest) {
      actions.containersToStart.push({ name: c.name, restartCount: 0 });
      continue;
    }
    if (latest.state === 'running') {
      if (latest.hash && latest.hash !== containerHash(c)) {
        actions.containersToKill.push({ id: latest.id, name: c.name, reason: 'container spec changed' });
        actions.containersToStart.push({ name: c.name, restartCount: latest.restartCount + 1 });
      }
      continue;
    }
    if (latest.state === 'created') {
      // Created but never started (a failed start): replace it, same restart count.
      actions.containersToRemove.push(latest.id);
      actions.containersToStart.push({ name: c.name, restartCount: latest.restartCount });
      continue;
    }
    if (!shouldRestart(pod, latest)) continue;
    const finished = latest.finishedAt ? Date.parse(latest.finishedAt) : now;
    const delay = crashBackoffMs(latest.restartCount);
    const until = finished + delay;
    if (now < until) {
      actions.backoff.push({
        name: c.name,
        until,
        message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.name} pod=${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`,
      });
      actions.resyncAt = Math.min(actions.resyncAt ?? Infinity, until);
      continue;
    }
    actions.containersToStart.push({ name: c.name, restartCount: latest.restartCount + 1 });
  }
  return actions;
}

/** Kubernetes wire timestamps: RFC 3339 in whole seconds. */
export function rfc3339(t: string | number | Date): string {
  return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

function terminatedState(c: RuntimeContainer): ContainerState {
  const exitCode = c.exitCode ?? 0;
  const reason = c.oomKilled ? 'OOMKilled' : c.state === 'exited' ? (exitCode === 0 ? 'Completed' : 'Error') : 'Unknown';
  return {
    terminated: {
      exitCode,
      reason,
      ...(c.error ? { message: c.error } : {}),
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

function containerStatus(spec: Container, instances: RuntimeContainer[] | undefined, waiting: WaitingReason | undefined): ContainerStatus {
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
    status.ready = true;
    status.started = true;
    return status;
  }
  if (cur && cur.state !== 'created') {
    status.state = terminatedState(cur);
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
  return phaseFromStatuses(pod, specs, specs.map((s) => containerStatus(s, o.containers.get(s.name), waiting.get(s.name))));
}

export interface StatusContext {
  hostIP: string;
  /** Epoch ms; used for condition transitions and a first startTime. */
  now: number;
  /** Waiting reasons the runtime does not show, by container name (pull errors, CrashLoopBackOff, ...). */
  waiting?: Map<string, WaitingReason>;
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
  const containerStatuses = specs.map((s) => containerStatus(s, o.containers.get(s.name), waiting.get(s.name)));
  const phase = isTerminalPhase(old.phase) ? old.phase! : phaseFromStatuses(pod, specs, containerStatuses);

  const unready = containerStatuses.filter((s) => !s.ready).map((s) => s.name);
  const ready = unready.length === 0;
  const notReadyMsg = `containers with unready status: [${unready.join(' ')}]`;
  const completed = phase === 'Succeeded' || phase === 'Failed';
  const conditions: PodCondition[] = [
    condition('PodScheduled', true, ctx.now, old.conditions),
    condition('Initialized', true, ctx.now, old.conditions),
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
  if (podIP) {
    status.podIP = podIP;
    status.podIPs = [{ ip: podIP }];
  }
  if (old.qosClass) status.qosClass = old.qosClass;
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
