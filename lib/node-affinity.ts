import type { Node, NodeSelector, NodeSelectorRequirement, PodSpec } from 'kubernetes-types/core/v1';

/**
 * Whether a pod's spec.nodeSelector and required node affinity admit a node:
 * the one rule the scheduler's NodeAffinity filter and the DaemonSet
 * controller (which decides where its pods belong) must agree on.
 */

/** One NodeSelectorRequirement against a map (labels, or fields such as metadata.name). */
export function matchRequirement(req: NodeSelectorRequirement, labels: Record<string, string>): boolean {
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
 * affinity (any term whose matchExpressions and matchFields all hold; an empty
 * term matches nothing; matchFields knows metadata.name).
 */
export function podFitsNodeAffinity(spec: PodSpec | undefined, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required || required.nodeSelectorTerms.length === 0) return true;
  return nodeSelectorMatches(required, node);
}

/** Whether a NodeSelector (terms ORed, requirements ANDed; an empty term matches nothing; matchFields on metadata.name) admits the node. */
export function nodeSelectorMatches(sel: NodeSelector, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  const fields: Record<string, string> = { 'metadata.name': node.metadata?.name ?? '' };
  return sel.nodeSelectorTerms.some(
    (t) =>
      ((t.matchExpressions?.length ?? 0) > 0 || (t.matchFields?.length ?? 0) > 0) &&
      (t.matchExpressions ?? []).every((r) => matchRequirement(r, labels)) &&
      (t.matchFields ?? []).every((r) => matchRequirement(r, fields)),
  );
}
