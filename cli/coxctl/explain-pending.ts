import type { Pod, PodCondition } from 'kubernetes-types/core/v1';
import { age } from '../../lib/duration';
import { ANN_LAST_ATTEMPT, decodeLastAttempt, type LastAttempt, type RejectionGroup } from '../../lib/scheduling-diagnosis';
import { columnWidths, formatLines } from './table';

/**
 * The answer to "why is my pod pending?", computed from the pod alone (its spec, status and
 * the scheduler's `scheduler.coxswain.io/last-attempt` annotation). Pure: the caller reads
 * the pod and prints `stdout`/`stderr`, exiting with `code`.
 */

/** Above this many rejected nodes `why-pending` groups them by reason unless asked for all. */
export const PER_NODE_LIMIT = 50;
/** Node names shown per group in the grouped form. */
export const NAMES_PER_GROUP = 5;

export interface ExplainOptions {
  /** One line per node however many there are. */
  all?: boolean;
  /** One line per node with the STATUS column (Unschedulable / UnschedulableAndUnresolvable). */
  wide?: boolean;
  now?: number;
}

export interface Explanation {
  /** 0 when the state of the pod is explained; 1 when nothing is recorded to explain it. */
  code: 0 | 1;
  stdout: string;
  stderr: string;
}

const byName = new Intl.Collator('en', { numeric: true }).compare;

export function podScheduledCondition(pod: Pod): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
}

function podRef(pod: Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

/** "PodScheduled=False (Unschedulable) for 2m", or a note that the condition is not set. */
export function conditionText(pod: Pod, now: number): string {
  const c = podScheduledCondition(pod);
  if (!c) return 'PodScheduled condition not set';
  const since = c.lastTransitionTime ? ` for ${age(c.lastTransitionTime, now)}` : '';
  return `PodScheduled=${c.status}${c.reason ? ` (${c.reason})` : ''}${since}`;
}

/**
 * "on 4 nodes, same result since 5s ago (2026-12-07T06:00:00Z)": the scheduler rewrites the
 * record only when the result changes, so its time is when this result was first seen.
 */
export function attemptText(a: LastAttempt, now: number): string {
  return `on ${a.nodes} node${a.nodes === 1 ? '' : 's'}, same result since ${age(a.time, now)} ago (${a.time})`;
}

/** Rows NODE, PLUGIN, REASON[, STATUS]: one per rejected node sorted by name (zone-a-2 before zone-a-10); a PreFilter rejection is one row for all nodes. */
export function perNodeRows(a: LastAttempt, wide = false): string[][] {
  const rows: string[][] = [];
  if (a.preFilter) {
    rows.push([`(all ${a.nodes} nodes)`, a.preFilter.plugin, a.preFilter.reasons.join(', '), ...(wide ? ['UnschedulableAndUnresolvable'] : [])]);
  }
  const nodes: string[][] = [];
  for (const g of a.rejected) for (const n of g.nodes) nodes.push([n, g.plugin, g.reasons.join(', '), ...(wide ? [g.code] : [])]);
  nodes.sort((x, y) => byName(x[0], y[0]));
  return [...rows, ...nodes];
}

function groupOrder(a: RejectionGroup, b: RejectionGroup): number {
  return b.nodes.length - a.nodes.length || byName(a.plugin, b.plugin) || byName(a.reasons.join(), b.reasons.join());
}

/** "zone-a-0, zone-a-1, … (+995 more)": the first `max` names of a group in name order. */
export function someNames(nodes: string[], max = NAMES_PER_GROUP): string {
  const sorted = [...nodes].sort(byName);
  const shown = sorted.slice(0, max).join(', ');
  return sorted.length > max ? `${shown}, … (+${sorted.length - max} more)` : shown;
}

/** Rows COUNT, PLUGIN, REASON, NODES: one per group of nodes rejected alike, largest first; a PreFilter rejection first. */
export function groupedRows(a: LastAttempt, max = NAMES_PER_GROUP): string[][] {
  const rows: string[][] = [];
  if (a.preFilter) rows.push([String(a.nodes), a.preFilter.plugin, a.preFilter.reasons.join(', '), '(all nodes, before any was looked at)']);
  for (const g of [...a.rejected].sort(groupOrder)) rows.push([String(g.nodes.length), g.plugin, g.reasons.join(', '), someNames(g.nodes, max)]);
  return rows;
}

export function rejectedCount(a: LastAttempt): number {
  return a.rejected.reduce((n, g) => n + g.nodes.length, 0);
}

/** The FailedScheduling message without its trailing " preemption: …" part when that part is the attempt's `preemption` (printed on its own line). */
export function withoutPreemption(a: LastAttempt): string {
  const tail = a.preemption ? ` preemption: ${a.preemption}` : undefined;
  return tail && a.message.endsWith(tail) ? a.message.slice(0, -tail.length) : a.message;
}

const table = (rows: string[][]) => formatLines(rows, columnWidths(rows));

/** The one-line answers for a pod the scheduler is done with (bound, deleting, finished); undefined while it still needs a node. */
export function settledLine(pod: Pod): string | undefined {
  const ref = podRef(pod);
  if (pod.spec?.nodeName) return `pod ${ref} is bound to node ${pod.spec.nodeName}`;
  if (pod.metadata?.deletionTimestamp) return `pod ${ref} is being deleted; the scheduler no longer places it`;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return `pod ${ref} is ${phase}${pod.status?.reason ? ` (${pod.status.reason})` : ''} and will not be scheduled`;
  return undefined;
}

/** `coxctl why-pending`'s whole answer for `pod`. */
export function explainPending(pod: Pod, opts: ExplainOptions = {}): Explanation {
  const now = opts.now ?? Date.now();
  const ref = podRef(pod);
  const settled = settledLine(pod);
  if (settled) return { code: 0, stdout: settled + '\n', stderr: '' };

  const attempt = decodeLastAttempt(pod.metadata?.annotations ?? undefined);
  const gates = (pod.spec?.schedulingGates ?? []).map((g) => g.name);
  if (!attempt) {
    if (gates.length) {
      return { code: 0, stdout: `pod ${ref} is waiting for its scheduling gates to be removed (spec.schedulingGates: ${gates.join(', ')}); the scheduler does not try it until then\n`, stderr: '' };
    }
    const scheduler = pod.spec?.schedulerName ?? 'default-scheduler';
    const cond = podScheduledCondition(pod);
    const parts = [`no scheduling attempt is recorded for pod ${ref} (annotation ${ANN_LAST_ATTEMPT}), created ${age(pod.metadata?.creationTimestamp, now)} ago`];
    if (pod.metadata?.annotations?.[ANN_LAST_ATTEMPT]) parts.push('the annotation is there but not in a format this coxctl reads');
    else if (cond?.status === 'False' && cond.message) parts.push(`the scheduler did not record per-node reasons; its PodScheduled condition says: ${cond.message}`);
    else parts.push(`the scheduler "${scheduler}" has not tried to place it yet, or is not running`);
    return { code: 1, stdout: '', stderr: `error: ${parts.join('; ')}\n` };
  }

  const nominated = pod.status?.nominatedNodeName || attempt.nominatedNode;
  const head: string[][] = [
    ['Pod:', ref],
    ['Status:', `${pod.status?.phase ?? 'Pending'}, ${conditionText(pod, now)}`],
    ['Last Attempt:', attemptText(attempt, now)],
    ['FailedScheduling:', withoutPreemption(attempt)],
    ['Preemption:', attempt.preemption ?? '<none>'],
    ['Nominated Node:', nominated ? `${nominated} (the pod waits there for its preemption victims to go)` : '<none>'],
  ];
  if (gates.length) head.push(['Scheduling Gates:', gates.join(', ')]);
  let out = table(head) + '\n';

  const count = rejectedCount(attempt);
  if (!attempt.preFilter && count === 0) {
    out += attempt.nodes === 0 ? 'No nodes: the cluster has no node the scheduler could consider.\n' : 'No node was rejected individually.\n';
  } else if (opts.all || opts.wide || count <= PER_NODE_LIMIT) {
    out += table([['NODE', 'PLUGIN', 'REASON', ...(opts.wide ? ['STATUS'] : [])], ...perNodeRows(attempt, opts.wide)]);
  } else {
    out += table([['COUNT', 'PLUGIN', 'REASON', 'NODES'], ...groupedRows(attempt)]);
    out += `\n${count} nodes grouped by reason; --all (or -o wide) prints one line per node.\n`;
  }
  return { code: 0, stdout: out, stderr: '' };
}

/**
 * `coxctl describe pod`'s Scheduling section as key/value pairs and a grouped table, for a
 * pod still waiting for a node; undefined for a bound, finished or deleting pod.
 */
export function schedulingSection(pod: Pod, now = Date.now()): { fields: [string, string][]; rows?: string[][] } | undefined {
  if (settledLine(pod)) return undefined;
  const attempt = decodeLastAttempt(pod.metadata?.annotations ?? undefined);
  if (!attempt) return { fields: [['Last Attempt', 'none recorded (the scheduler has not tried this pod yet, or is not running)']] };
  const nominated = pod.status?.nominatedNodeName || attempt.nominatedNode;
  const fields: [string, string][] = [
    ['Last Attempt', attemptText(attempt, now)],
    ['Preemption', attempt.preemption ?? '<none>'],
  ];
  if (nominated) fields.push(['Nominated Node', nominated]);
  return { fields, rows: groupedRows(attempt) };
}
