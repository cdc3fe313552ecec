import type { Node, Taint } from 'kubernetes-types/core/v1';
import { TAINT_NOT_READY, TAINT_UNREACHABLE } from '../../lib/tolerations';
import { rfc3339 } from '../../lib/time';
import { readyStatus } from './health';

/** Whether the taint is one this controller owns (the not-ready/unreachable pair, either effect). */
export function isLifecycleTaint(t: Taint): boolean {
  return (t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY) && (t.effect === 'NoExecute' || t.effect === 'NoSchedule');
}

/**
 * The node's taints as the Ready condition asks (Kubernetes' TaintNodesByCondition
 * and taint-based eviction in one):
 * - Ready Unknown: `node.kubernetes.io/unreachable` NoSchedule and NoExecute;
 * - Ready False: `node.kubernetes.io/not-ready` NoSchedule and NoExecute;
 * - Ready True, or no Ready condition yet: neither.
 * With `evict` false (the cluster is disrupted, see disruption.ts) the NoExecute
 * taints are left off, so nothing is evicted; the NoSchedule ones stay.
 * A taint already present is kept as it is (its timeAdded, from which
 * tolerationSeconds count, does not move); a new NoExecute taint is stamped
 * with `nowMs`. Returns the new list, or undefined when nothing changes.
 */
export function desiredTaints(node: Node, evict: boolean, nowMs: number): Taint[] | undefined {
  const current = node.spec?.taints ?? [];
  const status = readyStatus(node);
  const key = status === 'Unknown' ? TAINT_UNREACHABLE : status === 'False' ? TAINT_NOT_READY : undefined;
  const want: Taint[] = [];
  if (key) {
    want.push({ key, effect: 'NoSchedule' });
    if (evict) want.push({ key, effect: 'NoExecute', timeAdded: rfc3339(nowMs) });
  }
  const same = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;
  const kept = current.filter((t) => !isLifecycleTaint(t) || want.some((w) => same(w, t)));
  const added = want.filter((w) => !current.some((t) => same(t, w)));
  if (added.length === 0 && kept.length === current.length) return undefined;
  return [...kept, ...added];
}
