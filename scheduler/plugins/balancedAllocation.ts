import { podRequests, type NodeInfo, type ScorePlugin } from '../framework';

/** 100·(1 − std deviation of the cpu and memory fractions), fractions capped at 1. */
export function balancedScore(cpuFraction: number, memFraction: number): number {
  const c = Math.min(cpuFraction, 1);
  const m = Math.min(memFraction, 1);
  const mean = (c + m) / 2;
  const std = Math.sqrt(((c - mean) ** 2 + (m - mean) ** 2) / 2);
  return Math.floor((1 - std) * 100);
}

/** Prefers nodes whose cpu and memory would be used in similar proportions. */
export const BalancedAllocation: ScorePlugin = {
  name: 'NodeResourcesBalancedAllocation',
  weight: 1,
  score(pod, info: NodeInfo) {
    const r = podRequests(pod, true);
    const a = info.allocatable;
    const cpu = a.milliCPU > 0 ? (info.nonZeroRequested.milliCPU + r.milliCPU) / a.milliCPU : 1;
    const mem = a.memory > 0 ? (info.nonZeroRequested.memory + r.memory) / a.memory : 1;
    return balancedScore(cpu, mem);
  },
};
