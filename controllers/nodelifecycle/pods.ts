import type { Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1';
import { rfc3339 } from '../../lib/time';

/**
 * The status of a pod on an unreachable node with its Ready and
 * ContainersReady conditions set to False (Kubernetes' MarkPodsNotReady), so
 * the Endpoints controller drops it at once; undefined when nothing is True.
 * A finished pod is left alone.
 */
export function notReadyStatus(pod: Pod, nowMs: number): PodStatus | undefined {
  const conds = pod.status?.conditions ?? [];
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return undefined;
  const marks = (c: PodCondition) => (c.type === 'Ready' || c.type === 'ContainersReady') && c.status !== 'False';
  if (!conds.some(marks)) return undefined;
  const now = rfc3339(nowMs);
  return {
    ...pod.status,
    conditions: conds.map((c) => (marks(c) ? { ...c, status: 'False', reason: 'NodeNotReady', message: 'The node this pod runs on is not reachable.', lastTransitionTime: now } : c)),
  };
}
