import type { FilterPlugin, ScorePlugin } from '../framework';
import { BalancedAllocation } from './balancedAllocation';
import { LeastAllocated } from './leastAllocated';
import { NodeAffinity } from './nodeAffinity';
import { NodeReady, NodeUnschedulable } from './nodeReady';
import { NodeResourcesFit } from './nodeResourcesFit';
import { TaintToleration } from './taintToleration';

/** Every plugin by name; a profile picks from these. */
const FILTER_PLUGINS: Record<string, FilterPlugin> = Object.fromEntries(
  [NodeReady, NodeUnschedulable, NodeAffinity, TaintToleration, NodeResourcesFit].map((p) => [p.name, p]),
);
const SCORE_PLUGINS: Record<string, ScorePlugin> = Object.fromEntries([LeastAllocated, BalancedAllocation].map((p) => [p.name, p]));

export interface Profile {
  filters: FilterPlugin[];
  scores: ScorePlugin[];
}

/** The default profile: all filters (cheap ones first), both scores with weight 1. */
export function defaultProfile(): Profile {
  return {
    filters: ['NodeReady', 'NodeUnschedulable', 'NodeAffinity', 'TaintToleration', 'NodeResourcesFit'].map((n) => FILTER_PLUGINS[n]),
    scores: ['NodeResourcesLeastAllocated', 'NodeResourcesBalancedAllocation'].map((n) => SCORE_PLUGINS[n]),
  };
}
