/**
 * What the scheduler records about a pod's last failed scheduling attempt, and what
 * `coxctl why-pending` and `coxctl describe pod` read back: the annotation
 * `scheduler.coxswain.io/last-attempt` on the pod, holding JSON. Nodes are grouped by the
 * plugin and reasons that rejected them, so 1,000 nodes stay a few kilobytes.
 */

export const ANN_LAST_ATTEMPT = 'scheduler.coxswain.io/last-attempt';

/** A filter's verdict code, as kube-scheduler's framework statuses. */
export type RejectionCode = 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error';

/** Nodes rejected by one plugin for the same reasons. */
export interface RejectionGroup {
  plugin: string;
  code: RejectionCode;
  reasons: string[];
  nodes: string[];
}

export interface LastAttempt {
  /** RFC 3339 time of the attempt. */
  time: string;
  /** Nodes considered. */
  nodes: number;
  /** The FailedScheduling message, kube-scheduler's wording. */
  message: string;
  /** A PreFilter that rejected the pod before any node was looked at. */
  preFilter?: { plugin: string; reasons: string[] };
  rejected: RejectionGroup[];
  /** What preemption did or why it could not help (the part after "preemption:"), when it ran. */
  preemption?: string;
  /** The node preemption nominated, if any. */
  nominatedNode?: string;
}

/** Groups per-node verdicts (node → plugin, code, reasons) into RejectionGroups, largest first, then by plugin. */
export function groupRejections(perNode: Iterable<[string, { plugin?: string; code: RejectionCode; reasons: string[] }]>): RejectionGroup[] {
  const groups = new Map<string, RejectionGroup>();
  for (const [node, s] of perNode) {
    const plugin = s.plugin ?? '';
    const k = JSON.stringify([plugin, s.code, s.reasons]);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { plugin, code: s.code, reasons: s.reasons, nodes: [] }));
    g.nodes.push(node);
  }
  const out = [...groups.values()];
  for (const g of out) g.nodes.sort();
  return out.sort((a, b) => b.nodes.length - a.nodes.length || (a.plugin < b.plugin ? -1 : a.plugin > b.plugin ? 1 : 0));
}

export function encodeLastAttempt(a: LastAttempt): string {
  return JSON.stringify(a);
}

/** The pod's LastAttempt, or undefined when the annotation is absent or not this format. */
export function decodeLastAttempt(annotations: Record<string, string> | undefined): LastAttempt | undefined {
  const raw = annotations?.[ANN_LAST_ATTEMPT];
  if (!raw) return undefined;
  try {
    const a = JSON.parse(raw) as LastAttempt;
    if (typeof a !== 'object' || a === null || typeof a.message !== 'string' || !Array.isArray(a.rejected)) return undefined;
    return a;
  } catch {
    return undefined;
  }
}
