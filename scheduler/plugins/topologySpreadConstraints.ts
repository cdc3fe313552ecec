import type { Node, Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1';
import { podFitsNodeAffinity } from '../../lib/node-affinity';
import { tolerates } from '../../lib/tolerations';
import { compileSelector, withLabelKeys } from './podAffinityTerms';

export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';

/**
 * The cluster-default constraints kube-scheduler applies (its "system defaults") to a pod that
 * has no topologySpreadConstraints of its own and belongs to a controller.
 */
export const SYSTEM_DEFAULT_CONSTRAINTS: TopologySpreadConstraint[] = [
  { topologyKey: LABEL_HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: LABEL_ZONE, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
];

/** One constraint, ready to count pods with. */
export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  /** Whether an existing pod in the incoming pod's namespace counts (terminating pods never do). */
  selects: (pod: Pod) => boolean;
  /** Whether the incoming pod itself matches the selector. */
  selfMatch: boolean;
  minDomains: number;
  nodeAffinityPolicy: 'Honor' | 'Ignore';
  nodeTaintsPolicy: 'Honor' | 'Ignore';
}

const CONTROLLER_KINDS = new Set(['ReplicaSet', 'StatefulSet', 'ReplicationController']);

/**
 * The pod's constraints with `whenUnsatisfiable === action`; when the pod has none at all, the
 * system defaults with `action`, selecting the pods of the same controller.
 *
 * Upstream builds the default selector from the Services, ReplicaSets, StatefulSets and
 * ReplicationControllers selecting the pod. Coxswain approximates that with the pod's controller
 * ownerReference (a ReplicaSet, StatefulSet or ReplicationController): pods in the same namespace
 * owned by the same controller count; a pod with no such owner gets no default constraints.
 */
export function constraintsOf(pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
  const own = pod.spec?.topologySpreadConstraints ?? [];
  if (own.length > 0) return own.filter((c) => c.whenUnsatisfiable === action).map((c) => fromSpec(pod, c));
  const defaults = SYSTEM_DEFAULT_CONSTRAINTS.filter((c) => c.whenUnsatisfiable === action);
  const owner = pod.metadata?.ownerReferences?.find((r) => r.controller && CONTROLLER_KINDS.has(r.kind));
  if (defaults.length === 0 || !owner) return [];
  const ns = pod.metadata?.namespace ?? 'default';
  const selects = (p: Pod) =>
    !p.metadata?.deletionTimestamp && (p.metadata?.namespace ?? 'default') === ns && (p.metadata?.ownerReferences ?? []).some((r) => r.controller && r.uid === owner.uid);
  return defaults.map((c) => ({ maxSkew: c.maxSkew, topologyKey: c.topologyKey, selects, selfMatch: true, minDomains: 1, nodeAffinityPolicy: 'Honor', nodeTaintsPolicy: 'Ignore' }));
}

function fromSpec(pod: Pod, c: TopologySpreadConstraint): SpreadConstraint {
  const podLabels = pod.metadata?.labels ?? {};
  const selector = withLabelKeys(c.labelSelector, podLabels, c.matchLabelKeys ?? [], []);
  // Upstream counts nothing for an empty selector (and a missing one matches nothing).
  const empty = !selector || ((selector.matchLabels === undefined || Object.keys(selector.matchLabels).length === 0) && (selector.matchExpressions ?? []).length === 0);
  const ns = pod.metadata?.namespace ?? 'default';
  const matches = compileSelector(selector);
  return {
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    selects: (p) => !empty && !p.metadata?.deletionTimestamp && (p.metadata?.namespace ?? 'default') === ns && matches(p.metadata?.labels),
    selfMatch: matches(podLabels),
    minDomains: c.minDomains ?? 1,
    nodeAffinityPolicy: c.nodeAffinityPolicy === 'Ignore' ? 'Ignore' : 'Honor',
    nodeTaintsPolicy: c.nodeTaintsPolicy === 'Honor' ? 'Honor' : 'Ignore',
  };
}

/** Whether every constraint's topology key is a label of the node. */
export function hasAllKeys(node: Node, constraints: SpreadConstraint[]): boolean {
  const labels = node.metadata?.labels ?? {};
  return constraints.every((c) => labels[c.topologyKey] !== undefined);
}

/**
 * Whether the node's pods count for constraint `c`: with nodeAffinityPolicy Honor the node must
 * satisfy the pod's nodeSelector and required node affinity; with nodeTaintsPolicy Honor the pod
 * must tolerate its NoSchedule/NoExecute taints.
 */
export function nodeIncluded(c: SpreadConstraint, pod: Pod, node: Node): boolean {
  if (c.nodeAffinityPolicy === 'Honor' && !podFitsNodeAffinity(pod.spec, node)) return false;
  if (c.nodeTaintsPolicy === 'Honor') {
    const tols = pod.spec?.tolerations ?? [];
    for (const t of node.spec?.taints ?? []) {
      if (t.effect !== 'NoSchedule' && t.effect !== 'NoExecute') continue;
      if (!tols.some((tol) => tolerates(tol, t))) return false;
    }
  }
  return true;
}

/** How many of `pods` constraint `c` selects. */
export function countMatching(c: SpreadConstraint, pods: Pod[]): number {
  let n = 0;
  for (const p of pods) if (c.selects(p)) n++;
  return n;
}
