/**
 * The share of not-Ready nodes above which evictions stop (Kubernetes'
 * --unhealthy-zone-threshold, 0.55): past it, the likelier cause is the
 * control plane's own network, not that many hosts died at once.
 */
export const UNHEALTHY_THRESHOLD = 0.55;

/**
 * Whether a node counts as down for the disruption state: not Ready, or
 * silent for more than half the grace period though not yet declared
 * Unknown. Nodes that lose touch together are declared Unknown one by one,
 * up to a renewal interval apart (their heartbeats were out of phase); if the
 * first were judged alone, its pods could be evicted (2 s of toleration)
 * before the others are seen to be down too. Counting the silent ones at once
 * makes the first verdict see the whole outage. A live node renews every 2 s,
 * so half of the 8 s grace is far from its normal silence.
 */
export function countsAsDown(ready: string | undefined, silentMs: number, graceMs: number): boolean {
  return ready !== 'True' || silentMs > graceMs / 2;
}

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
