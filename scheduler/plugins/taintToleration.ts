import { tolerates } from '../../lib/tolerations';
import { unresolvable, type FilterPlugin } from '../framework';

/** Rejects nodes with a NoSchedule or NoExecute taint the pod does not tolerate. */
export const TaintToleration: FilterPlugin = {
  name: 'TaintToleration',
  filter(pod, { node }) {
    const tols = pod.spec?.tolerations ?? [];
    for (const taint of node.spec?.taints ?? []) {
      if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
      if (!tols.some((t) => tolerates(t, taint))) return unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
    }
    return undefined;
  },
};

export { tolerates };
