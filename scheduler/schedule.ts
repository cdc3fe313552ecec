import type { Pod } from 'kubernetes-types/core/v1';
import type { NodeInfo } from './framework';
import type { Profile } from './plugins/registry';

export type ScheduleResult =
  | { ok: true; nodeName: string; score: number; feasible: number }
  | { ok: false; message: string; reasons: Map<string, number> };

/**
 * One scheduling decision: run the filters on every node (a node's first
 * failing filter gives its reasons), score the feasible ones (weighted sum),
 * pick the best; ties are broken by `rotation` over the tied nodes sorted by
 * name, so equal nodes take turns. When nothing fits, the message is
 * kube-scheduler's: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s)
 * were unschedulable."
 */
export function schedulePod(pod: Pod, nodes: NodeInfo[], profile: Profile, rotation = 0): ScheduleResult {
  const reasons = new Map<string, number>();
  const feasible: NodeInfo[] = [];
  for (const n of nodes) {
    let failed: string[] | undefined;
    for (const f of profile.filters) {
      failed = f.filter(pod, n);
      if (failed) break;
    }
    if (failed) for (const r of failed) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    else feasible.push(n);
  }
  if (feasible.length === 0) return { ok: false, message: failureMessage(nodes.length, reasons), reasons };
  let best = -Infinity;
  let tied: string[] = [];
  for (const n of feasible) {
    const s = profile.scores.reduce((sum, p) => sum + p.weight * p.score(pod, n), 0);
    const name = n.node.metadata?.name ?? '';
    if (s > best) {
      best = s;
      tied = [name];
    } else if (s === best) tied.push(name);
  }
  tied.sort();
  return { ok: true, nodeName: tied[rotation % tied.length], score: best, feasible: feasible.length };
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
