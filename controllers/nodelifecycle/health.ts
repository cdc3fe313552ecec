import type { Node, NodeCondition } from 'kubernetes-types/core/v1';
import { rfc3339 } from '../../lib/time';

export const DEFAULT_GRACE_MS = 40_000;

/** Kubelet-owned conditions that become Unknown with Ready when heartbeats stop. */
const KUBELET_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export interface NodeHealth {
  /** New status.conditions to write, when the node just went stale. */
  conditions?: NodeCondition[];
  /** When to look again (the heartbeat would go stale then), if it is fresh now. */
  recheckAfterMs?: number;
}

/**
 * Decides whether a node's heartbeat (the Ready condition's lastHeartbeatTime)
 * is older than `graceMs` at `nowMs`; if so, and Ready is not already Unknown,
 * returns conditions with Ready (and the other kubelet conditions) set to
 * Unknown, reason NodeStatusUnknown, as Kubernetes' node lifecycle controller.
 * A node that never reported Ready is given a Ready=Unknown condition once the
 * grace period after its creation has passed.
 */
export function assessNode(node: Node, nowMs: number, graceMs = DEFAULT_GRACE_MS): NodeHealth {
  const conds = node.status?.conditions ?? [];
  const ready = conds.find((c) => c.type === 'Ready');
  const since = Date.parse(ready?.lastHeartbeatTime ?? ready?.lastTransitionTime ?? node.metadata?.creationTimestamp ?? '');
  const last = Number.isFinite(since) ? since : nowMs;
  const age = nowMs - last;
  if (age <= graceMs) return { recheckAfterMs: graceMs - age + 1 };
  if (ready?.status === 'Unknown') return {};
  const now = rfc3339(nowMs);
  const next: NodeCondition[] = conds.map((c) =>
    KUBELET_CONDITIONS.includes(c.type) && c.status !== 'Unknown'
      ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: now }
      : c,
  );
  if (!ready) next.push({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastTransitionTime: now, lastHeartbeatTime: node.metadata?.creationTimestamp });
  return { conditions: next };
}
