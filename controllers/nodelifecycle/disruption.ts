/**
 * The share of not-Ready nodes above which evictions stop (Kubernetes'
 * --unhealthy-zone-threshold, 0.55): past it, the likelier cause is the
 * control plane's own network, not that many hosts died at once.
 */
export const UNHEALTHY_THRESHOLD = 0.55;

export type DisruptionState = 'Normal' | 'FullDisruption' | 'PartialDisruption';

/**
 * The cluster's disruption state (Kubernetes' zone states for one zone) from
 * how many nodes there are and how many are not Ready (Ready False or Unknown):
 * - FullDisruption: no node is Ready. Evicting could only move pods to nowhere
 *   (a one-node cluster whose node blinks would have every pod restarted for
 *   nothing), so nothing is evicted.
 * - PartialDisruption: at least 2 nodes and more than 55% of them are not
 *   Ready. Nothing is evicted either (Kubernetes evicts at rate 0 in small
 *   clusters; Coxswain does so at any size).
 * - Normal: evict. A two-node cluster that loses one node (50%) is Normal: its
 *   pods move to the other.
 * Evictions resume by themselves when the state returns to Normal.
 */
export function disruptionState(total: number, notReady: number): DisruptionState {
  if (total === 0 || notReady === 0) return 'Normal';
  if (notReady >= total) return 'FullDisruption';
  if (notReady >= 2 && notReady / total > UNHEALTHY_THRESHOLD) return 'PartialDisruption';
  return 'Normal';
}
