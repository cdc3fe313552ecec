import type { FilterPlugin, ScorePlugin } from '../framework';
import { BalancedAllocation } from './balancedAllocation';
import { ImageLocality } from './imageLocality';
import { InterPodAffinity, InterPodAffinityScore } from './interPodAffinity';
import { NodeAffinity } from './nodeAffinity';
import { NodePorts } from './nodePorts';
import { NodeReady, NodeUnschedulable } from './nodeReady';
import { NodeResourcesFit } from './nodeResourcesFit';
import { PodTopologySpread, PodTopologySpreadScore } from './podTopologySpread';
import { TaintToleration } from './taintToleration';
import { volumeBinding, type VolumeLister } from './volumeBinding';

/** Every plugin by name; a profile picks from these. A score plugin's `weight` is kube-scheduler's default. */
const FILTER_PLUGINS: Record<string, FilterPlugin> = Object.fromEntries(
  [NodeReady, NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread, InterPodAffinity].map((p) => [p.name, p]),
);
const SCORE_PLUGINS: Record<string, ScorePlugin> = Object.fromEntries(
  [TaintToleration, NodeAffinity, NodeResourcesFit, PodTopologySpreadScore, InterPodAffinityScore, BalancedAllocation, ImageLocality].map((p) => [p.name, p]),
);

export interface Profile {
  filters: FilterPlugin[];
  scores: ScorePlugin[];
}

/** kube-scheduler's default filters in its order (NodeReady first: Coxswain checks the condition, Kubernetes a taint). */
const DEFAULT_FILTERS = ['NodeReady', 'NodeUnschedulable', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit'];
/** After the volume filters, as kube-scheduler orders them (both read the whole snapshot in PreFilter). */
const POD_FILTERS = ['PodTopologySpread', 'InterPodAffinity'];
/** kube-scheduler's default scores in its order; weights: TaintToleration 3, NodeAffinity, PodTopologySpread and InterPodAffinity 2, the others 1. */
const DEFAULT_SCORES = ['TaintToleration', 'NodeAffinity', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity', 'NodeResourcesBalancedAllocation', 'ImageLocality'];

/**
 * The default profile: kube-scheduler's default plugins, order and weights. With `volumes`,
 * VolumeBinding after the node-level filters, as kube-scheduler orders it.
 */
export function defaultProfile(volumes?: VolumeLister): Profile {
  return {
    filters: [...DEFAULT_FILTERS.map((n) => FILTER_PLUGINS[n]), ...(volumes ? [volumeBinding(volumes)] : []), ...POD_FILTERS.map((n) => FILTER_PLUGINS[n])],
    scores: DEFAULT_SCORES.map((n) => SCORE_PLUGINS[n]),
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
