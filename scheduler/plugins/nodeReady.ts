import { unresolvable, type FilterPlugin } from '../framework';
import { tolerates } from './taintToleration';

/**
 * Rejects nodes whose Ready condition is not True, and cordoned nodes
 * (spec.unschedulable) unless the pod tolerates node.kubernetes.io/unschedulable.
 * (kube-scheduler expresses not-ready as a taint; Coxswain checks the condition.)
 */
export const NodeReady: FilterPlugin = {
  name: 'NodeReady',
  filter(_pod, { ready }) {
    // Read from the Ready condition when the NodeInfo was built.
    return ready ? undefined : unresolvable('node(s) were not ready');
  },
};

/** The taint a cordoned node stands for; a pod tolerating it may still be placed there (DaemonSet pods). */
const UNSCHEDULABLE_TAINT = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/** Rejects cordoned nodes (spec.unschedulable, `kubectl cordon`) unless the pod tolerates UNSCHEDULABLE_TAINT. */
export const NodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter(pod, { unschedulable }) {
    if (!unschedulable) return undefined;
    const tolerated = (pod.spec?.tolerations ?? []).some((t) => tolerates(t, UNSCHEDULABLE_TAINT));
    return tolerated ? undefined : unresolvable('node(s) were unschedulable');
  },
};
