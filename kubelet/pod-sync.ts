import type { Pod } from 'kubernetes-types/core/v1';
import { containerHash } from './container-spec';
import { initState, isDead, isTerminalPhase, neverRan, observePod, restartPolicy, type ObservedPod } from './pod-observe';
import { computePhase } from './pod-status';
import type { RuntimeContainer } from './runtime';

/**
 * The pure pod sync core, the plan step of a pod's sync (sync-pod.ts). Given
 * the desired pod (from the API) and what the runtime shows for it (containers
 * found by labels), `computePodActions` says what to do next;
 * `computePodStatus` (pod-status.ts) says what to report. Both are
 * deterministic functions of their inputs and a `now` passed in; the pod
 * syncer does the IO. Modelled on kubelet's kuberuntime `computePodActions`.
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

/** Whether a container whose latest instance is dead should run again under the pod's restart policy. */
function shouldRestart(pod: Pod, latest: RuntimeContainer): boolean {
  const policy = restartPolicy(pod);
  if (policy === 'Always') return true;
  if (policy === 'Never') return false;
  // OnFailure: a container that was created but never ran did not succeed.
  return latest.state !== 'exited' || latest.exitCode !== 0;
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
