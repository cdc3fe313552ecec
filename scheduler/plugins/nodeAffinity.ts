import type { NodeAffinity as NodeAffinitySpec, Node, Pod, PreferredSchedulingTerm } from 'kubernetes-types/core/v1';
import { nodeSelectorMatches, podFitsNodeAffinity } from '../../lib/node-affinity';
import { unresolvable, type FilterPlugin, type ScorePlugin } from '../framework';
import { defaultNormalizeScore } from './normalize';

export const NODE_AFFINITY_REASON = "node(s) didn't match Pod's node affinity/selector";
export const ENFORCED_AFFINITY_REASON = "node(s) didn't match scheduler-enforced node affinity";

/** NodeAffinity's arguments (kube-scheduler's NodeAffinityArgs): an affinity added to every pod of the profile. */
export interface NodeAffinityArgs {
  addedAffinity?: NodeAffinitySpec;
}

/** Sum of the weights of the preferred terms that match the node (a term of weight 0 or without requirements counts nothing). */
export function preferredScore(terms: readonly PreferredSchedulingTerm[], node: Node): number {
  let sum = 0;
  for (const t of terms) if (t.weight && nodeSelectorMatches({ nodeSelectorTerms: [t.preference] }, node)) sum += t.weight;
  return sum;
}

const STATE_KEY = 'PreScoreNodeAffinity';
const PRE_FILTER_KEY = 'PreFilterNodeAffinity';

/** Whether the pod has a nodeSelector or required node affinity terms (else podFitsNodeAffinity holds on every node). */
function hasRequired(pod: Pod): boolean {
  for (const _ in pod.spec?.nodeSelector ?? {}) return true;
  return !!pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
}

/**
 * Kubernetes' NodeAffinity. Filter: spec.nodeSelector and the required node affinity
 * (lib/node-affinity.ts, matchFields on metadata.name included, which is how DaemonSet pods
 * name their node), and the profile's addedAffinity first; unresolvable, as no eviction changes
 * a node's labels. Score: the sum of the weights of the preferred terms the node matches,
 * normalized so the best node gets 100 (weight 2 in the default profile).
 */
export function nodeAffinity(args: NodeAffinityArgs = {}): FilterPlugin & ScorePlugin {
  const addedRequired = args.addedAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const addedPreferred = args.addedAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  return {
    name: 'NodeAffinity',
    weight: 2,
    preFilter(pod, _snapshot, state) {
      state.write(PRE_FILTER_KEY, hasRequired(pod));
      return undefined;
    },
    filter(pod, { node }, state) {
      if (addedRequired && addedRequired.nodeSelectorTerms.length > 0 && !nodeSelectorMatches(addedRequired, node)) return unresolvable(ENFORCED_AFFINITY_REASON);
      // A pod with neither a nodeSelector nor required node affinity fits every node (upstream's PreFilter Skip).
      if (state.read<boolean>(PRE_FILTER_KEY) === false) return undefined;
      return podFitsNodeAffinity(pod.spec, node) ? undefined : unresolvable(NODE_AFFINITY_REASON);
    },
    preScore(pod, _nodes, _snapshot, state) {
      state.write(STATE_KEY, [...addedPreferred, ...podPreferred(pod)]);
    },
    score(pod, { node }, state) {
      return preferredScore(state.read<PreferredSchedulingTerm[]>(STATE_KEY) ?? [...addedPreferred, ...podPreferred(pod)], node);
    },
    normalize(scores) {
      defaultNormalizeScore(scores, false);
    },
  };
}

function podPreferred(pod: Pod): PreferredSchedulingTerm[] {
  return pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
}

/** The default profile's NodeAffinity (no addedAffinity). */
export const NodeAffinity = nodeAffinity();
