import type { Pod, Taint } from 'kubernetes-types/core/v1';
import { tolerates } from '../../lib/tolerations';

export type EvictionPlan =
  /** No NoExecute taint applies, or every one is tolerated forever. */
  | { kind: 'keep' }
  /** A NoExecute taint is not tolerated, or its tolerationSeconds ran out. */
  | { kind: 'evict'; taint: Taint }
  /** Evict at `atMs` unless the taints change before. */
  | { kind: 'later'; atMs: number; taint: Taint };

/**
 * What Kubernetes' NoExecuteTaintManager decides for one pod given its node's
 * taints at `nowMs`. For each NoExecute taint: no toleration of the pod
 * tolerates it → evict now; the tolerations that do all lack tolerationSeconds
 * → tolerated forever; else the pod may stay for the smallest of their
 * tolerationSeconds (≤ 0 means none) counted from the taint's timeAdded (or
 * `firstSeenMs(taint)` when it has none). The earliest deadline wins.
 */
export function planEviction(pod: Pod, taints: readonly Taint[], nowMs: number, firstSeenMs: (t: Taint) => number = () => nowMs): EvictionPlan {
  const tols = pod.spec?.tolerations ?? [];
  let best: { atMs: number; taint: Taint } | undefined;
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue;
    const used = tols.filter((t) => tolerates(t, taint));
    if (used.length === 0) return { kind: 'evict', taint };
    const limited = used.filter((t) => t.tolerationSeconds !== undefined && t.tolerationSeconds !== null);
    if (limited.length === 0) continue; // tolerated forever
    // Kubernetes takes the minimum over the tolerations that set a limit.
    const seconds = Math.max(0, Math.min(...limited.map((t) => t.tolerationSeconds!)));
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : NaN;
    const at = (Number.isFinite(added) ? added : firstSeenMs(taint)) + seconds * 1000;
    if (!best || at < best.atMs) best = { atMs: at, taint };
  }
  if (!best) return { kind: 'keep' };
  return best.atMs <= nowMs ? { kind: 'evict', taint: best.taint } : { kind: 'later', ...best };
}
