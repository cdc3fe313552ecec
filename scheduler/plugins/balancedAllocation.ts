import { podRequests, type NodeInfo, type Resources, type ScorePlugin } from '../framework';
import { MAX_NODE_SCORE } from './normalize';

/**
 * (1 − standard deviation of the resources' requested/allocatable fractions)·100, truncated;
 * fractions capped at 1. With two resources the deviation is |a − b| / 2, so the score is in
 * [50, 100].
 */
export function balancedScore(fractions: readonly number[]): number {
  const f = fractions.map((x) => Math.min(x, 1));
  let std = 0;
  if (f.length === 2) std = Math.abs(f[0] - f[1]) / 2;
  else if (f.length > 2) {
    const mean = f.reduce((a, b) => a + b, 0) / f.length;
    std = Math.sqrt(f.reduce((a, x) => a + (x - mean) ** 2, 0) / f.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/** balancedScore of two fractions, without allocating (the common case). */
function twoResourceScore(a: number, b: number): number {
  return Math.trunc((1 - Math.abs(Math.min(a, 1) - Math.min(b, 1)) / 2) * MAX_NODE_SCORE);
}

/**
 * Score from the change in balance the pod brings to a node: 75 when it changes nothing, up to
 * 100 when it turns a fully unbalanced node into a balanced one, down to 50 the other way
 * (kube-scheduler's current formula; earlier releases scored the balance with the pod only).
 */
export function balanceChangeScore(withPod: number, withoutPod: number): number {
  return MAX_NODE_SCORE / 2 + Math.floor((MAX_NODE_SCORE / 2 + withPod - withoutPod) / 2);
}

const STATE_KEY = 'PreScoreNodeResourcesBalancedAllocation';

/**
 * Kubernetes' NodeResourcesBalancedAllocation: prefers nodes whose cpu and memory would be used in
 * similar proportions with the pod placed, from actual requests (no non-zero defaults). Pods
 * that request neither cpu nor memory are not scored by it (0 everywhere), as upstream skips
 * them so they do not pile onto one node. Weight 1 in the default profile.
 */
export const BalancedAllocation: ScorePlugin = {
  name: 'NodeResourcesBalancedAllocation',
  weight: 1,
  preScore(pod, _nodes, _snapshot, state) {
    state.write(STATE_KEY, podRequests(pod));
  },
  score(pod, info: NodeInfo, state) {
    const r = state.read<Resources>(STATE_KEY) ?? podRequests(pod);
    if (r.milliCPU === 0 && r.memory === 0) return 0;
    const { allocatable: a, requested: used } = info;
    // Resources the node has none of are left out; with cpu and memory both present this is balancedScore's two-resource case.
    if (a.milliCPU > 0 && a.memory > 0) {
      const withPod = twoResourceScore((used.milliCPU + r.milliCPU) / a.milliCPU, (used.memory + r.memory) / a.memory);
      const withoutPod = twoResourceScore(used.milliCPU / a.milliCPU, used.memory / a.memory);
      return balanceChangeScore(withPod, withoutPod);
    }
    // One resource or none: no deviation either way.
    return balanceChangeScore(MAX_NODE_SCORE, MAX_NODE_SCORE);
  },
};
