import type { Pod } from 'kubernetes-types/core/v1';

/**
 * Pod priority as Kubernetes defines it (pkg/apis/scheduling): the built-in PriorityClasses,
 * the highest value a user's class may have, and a pod's effective priority. Shared by the
 * apiserver (the PriorityClass kind, Priority admission) and the scheduler (preemption).
 */

/** The highest `value` of a PriorityClass not named `system-…`. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
/** Names with this prefix are reserved for the built-in classes. */
export const SYSTEM_PRIORITY_CLASS_PREFIX = 'system-';
export const SYSTEM_CLUSTER_CRITICAL = 'system-cluster-critical';
export const SYSTEM_NODE_CRITICAL = 'system-node-critical';
export const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;

export type PreemptionPolicy = 'PreemptLowerPriority' | 'Never';
export const PREEMPTION_POLICIES: PreemptionPolicy[] = ['PreemptLowerPriority', 'Never'];

/** The built-in classes every cluster has (created at apiserver start, never deletable). */
export const SYSTEM_PRIORITY_CLASSES = [
  { name: SYSTEM_NODE_CRITICAL, value: SYSTEM_CRITICAL_PRIORITY + 1000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: SYSTEM_CLUSTER_CRITICAL, value: SYSTEM_CRITICAL_PRIORITY, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
] as const;

/** A pod's priority: spec.priority (set by admission), 0 when absent. */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}
