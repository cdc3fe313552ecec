/** Below this many nodes every node is filtered (kube-scheduler's minFeasibleNodesToFind). */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** The adaptive percentage never drops below this. */
export const MIN_FEASIBLE_NODES_PERCENTAGE = 5;

/**
 * How many feasible nodes one attempt looks for before it stops filtering
 * (kube-scheduler's numFeasibleNodesToFind). `percentage` is percentageOfNodesToScore:
 * 0 or absent means adaptive, 50% minus one point per 125 nodes, at least 5%; the answer is
 * never below 100 nodes (or all of them, when fewer).
 */
export function numFeasibleNodesToFind(allNodes: number, percentage = 0): number {
  if (allNodes < MIN_FEASIBLE_NODES_TO_FIND) return allNodes;
  let pct = percentage;
  if (pct <= 0) pct = Math.max(50 - Math.trunc(allNodes / 125), MIN_FEASIBLE_NODES_PERCENTAGE);
  if (pct >= 100) return allNodes;
  const n = Math.trunc((allNodes * pct) / 100);
  return Math.max(n, MIN_FEASIBLE_NODES_TO_FIND);
}
