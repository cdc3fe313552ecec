import type { Taint, Toleration } from 'kubernetes-types/core/v1';
import { tolerates } from '../../lib/tolerations';
import { unresolvable, type FilterPlugin, type ScorePlugin } from '../framework';
import { defaultNormalizeScore } from './normalize';

/** The PreferNoSchedule taints of `taints` that no toleration in `tols` tolerates. */
export function countIntolerablePreferNoSchedule(taints: readonly Taint[], tols: readonly Toleration[]): number {
  let n = 0;
  for (const taint of taints) if (taint.effect === 'PreferNoSchedule' && !tols.some((t) => tolerates(t, taint))) n++;
  return n;
}

/** Tolerations that can tolerate a PreferNoSchedule taint (that effect, or no effect). */
function preferNoScheduleTolerations(tols: readonly Toleration[] | undefined): Toleration[] {
  return (tols ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
}

const STATE_KEY = 'PreScoreTaintToleration';

/**
 * Kubernetes' TaintToleration. Filter: rejects nodes with a NoSchedule or NoExecute taint the
 * pod does not tolerate (unresolvable). Score: the number of PreferNoSchedule taints the pod
 * does not tolerate, reverse-normalized so the node with fewest gets 100 (weight 3 in the
 * default profile).
 */
export const TaintToleration: FilterPlugin & ScorePlugin = {
  name: 'TaintToleration',
  weight: 3,
  filter(pod, { taints }) {
    if (taints.length === 0) return undefined;
    const tols = pod.spec?.tolerations ?? [];
    for (const taint of taints) {
      if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
      if (!tols.some((t) => tolerates(t, taint))) return unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
    }
    return undefined;
  },
  preScore(pod, _nodes, _snapshot, state) {
    state.write(STATE_KEY, preferNoScheduleTolerations(pod.spec?.tolerations));
  },
  score(pod, { taints }, state) {
    if (taints.length === 0) return 0;
    const tols = state.read<Toleration[]>(STATE_KEY) ?? preferNoScheduleTolerations(pod.spec?.tolerations);
    return countIntolerablePreferNoSchedule(taints, tols);
  },
  normalize(scores) {
    defaultNormalizeScore(scores, true);
  },
};

export { tolerates };
