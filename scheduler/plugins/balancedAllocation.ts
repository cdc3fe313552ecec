import { podRequests, type NodeInfo, type ScorePlugin } from '../framework';
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

/**
 * Score from the change in balance the pod brings to a node: 75 when it changes nothing, up to
 * 100 when it turns a fully unbalanced node into a balanced one, down to 50 the other way
 * (kube-scheduler's current formula; earlier releases scored the balance with the pod only).
 */
export function balanceChangeScore(withPod: number, withoutPod: number): number {
  return MAX_NODE_SCORE / 2 + Math.floor((MAX_NODE_SCORE / 2 + withPod - withoutPod) / 2);
}

/**
 * Kubernetes' NodeResourcesBalancedAllocation: prefers nodes whose cpu and memory would be used in
 * similar proportions with the pod placed, from actual requests (no non-zero defaults). Pods
 * that request neither cpu nor memory are not scored by it (0 everywhere), as upstream skips
 * them so they do not pile onto one node. Weight 1 in the default profile.
 */
export const BalancedAllocation: ScorePlugin = {
  name: 'NodeResourcesBalancedAllocation',
  weight: 1,
  score(pod, info: NodeInfo) {
    const r = podRequests(pod);
    if (r.milliCPU === 0 && r.memory === 0) return 0;
    const a = info.allocatable;
    const pairs: [number, number, number][] = [
      [info.requested.milliCPU, r.milliCPU, a.milliCPU],
      [info.requested.memory, r.memory, a.memory],
    ].filter(([, , alloc]) => alloc > 0) as [number, number, number][];
    const withPod = balancedScore(pairs.map(([used, req, alloc]) => (used + req) / alloc));
    const withoutPod = balancedScore(pairs.map(([used, , alloc]) => used / alloc));
    return balanceChangeScore(withPod, withoutPod);
  },
};
