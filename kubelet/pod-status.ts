import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1';
import { rfc3339 } from '../lib/time';
import { initState, isTerminalPhase, observePod, restartPolicy, type ObservedPod, type WaitingReason } from './pod-observe';
import type { RuntimeContainer } from './runtime';

/**
 * The pure status half of the pod sync core: `computePodStatus` says what to
 * report for a pod from its runtime containers, modelled on kubelet's
 * `convertToAPIContainerStatuses` and `getPhase`; `statusEqual` tells the
 * status manager whether a write is needed.
 */

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

/** The pod's phase from its runtime containers (what computePodActions checks for a terminal pod). */
export function computePhase(pod: Pod, specs: Container[], o: ObservedPod, waiting: Map<string, WaitingReason>): string {
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
