/** Text for table cells, worded as kubectl prints the same columns. */
import { parseQuantity } from '../../../lib/quantity';
import type { Condition, NodeView, PodView } from './types';

/** kubectl's AGE: 45s, 12m, 3h, 5d. */
export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** kubectl get pods' STATUS column. */
export function podStatus(p: PodView): string {
  if (p.metadata.deletionTimestamp) return 'Terminating';
  let reason = p.status?.reason || p.status?.phase || 'Unknown';
  for (const c of p.status?.initContainerStatuses ?? []) {
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) continue;
    if (t) return `Init:${t.reason || `ExitCode:${t.exitCode}`}`;
    if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') return `Init:${c.state.waiting.reason}`;
    return `Init:0/${p.spec.initContainers?.length ?? 0}`;
  }
  for (const c of p.status?.containerStatuses ?? []) {
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
    else if (c.state?.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
  }
  return reason;
}

export function podReady(p: PodView): string {
  const cs = p.status?.containerStatuses ?? [];
  return `${cs.filter((c) => c.ready).length}/${p.spec.containers.length}`;
}

export function podRestarts(p: PodView): number {
  return (p.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0);
}

/** kubectl get nodes' STATUS: Ready / NotReady / Unknown, plus SchedulingDisabled. */
export function nodeStatus(n: NodeView): string {
  const ready = n.status?.conditions?.find((c: Condition) => c.type === 'Ready');
  const s = !ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown';
  return n.spec?.unschedulable ? `${s},SchedulingDisabled` : s;
}

export function nodeRoles(n: NodeView): string {
  const roles = Object.keys(n.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length));
  return roles.length ? roles.join(',') : '<none>';
}

/** Whether `labels` match a selector's matchLabels (matchExpressions are ignored: a view hint, not a decision). */
export function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** A Kubernetes quantity ("250m", "1Gi", "3") as a number; NaN when it is not one. */
export function quantity(q: string | undefined): number {
  return parseQuantity(q) ?? NaN;
}
