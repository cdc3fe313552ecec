import type { Taint, Toleration } from 'kubernetes-types/core/v1';
import type { FilterPlugin } from '../framework';

/** Whether `t` tolerates `taint` (key/operator/value/effect as in Kubernetes' ToleratesTaint). */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key !== '' && t.key !== taint.key) return false;
  if ((t.key === undefined || t.key === '') && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

/** Rejects nodes with a NoSchedule or NoExecute taint the pod does not tolerate. */
export const TaintToleration: FilterPlugin = {
  name: 'TaintToleration',
  filter(pod, { node }) {
    const tols = pod.spec?.tolerations ?? [];
    for (const taint of node.spec?.taints ?? []) {
      if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
      if (!tols.some((t) => tolerates(t, taint))) return [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`];
    }
    return undefined;
  },
};
