import { podRequests, type NodeInfo, type ScorePlugin } from '../framework';

/** (allocatable - requested) / allocatable, in [0, 100]; 0 when allocatable is 0 or exceeded. */
export function leastRequestedScore(requested: number, allocatable: number): number {
  if (allocatable <= 0 || requested > allocatable) return 0;
  return ((allocatable - requested) * 100) / allocatable;
}

/** Prefers nodes with the most free cpu and memory after placing the pod (weights 1:1). */
export const LeastAllocated: ScorePlugin = {
  name: 'NodeResourcesLeastAllocated',
  weight: 1,
  score(pod, info: NodeInfo) {
    const r = podRequests(pod, true);
    const cpu = leastRequestedScore(info.nonZeroRequested.milliCPU + r.milliCPU, info.allocatable.milliCPU);
    const mem = leastRequestedScore(info.nonZeroRequested.memory + r.memory, info.allocatable.memory);
    return Math.floor((cpu + mem) / 2);
  },
};
