import type { Node, Taint } from 'kubernetes-types/core/v1';

/**
 * The taint a cordoned node carries (Kubernetes' TaintNodesByCondition for spec.unschedulable):
 * `node.kubernetes.io/unschedulable:NoSchedule` while spec.unschedulable is true, none after.
 * Pure; controller.ts writes the result.
 */

export const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

const isUnschedulableTaint = (t: Taint) => t.key === UNSCHEDULABLE_TAINT.key && t.effect === UNSCHEDULABLE_TAINT.effect;

/** The node's taints as they should be, or undefined when they already are. Other taints are kept in order. */
export function desiredTaints(node: Node): Taint[] | undefined {
  const taints = node.spec?.taints ?? [];
  const has = taints.some(isUnschedulableTaint);
  const want = node.spec?.unschedulable === true;
  if (has === want) return undefined;
  return want ? [...taints, { ...UNSCHEDULABLE_TAINT }] : taints.filter((t) => !isUnschedulableTaint(t));
}
