import type { Pod, PodCondition } from 'kubernetes-types/core/v1';
import { rfc3339 } from '../../lib/time';

/**
 * A pod the eviction subresource marked DisruptionTarget=True but that was not deleted after
 * all (the delete lost a race): after STALE_DISRUPTION_MS the mark is reset to False, as
 * Kubernetes' disruption controller does. Pure; the controller writes the result.
 */

export const STALE_DISRUPTION_MS = 2 * 60_000;

/** undefined: nothing to do; 0: reset now; > 0: look again after that many ms. */
export function staleDisruptionIn(pod: Pod, nowMs: number): number | undefined {
  if (pod.metadata?.deletionTimestamp) return undefined;
  const c = pod.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
  if (!c || c.status !== 'True') return undefined;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  if (!Number.isFinite(since)) return 0;
  return Math.max(0, since + STALE_DISRUPTION_MS - nowMs);
}

/** The pod's conditions with DisruptionTarget reset to False. */
export function resetDisruptionTarget(pod: Pod, now: Date): PodCondition[] {
  return (pod.status?.conditions ?? []).map((c) => (c.type === 'DisruptionTarget' ? { type: 'DisruptionTarget', status: 'False', lastTransitionTime: rfc3339(now) } : c));
}
