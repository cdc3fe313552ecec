import type { Node, Pod } from 'kubernetes-types/core/v1';

/**
 * A change in the cluster that can make a pod that failed to schedule fit (kube-scheduler's
 * ClusterEvent, one name per resource and action). `UnschedulableTimeout` is the queue's own
 * flush of pods left unschedulable too long; `PodUpdate` is the pending pod itself changing.
 */
export type ClusterEvent =
  | 'NodeAdd'
  | 'NodeDelete'
  | 'NodeLabelChange'
  | 'NodeTaintChange'
  | 'NodeAllocatableChange'
  | 'NodeConditionChange'
  | 'NodeImagesChange'
  | 'AssignedPodAdd'
  | 'AssignedPodDelete'
  | 'AssignedPodLabelChange'
  | 'VolumeChange'
  | 'NamespaceLabelChange'
  | 'PodUpdate'
  | 'UnschedulableTimeout';

/**
 * Which events can undo a rejection by each filter (kube-scheduler's EventsToRegister). A pod
 * rejected by a plugin not listed here, or with no plugin recorded, is moved on every event.
 */
const INTEREST: Record<string, readonly ClusterEvent[]> = {
  NodeReady: ['NodeAdd', 'NodeConditionChange', 'NodeTaintChange'],
  NodeUnschedulable: ['NodeAdd', 'NodeTaintChange'],
  NodeName: ['NodeAdd'],
  NodeAffinity: ['NodeAdd', 'NodeLabelChange'],
  TaintToleration: ['NodeAdd', 'NodeTaintChange'],
  NodeResourcesFit: ['NodeAdd', 'NodeAllocatableChange', 'AssignedPodDelete'],
  NodePorts: ['NodeAdd', 'AssignedPodDelete'],
  VolumeBinding: ['NodeAdd', 'NodeLabelChange', 'VolumeChange'],
  InterPodAffinity: ['NodeAdd', 'NodeLabelChange', 'AssignedPodAdd', 'AssignedPodDelete', 'AssignedPodLabelChange', 'NamespaceLabelChange'],
  PodTopologySpread: ['NodeAdd', 'NodeDelete', 'NodeLabelChange', 'NodeTaintChange', 'AssignedPodAdd', 'AssignedPodDelete', 'AssignedPodLabelChange'],
};

/** Whether `event` may help a pod that `plugins` rejected. */
export function mayHelp(event: ClusterEvent, plugins: ReadonlySet<string>): boolean {
  if (event === 'UnschedulableTimeout' || event === 'PodUpdate' || plugins.size === 0) return true;
  for (const p of plugins) {
    const interest = INTEREST[p];
    if (!interest || interest.includes(event)) return true;
  }
  return false;
}

const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The scheduling-relevant changes between two versions of a node (none for a heartbeat). */
export function nodeUpdateEvents(old: Node, n: Node): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  if (!same(old.metadata?.labels, n.metadata?.labels)) out.push('NodeLabelChange');
  if (!same(old.spec?.taints, n.spec?.taints) || !!old.spec?.unschedulable !== !!n.spec?.unschedulable) out.push('NodeTaintChange');
  if (!same(old.status?.allocatable, n.status?.allocatable)) out.push('NodeAllocatableChange');
  if (ready(old) !== ready(n)) out.push('NodeConditionChange');
  if (!same(old.status?.images?.map((i) => i.names), n.status?.images?.map((i) => i.names))) out.push('NodeImagesChange');
  return out;
}

const finished = (p: Pod) => !!p.metadata?.deletionTimestamp || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** Events for an update of a pod that is bound to a node (or just became bound). */
export function assignedPodUpdateEvents(old: Pod, p: Pod): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  if (!old.spec?.nodeName) out.push('AssignedPodAdd');
  else if (!same(old.metadata?.labels, p.metadata?.labels)) out.push('AssignedPodLabelChange');
  if (finished(p) && !finished(old)) out.push('AssignedPodDelete');
  return out;
}

/**
 * Whether an update of a pending pod may change where it fits: anything but its status,
 * resourceVersion, managedFields and annotations (kube-scheduler's isPodUpdated, which also
 * ignores the scheduler's own writes).
 */
export function pendingPodChanged(old: Pod, p: Pod): boolean {
  const strip = (x: Pod) => ({ labels: x.metadata?.labels, spec: x.spec });
  return !same(strip(old), strip(p));
}
