import type { FilterPlugin } from '../framework';

/**
 * Rejects nodes whose Ready condition is not True, and cordoned nodes
 * (spec.unschedulable) unless the pod tolerates node.kubernetes.io/unschedulable.
 * (kube-scheduler expresses not-ready as a taint; Coxswain checks the condition.)
 */
export const NodeReady: FilterPlugin = {
  name: 'NodeReady',
  filter(pod, { node }) {
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status !== 'True') return ['node(s) were not ready'];
    return undefined;
  },
};

export const NodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter(pod, { node }) {
    if (!node.spec?.unschedulable) return undefined;
    const tolerated = pod.spec?.tolerations?.some(
      (t) => (t.key === 'node.kubernetes.io/unschedulable' || (t.key === undefined && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoSchedule'),
    );
    return tolerated ? undefined : ['node(s) were unschedulable'];
  },
};
