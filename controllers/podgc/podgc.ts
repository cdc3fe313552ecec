import type { Pod } from 'kubernetes-types/core/v1';

/**
 * Pod garbage collection (Kubernetes' PodGC), pure. The third rule of PodGC,
 * pods bound to a Node that no longer exists, is applied by the taint eviction
 * controller (tainteviction/controller.ts), with its quarantine.
 */

/** Kubernetes' default --terminated-pod-gc-threshold. */
export const DEFAULT_TERMINATED_POD_GC_THRESHOLD = 12_500;

export interface PodGcPlan {
  /** Finished pods beyond the threshold, evicted ones first, then oldest first. */
  terminated: Pod[];
  /** Pods being deleted that never reached a node: no kubelet will ever confirm them. */
  unscheduledTerminating: Pod[];
}

export function isPodTerminated(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

function created(p: Pod): number {
  return Date.parse(p.metadata?.creationTimestamp ?? '') || 0;
}

/**
 * What to delete: with `threshold` > 0, the terminated pods above it; and every
 * unscheduled pod that is terminating. A threshold of 0 or less keeps every
 * terminated pod.
 */
export function planPodGc(pods: Pod[], threshold: number): PodGcPlan {
  const terminated = pods.filter(isPodTerminated);
  let victims: Pod[] = [];
  const excess = terminated.length - threshold;
  if (threshold > 0 && excess > 0) {
    const evicted = (p: Pod) => (p.status?.phase === 'Failed' && p.status.reason === 'Evicted' ? 0 : 1);
    victims = [...terminated]
      .sort((a, b) => evicted(a) - evicted(b) || created(a) - created(b) || ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1))
      .slice(0, excess);
  }
  const unscheduledTerminating = pods.filter((p) => !!p.metadata?.deletionTimestamp && !p.spec?.nodeName);
  return { terminated: victims, unscheduledTerminating };
}
