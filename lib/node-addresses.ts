import type { Node } from 'kubernetes-types/core/v1';

/** True when the node's Ready condition is True. */
export function nodeReady(node: Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * The InternalIP addresses of the Ready nodes, de-duplicated and sorted (as
 * strings, so the result is stable and an unchanged set writes nothing).
 * What a Service of type LoadBalancer or an Ingress publishes as its address
 * when the nodes themselves serve it.
 */
export function readyNodeAddresses(nodes: Iterable<Node>): string[] {
  const out = new Set<string>();
  for (const n of nodes) {
    if (!nodeReady(n) || n.metadata?.deletionTimestamp) continue;
    for (const a of n.status?.addresses ?? []) if (a.type === 'InternalIP' && a.address) out.add(a.address);
  }
  return [...out].sort();
}
