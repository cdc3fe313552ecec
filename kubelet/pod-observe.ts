import type { Pod } from 'kubernetes-types/core/v1';
import { SANDBOX_CONTAINER_NAME, type RuntimeContainer } from './runtime';

/**
 * What the runtime shows of one pod, read the way both halves of the pure
 * pod sync core need it: its containers grouped and ordered (`observePod`),
 * the restart policy, where its init containers stand and whether a phase is
 * terminal. Used by pod-sync.ts (what to do) and pod-status.ts (what to report).
 */

/** A reason a container is waiting that the runtime state alone does not show (image pull, config, start errors). */
export interface WaitingReason {
  reason: string;
  message?: string;
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

export function isDead(c: RuntimeContainer): boolean {
  return c.state !== 'running';
}

/** Created but never started (a kubelet stopped while the sandbox was starting): it never ran. */
export function neverRan(c: RuntimeContainer): boolean {
  return c.state === 'created' && !c.startedAt;
}

export function restartPolicy(pod: Pod): 'Always' | 'OnFailure' | 'Never' {
  const p = pod.spec?.restartPolicy;
  return p === 'OnFailure' || p === 'Never' ? p : 'Always';
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

export function isTerminalPhase(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}
