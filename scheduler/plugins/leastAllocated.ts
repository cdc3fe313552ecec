import type { Pod } from 'kubernetes-types/core/v1';
import { podRequests, type NodeInfo } from '../framework';
import { MAX_NODE_SCORE } from './normalize';

/** (capacity − requested)·100 / capacity with integer division, as kube-scheduler; 0 when capacity is 0 or exceeded. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity <= 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/**
 * NodeResourcesFit's LeastAllocated scoring strategy with its default resources (cpu and
 * memory, weight 1 each): the weighted mean of each resource's leastRequestedScore after placing
 * the pod, counting Kubernetes' non-zero defaults for containers without requests. A resource
 * the node has none of is left out.
 */
export function leastAllocatedScore(pod: Pod, info: NodeInfo): number {
  const r = podRequests(pod, true);
  const parts: [number, number][] = [
    [info.nonZeroRequested.milliCPU + r.milliCPU, info.allocatable.milliCPU],
    [info.nonZeroRequested.memory + r.memory, info.allocatable.memory],
  ];
  let sum = 0;
  let weights = 0;
  for (const [requested, capacity] of parts) {
    if (capacity === 0) continue;
    sum += leastRequestedScore(requested, capacity);
    weights += 1;
  }
  return weights === 0 ? 0 : Math.floor(sum / weights);
}
