import type { FilterPlugin, ScorePlugin } from '../framework';
import { BalancedAllocation } from './balancedAllocation';
import { LeastAllocated } from './leastAllocated';
import { NodeAffinity } from './nodeAffinity';
import { NodeReady, NodeUnschedulable } from './nodeReady';
import { NodeResourcesFit } from './nodeResourcesFit';
import { TaintToleration } from './taintToleration';
import { volumeBinding, type VolumeLister } from './volumeBinding';

/** Every plugin by name; a profile picks from these. */
const FILTER_PLUGINS: Record<string, FilterPlugin> = Object.fromEntries(
  [NodeReady, NodeUnschedulable, NodeAffinity, TaintToleration, NodeResourcesFit].map((p) => [p.name, p]),
);
const SCORE_PLUGINS: Record<string, ScorePlugin> = Object.fromEntries([LeastAllocated, BalancedAllocation].map((p) => [p.name, p]));

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
    filters: [...['NodeReady', 'NodeUnschedulable', 'NodeAffinity', 'TaintToleration', 'NodeResourcesFit'].map((n) => FILTER_PLUGINS[n]), ...(volumes ? [volumeBinding(volumes)] : [])],
    scores: ['NodeResourcesLeastAllocated', 'NodeResourcesBalancedAllocation'].map((n) => SCORE_PLUGINS[n]),
  };
}

/**
 * The plugin called `name`: its filter, its score or both (from the registry or the default
 * profile); undefined when no plugin has that name. Profiles from a config file are built from this.
 */
export function pluginNamed(name: string, volumes?: VolumeLister): { filter?: FilterPlugin; score?: ScorePlugin } | undefined {
  const d = defaultProfile(volumes);
  const filter = FILTER_PLUGINS[name] ?? d.filters.find((p) => p.name === name);
  const score = SCORE_PLUGINS[name] ?? d.scores.find((p) => p.name === name);
  return filter || score ? { filter, score } : undefined;
}
