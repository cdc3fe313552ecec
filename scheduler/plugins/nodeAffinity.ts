import type { NodeSelectorRequirement } from 'kubernetes-types/core/v1';
import type { FilterPlugin } from '../framework';

function matchRequirement(req: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const v = labels[req.key];
  const vals = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && vals.includes(v);
    case 'NotIn':
      return !has || !vals.includes(v);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
      return has && Number(v) > Number(vals[0]);
    case 'Lt':
      return has && Number(v) < Number(vals[0]);
    default:
      return false;
  }
}

/**
 * spec.nodeSelector (every label equal) and, if present, the required node
 * affinity (any term whose matchExpressions and matchFields all hold;
 * matchFields supports metadata.name).
 */
export const NodeAffinity: FilterPlugin = {
  name: 'NodeAffinity',
  filter(pod, { node }) {
    const labels = node.metadata?.labels ?? {};
    const fail = ["node(s) didn't match Pod's node affinity/selector"];
    for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return fail;
    const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (terms && terms.length > 0) {
      const fields = { 'metadata.name': node.metadata?.name ?? '' } as Record<string, string>;
      const ok = terms.some(
        (t) =>
          ((t.matchExpressions?.length ?? 0) > 0 || (t.matchFields?.length ?? 0) > 0) &&
          (t.matchExpressions ?? []).every((r) => matchRequirement(r, labels)) &&
          (t.matchFields ?? []).every((r) => matchRequirement(r, fields)),
      );
      if (!ok) return fail;
    }
    return undefined;
  },
};
