import type { Node, Pod } from 'kubernetes-types/core/v1';
import { hasRequiredAntiAffinity, unresolvable, unschedulable, type CycleState, type FilterPlugin, type NodeInfo, type ScorePlugin, type Snapshot, type Status } from '../framework';
import { affinityOf, matchesAllTerms, memoNamespaceLabels, termMatches, TopologyCounts, type AffinityTerm, type NamespaceLabels, type PodAffinityInfo } from './podAffinityTerms';

/**
 * InterPodAffinity, as kube-scheduler's plugin of that name.
 *
 * Filter: the pod's required pod affinity (every term must find a matching pod in the node's
 * domain of its topologyKey; the node must carry every term's key), its required anti-affinity
 * (no matching pod in the node's domain), and the required anti-affinity of pods already placed
 * (the pod may not land in a domain whose pods' terms select it). PreFilter counts matching pods
 * per (topologyKey, value) over the whole snapshot once, so each node is a few map lookups.
 *
 * Score: the pod's preferred terms (+weight per matching pod in the node's domain for affinity,
 * -weight for anti-affinity), plus the terms of pods already placed that select this pod
 * (required affinity with hardPodAffinityWeight 1, preferred with their weight), normalized
 * to [0, 100] between the lowest and highest node.
 */

export const NAME = 'InterPodAffinity';
const PRE_FILTER_KEY = `PreFilter${NAME}`;
const PRE_SCORE_KEY = `PreScore${NAME}`;

export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

/** Weight of an existing pod's required affinity term when scoring (kube-scheduler's hardPodAffinityWeight default). */
export const HARD_POD_AFFINITY_WEIGHT = 1;
/** kube-scheduler's default weight of the InterPodAffinity score. */
export const DEFAULT_WEIGHT = 2;

interface PreFilterState {
  /** The pod has no required terms and no placed pod's required anti-affinity selects it: every node passes. */
  skip: boolean;
  info: PodAffinityInfo;
  /** Pairs holding pods whose required anti-affinity terms select the incoming pod. */
  existingAnti: TopologyCounts;
  /** Pairs holding pods that match ALL the pod's required affinity terms (counted once per term key). */
  affinity: TopologyCounts;
  /** Pairs holding pods matching any of the pod's required anti-affinity terms. */
  anti: TopologyCounts;
  /** The pod matches all of its own affinity terms (it may be the first of its group). */
  selfMatch: boolean;
  /** What the counts were taken over, and how (to recount one node whose pods differ). */
  snapshot: Snapshot;
  counting: Counting;
}

function labelsOf(node: Node): Record<string, string> {
  return node.metadata?.labels ?? {};
}

function addIfLabeled(counts: TopologyCounts, node: Node, key: string, n: number): void {
  const v = labelsOf(node)[key];
  if (v !== undefined) counts.add(key, v, n);
}

interface Counting {
  pod: Pod;
  info: PodAffinityInfo;
  hasOwn: boolean;
  nsLabels: NamespaceLabels;
  ownNsLabels: NamespaceLabels;
}

/** Adds (sign 1) or removes (sign -1) the contribution of a placed pod's required anti-affinity terms that select the incoming pod. */
function countExistingAnti(s: PreFilterState, c: Counting, existing: Pod, node: Node, sign: number): void {
  for (const t of affinityOf(existing).requiredAntiAffinity) if (termMatches(t, c.pod, c.ownNsLabels)) addIfLabeled(s.existingAnti, node, t.topologyKey, sign);
}

/** Adds (sign 1) or removes (sign -1) a placed pod's matches of the incoming pod's own required terms. */
function countOwn(s: PreFilterState, c: Counting, existing: Pod, node: Node, sign: number): void {
  if (matchesAllTerms(c.info.requiredAffinity, existing, c.nsLabels)) for (const t of c.info.requiredAffinity) addIfLabeled(s.affinity, node, t.topologyKey, sign);
  for (const t of c.info.requiredAntiAffinity) if (termMatches(t, existing, c.nsLabels)) addIfLabeled(s.anti, node, t.topologyKey, sign);
}

/** Adds (sign 1) or removes (sign -1) one placed pod's contribution to the filter's counts. */
function countPod(s: PreFilterState, c: Counting, existing: Pod, node: Node, sign: number): void {
  // Most pods have no affinity at all: a property read, not a cache lookup.
  if (hasRequiredAntiAffinity(existing)) countExistingAnti(s, c, existing, node, sign);
  if (c.hasOwn) countOwn(s, c, existing, node, sign);
}

/**
 * The counts the filter needs: the placed pods' required anti-affinity from the nodes that have
 * such pods only, and, when the pod has required terms of its own, matches over every pod.
 * Without either, `skip` is set and the filter passes every node (upstream's PreFilter Skip).
 */
export function preFilterState(pod: Pod, snapshot: Snapshot, nsLabels: NamespaceLabels): PreFilterState {
  const info = affinityOf(pod);
  const podNs = pod.metadata?.namespace ?? 'default';
  const counting: Counting = { pod, info, hasOwn: info.requiredAffinity.length + info.requiredAntiAffinity.length > 0, nsLabels, ownNsLabels: () => nsLabels(podNs) };
  const s: PreFilterState = {
    skip: false,
    info,
    existingAnti: new TopologyCounts(),
    affinity: new TopologyCounts(),
    anti: new TopologyCounts(),
    selfMatch: matchesAllTerms(info.requiredAffinity, pod, nsLabels),
    snapshot,
    counting,
  };
  for (const n of snapshot.havePodsWithRequiredAntiAffinity()) for (const existing of n.podsWithRequiredAntiAffinity) countExistingAnti(s, counting, existing, n.node, 1);
  if (counting.hasOwn) for (const n of snapshot.nodes) for (const existing of n.pods) countOwn(s, counting, existing, n.node, 1);
  s.skip = !counting.hasOwn && s.existingAnti.size === 0;
  return s;
}

/**
 * The state as if the node held `info.pods` instead of the snapshot's pods for it: what
 * upstream's RemovePod/AddPod do when preemption tries a node without its victims. Only that
 * node's pairs change, and Filter reads only that node's pairs.
 */
function forNodeInfo(s: PreFilterState, info: NodeInfo): PreFilterState {
  const orig = s.snapshot.get(info.node.metadata?.name ?? '');
  if (orig === info || (orig && orig.pods === info.pods)) return s;
  const t: PreFilterState = { ...s, existingAnti: s.existingAnti.clone(), affinity: s.affinity.clone(), anti: s.anti.clone() };
  for (const p of orig?.pods ?? []) countPod(t, s.counting, p, info.node, -1);
  for (const p of info.pods) countPod(t, s.counting, p, info.node, 1);
  t.skip = !s.counting.hasOwn && t.existingAnti.size === 0;
  return t;
}

function satisfiesAffinity(s: PreFilterState, node: Node): boolean {
  const labels = labelsOf(node);
  let podsExist = true;
  for (const t of s.info.requiredAffinity) {
    const v = labels[t.topologyKey];
    if (v === undefined) return false;
    if (s.affinity.get(t.topologyKey, v) <= 0) podsExist = false;
  }
  // The first pod of a group with affinity to itself: nothing matches anywhere yet, so let it go.
  return podsExist || (s.affinity.size === 0 && s.selfMatch);
}

function satisfiesAntiAffinity(s: PreFilterState, node: Node): boolean {
  if (s.anti.size === 0) return true;
  const labels = labelsOf(node);
  return !s.info.requiredAntiAffinity.some((t) => labels[t.topologyKey] !== undefined && s.anti.get(t.topologyKey, labels[t.topologyKey]) > 0);
}

function satisfiesExistingAntiAffinity(s: PreFilterState, node: Node): boolean {
  if (s.existingAnti.size === 0) return true;
  return !Object.entries(labelsOf(node)).some(([k, v]) => s.existingAnti.get(k, v) > 0);
}

export const InterPodAffinity: FilterPlugin = {
  name: NAME,
  preFilter(pod, snapshot, state) {
    state.write(PRE_FILTER_KEY, preFilterState(pod, snapshot, memoNamespaceLabels((ns) => snapshot.namespaceLabels(ns))));
    return undefined;
  },
  filter(_pod, nodeInfo, state): Status | undefined {
    const pre = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (!pre) return { code: 'Error', reasons: [`reading "${PRE_FILTER_KEY}" from cycleState: not found`] };
    // No terms to check anywhere, and none on this node (preemption may try a node with other pods).
    if (pre.skip && nodeInfo.podsWithRequiredAntiAffinity.length === 0) return undefined;
    const s = forNodeInfo(pre, nodeInfo);
    const node = nodeInfo.node;
    if (s.skip) return undefined;
    // Affinity cannot be fixed by removing pods; anti-affinity can (preemption may help).
    if (!satisfiesAffinity(s, node)) return unresolvable(ERR_AFFINITY);
    if (!satisfiesAntiAffinity(s, node)) return unschedulable(ERR_ANTI_AFFINITY);
    if (!satisfiesExistingAntiAffinity(s, node)) return unschedulable(ERR_EXISTING_ANTI_AFFINITY);
    return undefined;
  },
};

/** topologyKey → value → summed weight. */
type TopologyScore = Map<string, Map<string, number>>;

function addScore(m: TopologyScore, term: AffinityTerm, weight: number, target: Pod, nsLabels: NamespaceLabels, node: Node): void {
  if (!termMatches(term, target, nsLabels)) return;
  const v = labelsOf(node)[term.topologyKey];
  if (v === undefined) return;
  let byValue = m.get(term.topologyKey);
  if (!byValue) m.set(term.topologyKey, (byValue = new Map()));
  byValue.set(v, (byValue.get(v) ?? 0) + weight);
}

function hasAnyLabel(node: Node): boolean {
  for (const _ in labelsOf(node)) return true;
  return false;
}

/**
 * The weighted topology scores over the snapshot (undefined when nothing contributes): every pod
 * when the pod has preferred terms of its own, else only the pods with pod (anti-)affinity
 * terms, on the nodes that have them (upstream's PreScore).
 */
export function preScoreState(pod: Pod, snapshot: Snapshot, nsLabels: NamespaceLabels): TopologyScore | undefined {
  const info = affinityOf(pod);
  const hasPreferred = info.preferredAffinity.length + info.preferredAntiAffinity.length > 0;
  const podNs = pod.metadata?.namespace ?? 'default';
  const ownNsLabels: NamespaceLabels = () => nsLabels(podNs);
  const m: TopologyScore = new Map();
  const visit = (existing: Pod, node: Node) => {
    if (!hasAnyLabel(node)) return;
    const e = affinityOf(existing);
    for (const t of info.preferredAffinity) addScore(m, t, t.weight, existing, nsLabels, node);
    for (const t of info.preferredAntiAffinity) addScore(m, t, -t.weight, existing, nsLabels, node);
    if (HARD_POD_AFFINITY_WEIGHT > 0) for (const t of e.requiredAffinity) addScore(m, t, HARD_POD_AFFINITY_WEIGHT, pod, ownNsLabels, node);
    for (const t of e.preferredAffinity) addScore(m, t, t.weight, pod, ownNsLabels, node);
    for (const t of e.preferredAntiAffinity) addScore(m, t, -t.weight, pod, ownNsLabels, node);
  };
  if (hasPreferred) for (const n of snapshot.nodes) for (const existing of n.pods) visit(existing, n.node);
  else for (const n of snapshot.havePodsWithAffinity()) for (const existing of n.podsWithAffinity) visit(existing, n.node);
  return m.size > 0 ? m : undefined;
}

export const InterPodAffinityScore: ScorePlugin = {
  name: NAME,
  weight: DEFAULT_WEIGHT,
  preScore(pod, _nodes: NodeInfo[], snapshot, state: CycleState) {
    state.write(PRE_SCORE_KEY, preScoreState(pod, snapshot, memoNamespaceLabels((ns) => snapshot.namespaceLabels(ns))));
  },
  score(_pod, { node }, state) {
    const m = state.read<TopologyScore>(PRE_SCORE_KEY);
    if (!m) return 0;
    const labels = labelsOf(node);
    let score = 0;
    for (const [key, byValue] of m) {
      const v = labels[key];
      if (v !== undefined) score += byValue.get(v) ?? 0;
    }
    return score;
  },
  normalize(scores, _pod, _nodes, state) {
    if (!state.read<TopologyScore>(PRE_SCORE_KEY)) {
      scores.fill(0);
      return;
    }
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      min = Math.min(min, s);
      max = Math.max(max, s);
    }
    // Same float order as upstream (100 * (s - min) / (max - min) can round differently).
    for (let i = 0; i < scores.length; i++) scores[i] = max > min ? Math.trunc(100 * ((scores[i] - min) / (max - min))) : 0;
  },
};
