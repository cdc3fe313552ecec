import type { FilterPlugin, ScorePlugin } from '../framework';
import { BalancedAllocation } from './balancedAllocation';
import { InterPodAffinity, InterPodAffinityScore } from './interPodAffinity';
import { LeastAllocated } from './leastAllocated';
import { NodeAffinity } from './nodeAffinity';
import { NodeReady, NodeUnschedulable } from './nodeReady';
import { NodeResourcesFit } from './nodeResourcesFit';
import { PodTopologySpread, PodTopologySpreadScore } from './podTopologySpread';
import { TaintToleration } from './taintToleration';
import { volumeBinding, type VolumeLister } from './volumeBinding';

/** Every plugin by name; a profile picks from these. */
const FILTER_PLUGINS: Record<string, FilterPlugin> = Object.fromEntries(
  [NodeReady, NodeUnschedulable, NodeAffinity, TaintToleration, NodeResourcesFit, PodTopologySpread, InterPodAffinity].map((p) => [p.name, p]),
);
const SCORE_PLUGINS: Record<string, ScorePlugin> = Object.fromEntries(
  [LeastAllocated, BalancedAllocation, PodTopologySpreadScore, InterPodAffinityScore].map((p) => [p.name, p]),
);

export interface Profile {
  filters: FilterPlugin[];
  scores: ScorePlugin[];
}

/**
 * The default profile: all filters (cheap ones first), both scores with weight 1. With
 * `volumes`, VolumeBinding last (it reads claims, volumes and classes), as kube-scheduler orders it.
 */
export function defaultProfile(volumes?: VolumeLister): Profile {
  return {
    filters: [
      ...['NodeReady', 'NodeUnschedulable', 'NodeAffinity', 'TaintToleration', 'NodeResourcesFit'].map((n) => FILTER_PLUGINS[n]),
      ...(volumes ? [volumeBinding(volumes)] : []),
      // After the volume filters, as kube-scheduler orders them (these read the whole snapshot in PreFilter).
      ...['PodTopologySpread', 'InterPodAffinity'].map((n) => FILTER_PLUGINS[n]),
    ],
    scores: ['NodeResourcesLeastAllocated', 'NodeResourcesBalancedAllocation', 'PodTopologySpread', 'InterPodAffinity'].map((n) => SCORE_PLUGINS[n]),
  };
}
