import type { Pod } from 'kubernetes-types/core/v1';
import { CycleState, type NodeInfo, type Snapshot, type Status } from './framework';
import { kthSmallest } from './kth-smallest';
import type { Profile } from './plugins/registry';

/** Why each node was rejected in one attempt (kube-scheduler's Diagnosis): node name → the first failing filter's Status. */
export type Diagnosis = Map<string, Status>;

export type ScheduleResult =
  | {
      ok: true;
      nodeName: string;
      score: number;
      feasible: number;
      /** Nodes filtered before the search stopped (all of them unless `feasibleToFind` cut it short). */
      processed: number;
      state: CycleState;
    }
  | {
      ok: false;
      message: string;
      /** Reason → number of nodes, as counted into `message`. */
      reasons: Map<string, number>;
      /** Per node, which plugin rejected it and why (empty when a PreFilter rejected the pod outright). */
      diagnosis: Diagnosis;
      /** A PreFilter's rejection of the whole attempt, if that is what happened. */
      preFilter?: Status;
      state: CycleState;
    };

/** Where one attempt's node search starts and when it stops (kube-scheduler's percentageOfNodesToScore). */
export interface SearchOptions {
  /** Stop filtering once this many nodes fit (default: filter every node). */
  feasibleToFind?: number;
  /** Index into `snapshot.nodes` to start at; the search wraps around. */
  start?: number;
}

/**
 * One scheduling decision over `snapshot`: PreFilter, then the filters on every node (a node's
 * first failing filter gives its Status; with `search`, from node `start` on, wrapping, until
 * `feasibleToFind` nodes fit), then PreScore/Score/NormalizeScore over the feasible
 * nodes (weighted sum), best wins; ties are broken by `rotation` over the tied nodes sorted by
 * name, so equal nodes take turns. When nothing fits, the message is kube-scheduler's:
 * "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable."
 */
export function schedulePod(pod: Pod, snapshot: Snapshot, profile: Profile, rotation = 0, search: SearchOptions = {}): ScheduleResult {
  const state = new CycleState();
  const nodes = snapshot.nodes;
  for (const f of profile.filters) {
    const s = f.preFilter?.(pod, snapshot, state);
    if (s) {
      const status = { ...s, plugin: f.name };
      const reasons = new Map(s.reasons.map((r) => [r, nodes.length] as const));
      const message = nodes.length === 0 ? failureMessage(0, reasons) : `0/${nodes.length} nodes are available: ${s.reasons.join(', ')}.`;
      return { ok: false, message, reasons, diagnosis: new Map(), preFilter: status, state };
    }
  }
  const reasons = new Map<string, number>();
  const diagnosis: Diagnosis = new Map();
  const feasible: NodeInfo[] = [];
  const total = nodes.length;
  const want = Math.min(search.feasibleToFind ?? total, total);
  const start = total > 0 ? (search.start ?? 0) % total : 0;
  let processed = 0;
  for (; processed < total && feasible.length < want; processed++) {
    const n = nodes[(start + processed) % total];
    const failed = filterNode(pod, n, profile, state);
    if (failed) {
      diagnosis.set(n.node.metadata?.name ?? '', failed);
      for (const r of failed.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    } else feasible.push(n);
  }
  if (feasible.length === 0) return { ok: false, message: failureMessage(nodes.length, reasons), reasons, diagnosis, state };
  const totals = scoreNodes(pod, feasible, snapshot, profile, state);
  let best = -Infinity;
  for (const s of totals) if (s > best) best = s;
  const tied: string[] = [];
  for (let i = 0; i < feasible.length; i++) if (totals[i] === best) tied.push(feasible[i].node.metadata?.name ?? '');
  // The tied node at `rotation` in name order, without sorting them all (often most nodes tie).
  return { ok: true, nodeName: kthSmallest(tied, rotation % tied.length), score: best, feasible: feasible.length, processed, state };
}

/** The first failing filter's Status for one node (with the plugin's name), or undefined when the node fits. */
export function filterNode(pod: Pod, n: NodeInfo, profile: Profile, state: CycleState): Status | undefined {
  for (const f of profile.filters) {
    const s = f.filter(pod, n, state);
    if (s) return { ...s, plugin: f.name };
  }
  return undefined;
}

/** Weighted sum of every score plugin (normalized where the plugin normalizes) per feasible node. */
export function scoreNodes(pod: Pod, feasible: NodeInfo[], snapshot: Snapshot, profile: Profile, state: CycleState): number[] {
  const totals = new Array<number>(feasible.length).fill(0);
  for (const p of profile.scores) {
    p.preScore?.(pod, feasible, snapshot, state);
    const raw = feasible.map((n) => p.score(pod, n, state));
    p.normalize?.(raw, pod, feasible, state);
    for (let i = 0; i < raw.length; i++) totals[i] += p.weight * raw[i];
  }
  return totals;
}

export function failureMessage(total: number, reasons: Map<string, number>): string {
  if (total === 0) return '0/0 nodes are available: no nodes available to schedule pods.';
  const parts = [...reasons.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([r, n]) => `${n} ${r}`);
  return `0/${total} nodes are available: ${parts.join(', ')}.`;
}

/** Whether this scheduler should place `pod`: unbound, not terminating, ours. */
export function needsScheduling(pod: Pod, schedulerName = 'default-scheduler'): boolean {
  if (pod.spec?.nodeName) return false;
  if (pod.metadata?.deletionTimestamp) return false;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
  return (pod.spec?.schedulerName ?? 'default-scheduler') === schedulerName;
}
