import type { Node, NodeCondition } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../../lib/client';
import { rfc3339 } from '../../lib/time';

/** Kubelet-owned conditions that become Unknown with Ready when heartbeats stop. */
const KUBELET_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

/** The node's heartbeat Lease (`kube-node-lease/<node>`), as far as health cares. */
export interface NodeLease extends KubeObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
}

/**
 * What the controller last saw of a node's two heartbeats. The kubelet's
 * timestamps are only compared with earlier values of themselves; staleness is
 * measured on the controller's own clock from `observedAt`, the moment one of
 * them last moved forward (Kubernetes' probeTimestamp), so a skewed host clock
 * neither hides a dead node nor condemns a live one, and a controller that just
 * started (or took over leadership) gives every node a full grace period.
 */
export interface HeartbeatProbe {
  /** Ready.lastHeartbeatTime (ms since epoch, the kubelet's clock), NaN if none. */
  readyHeartbeat: number;
  /** The Lease's spec.renewTime (ms, the kubelet's clock), NaN if none. */
  leaseRenew: number;
  /** When (controller clock) either heartbeat last advanced. */
  observedAt: number;
}

const ms = (t: string | undefined): number => (t ? Date.parse(t) : NaN);
const advanced = (prev: number, next: number): boolean => Number.isFinite(next) && !(next <= prev);
const newest = (prev: number, next: number): number => (!Number.isFinite(next) ? prev : !Number.isFinite(prev) ? next : Math.max(prev, next));

/**
 * Folds the node's current Ready heartbeat and Lease renewal into `prev`. The
 * first sight of a node counts as a heartbeat at `nowMs` if it has one, else at
 * its creation (a node that never reported gets the grace period from its
 * registration).
 */
export function observeHeartbeat(prev: HeartbeatProbe | undefined, node: Node, lease: NodeLease | undefined, nowMs: number): HeartbeatProbe {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const readyHeartbeat = ms(ready?.lastHeartbeatTime);
  const leaseRenew = ms(lease?.spec?.renewTime);
  if (!prev) {
    const seen = Number.isFinite(readyHeartbeat) || Number.isFinite(leaseRenew);
    const created = ms(node.metadata?.creationTimestamp);
    return { readyHeartbeat, leaseRenew, observedAt: seen || !Number.isFinite(created) ? nowMs : Math.min(created, nowMs) };
  }
  const moved = advanced(prev.readyHeartbeat, readyHeartbeat) || advanced(prev.leaseRenew, leaseRenew);
  return {
    readyHeartbeat: newest(prev.readyHeartbeat, readyHeartbeat),
    leaseRenew: newest(prev.leaseRenew, leaseRenew),
    observedAt: moved ? nowMs : prev.observedAt,
  };
}

export interface NodeHealth {
  /** The last heartbeat is older than the grace period. */
  stale: boolean;
  /** New status.conditions to write, when the node just went stale. */
  conditions?: NodeCondition[];
  /** When to look again (the heartbeat would go stale then), if it is fresh now. */
  recheckAfterMs?: number;
}

/**
 * Decides whether a node whose heartbeats were last seen advancing at
 * `probe.observedAt` is stale at `nowMs` (more than `graceMs` ago). A stale
 * node whose Ready is not already Unknown gets new conditions: Ready (and the
 * other kubelet conditions) Unknown, reason NodeStatusUnknown, as Kubernetes'
 * node lifecycle controller; a node that never reported Ready gets a
 * Ready=Unknown condition with reason NodeStatusNeverUpdated.
 */
export function assessNode(node: Node, probe: HeartbeatProbe, nowMs: number, graceMs: number): NodeHealth {
  const age = nowMs - probe.observedAt;
  if (age <= graceMs) return { stale: false, recheckAfterMs: graceMs - age + 1 };
  const conds = node.status?.conditions ?? [];
  const ready = conds.find((c) => c.type === 'Ready');
  if (ready?.status === 'Unknown') return { stale: true };
  const now = rfc3339(nowMs);
  const next: NodeCondition[] = conds.map((c) =>
    KUBELET_CONDITIONS.includes(c.type) && c.status !== 'Unknown'
      ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: now }
      : c,
  );
  if (!ready) next.push({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastTransitionTime: now, lastHeartbeatTime: node.metadata?.creationTimestamp });
  return { stale: true, conditions: next };
}

/** The node's Ready condition status: 'True', 'False', 'Unknown', or undefined when it has none yet. */
export function readyStatus(node: Node): string | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}
