import type { NodeInfo, Resources } from '../framework';
import { MAX_NODE_SCORE } from './normalize';

/** (capacity − requested)·100 / capacity with integer division, as kube-scheduler; 0 when capacity is 0 or exceeded. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity <= 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/**
 * NodeResourcesFit's LeastAllocated scoring strategy with its default resources (cpu and
 * memory, weight 1 each): the weighted mean of each resource's leastRequestedScore after placing
 * the pod, counting Kubernetes' non-zero defaults for containers without requests (`r` is
 * podRequests(pod, true)). A resource the node has none of is left out.
 */
export function leastAllocatedScore(r: Resources, info: NodeInfo): number {
  let sum = 0;
  let weights = 0;
  if (info.allocatable.milliCPU > 0) {
    sum += leastRequestedScore(info.nonZeroRequested.milliCPU + r.milliCPU, info.allocatable.milliCPU);
    weights++;
  }
  if (info.allocatable.memory > 0) {
    sum += leastRequestedScore(info.nonZeroRequested.memory + r.memory, info.allocatable.memory);
    weights++;
  }
  return weights === 0 ? 0 : Math.floor(sum / weights);
}
