import type { Node, Pod } from 'kubernetes-types/core/v1';
import { unresolvable, unschedulable, type FilterPlugin, type NodeInfo, type ScorePlugin, type Snapshot, type Status } from '../framework';
import { constraintsOf, countMatching, hasAllKeys, LABEL_HOSTNAME, nodeIncluded, type SpreadConstraint } from './topologySpreadConstraints';

/**
 * PodTopologySpread, as kube-scheduler's plugin of that name.
 *
 * Filter (whenUnsatisfiable DoNotSchedule): a node passes a constraint when
 * `pods matching in its domain + (1 if the pod matches its own selector) - global minimum <= maxSkew`,
 * where domains are the values of the topologyKey on eligible nodes (nodes carrying every
 * constraint's key and admitted by nodeAffinityPolicy/nodeTaintsPolicy), and the global minimum is
 * 0 while there are fewer eligible domains than minDomains. PreFilter counts once per attempt.
 *
 * Score (ScheduleAnyway, or the system defaults): fewer matching pods in a node's domains score
 * higher; each constraint's count is weighted by log(number of domains + 2) and offset by
 * maxSkew - 1, then normalized so the emptiest node gets 100.
 */

export const NAME = 'PodTopologySpread';
const PRE_FILTER_KEY = `PreFilter${NAME}`;
const PRE_SCORE_KEY = `PreScore${NAME}`;

export const ERR_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
export const ERR_MISSING_LABEL = `${ERR_CONSTRAINTS} (missing required label)`;
/** kube-scheduler's default weight of the PodTopologySpread score. */
export const DEFAULT_WEIGHT = 2;

interface PreFilterState {
  pod: Pod;
  constraints: SpreadConstraint[];
  /** Per constraint: domain value → matching pods. */
  counts: Map<string, number>[];
  /** Per constraint: the global minimum (minDomains applied). */
  minMatch: number[];
  /** What the counts were taken over (to recount one node whose pods differ). */
  snapshot: Snapshot;
}

/** Adds (sign 1) or removes (sign -1) one node's matching pods to the domain counts. */
function countNode(pod: Pod, constraints: SpreadConstraint[], counts: Map<string, number>[], node: Node, pods: Pod[], sign: number): void {
  if (!hasAllKeys(node, constraints)) return;
  const labels = node.metadata?.labels ?? {};
  constraints.forEach((c, i) => {
    if (!nodeIncluded(c, pod, node)) return;
    const v = labels[c.topologyKey];
    counts[i].set(v, (counts[i].get(v) ?? 0) + sign * countMatching(c, pods));
  });
}

function minima(constraints: SpreadConstraint[], counts: Map<string, number>[]): number[] {
  return constraints.map((c, i) => {
    if (counts[i].size < c.minDomains) return 0;
    let min = Infinity;
    for (const n of counts[i].values()) min = Math.min(min, n);
    return min;
  });
}

export function preFilterState(pod: Pod, snapshot: Snapshot): PreFilterState {
  const constraints = constraintsOf(pod, 'DoNotSchedule');
  const counts = constraints.map(() => new Map<string, number>());
  if (constraints.length > 0) for (const n of snapshot.nodes) countNode(pod, constraints, counts, n.node, n.pods, 1);
  return { pod, constraints, counts, minMatch: minima(constraints, counts), snapshot };
}

/**
 * The state as if the node held `info.pods` instead of the snapshot's pods for it (upstream's
 * RemovePod/AddPod, used when preemption tries a node without its victims).
 */
function forNodeInfo(s: PreFilterState, info: NodeInfo): PreFilterState {
  if (s.constraints.length === 0) return s;
  const orig = s.snapshot.get(info.node.metadata?.name ?? '');
  if (orig === info || (orig && orig.pods === info.pods)) return s;
  const counts = s.counts.map((m) => new Map(m));
  countNode(s.pod, s.constraints, counts, info.node, orig?.pods ?? [], -1);
  countNode(s.pod, s.constraints, counts, info.node, info.pods, 1);
  return { ...s, counts, minMatch: minima(s.constraints, counts) };
}

export const PodTopologySpread: FilterPlugin = {
  name: NAME,
  preFilter(pod, snapshot, state) {
    state.write(PRE_FILTER_KEY, preFilterState(pod, snapshot));
    return undefined;
  },
  filter(_pod, nodeInfo, state): Status | undefined {
    const pre = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (!pre) return { code: 'Error', reasons: [`reading "${PRE_FILTER_KEY}" from cycleState: not found`] };
    const s = forNodeInfo(pre, nodeInfo);
    const labels = nodeInfo.node.metadata?.labels ?? {};
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      const v = labels[c.topologyKey];
      if (v === undefined) return unresolvable(ERR_MISSING_LABEL);
      const skew = (s.counts[i].get(v) ?? 0) + (c.selfMatch ? 1 : 0) - s.minMatch[i];
      if (skew > c.maxSkew) return unschedulable(ERR_CONSTRAINTS);
    }
    return undefined;
  },
};

interface PreScoreState {
  constraints: SpreadConstraint[];
  /** Feasible nodes without every topology key (only when the pod's own constraints are used); they score 0. */
  ignored: Set<string>;
  /** Per constraint (except hostname, counted per node in score): domain value → matching pods. */
  counts: Map<string, number>[];
  /** Per constraint: log(domains + 2), so counts in few big domains do not drown those in many small ones. */
  weights: number[];
}

export function preScoreState(pod: Pod, feasible: NodeInfo[], snapshot: Snapshot): PreScoreState | undefined {
  if (feasible.length === 0 || snapshot.nodes.length === 0) return undefined;
  const constraints = constraintsOf(pod, 'ScheduleAnyway');
  if (constraints.length === 0) return undefined;
  // Nodes must carry every key only for the pod's own constraints, so the defaults still spread
  // over hostnames on nodes without a zone.
  const requireAll = (pod.spec?.topologySpreadConstraints ?? []).length > 0;
  const ignored = new Set<string>();
  const counts = constraints.map(() => new Map<string, number>());
  for (const n of feasible) {
    if (requireAll && !hasAllKeys(n.node, constraints)) {
      ignored.add(n.node.metadata?.name ?? '');
      continue;
    }
    const labels = n.node.metadata?.labels ?? {};
    constraints.forEach((c, i) => {
      if (c.topologyKey !== LABEL_HOSTNAME) counts[i].set(labels[c.topologyKey] ?? '', 0);
    });
  }
  const weights = constraints.map((c, i) => Math.log((c.topologyKey === LABEL_HOSTNAME ? feasible.length - ignored.size : counts[i].size) + 2));
  for (const n of snapshot.nodes) {
    if (requireAll && !hasAllKeys(n.node, constraints)) continue;
    const labels = n.node.metadata?.labels ?? {};
    constraints.forEach((c, i) => {
      if (c.topologyKey === LABEL_HOSTNAME || !nodeIncluded(c, pod, n.node)) return;
      const v = labels[c.topologyKey] ?? '';
      const cur = counts[i].get(v);
      if (cur !== undefined) counts[i].set(v, cur + countMatching(c, n.pods));
    });
  }
  return { constraints, ignored, counts, weights };
}

export const PodTopologySpreadScore: ScorePlugin = {
  name: NAME,
  weight: DEFAULT_WEIGHT,
  preScore(pod, nodes, snapshot, state) {
    state.write(PRE_SCORE_KEY, preScoreState(pod, nodes, snapshot));
  },
  score(_pod, n, state) {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (!s || s.ignored.has(n.node.metadata?.name ?? '')) return 0;
    const labels = n.node.metadata?.labels ?? {};
    let score = 0;
    s.constraints.forEach((c, i) => {
      const v = labels[c.topologyKey];
      if (v === undefined) return;
      const cnt = c.topologyKey === LABEL_HOSTNAME ? countMatching(c, n.pods) : (s.counts[i].get(v) ?? 0);
      score += cnt * s.weights[i] + (c.maxSkew - 1);
    });
    return Math.round(score);
  },
  normalize(scores, _pod, nodes, state) {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (!s) {
      scores.fill(0);
      return;
    }
    const valid = nodes.map((n) => !s.ignored.has(n.node.metadata?.name ?? ''));
    let min = Infinity;
    let max = 0;
    scores.forEach((v, i) => {
      if (!valid[i]) return;
      min = Math.min(min, v);
      max = Math.max(max, v);
    });
    for (let i = 0; i < scores.length; i++) {
      if (!valid[i]) scores[i] = 0;
      else if (max === 0) scores[i] = 100;
      else scores[i] = Math.trunc((100 * (max + min - scores[i])) / max);
    }
  },
};
