import type { Ingress, IngressLoadBalancerIngress } from 'kubernetes-types/networking/v1';

/**
 * The load balancer status of a Coxswain Ingress, pure: every Ready node's
 * proxy serves it, so its addresses are the Ready nodes' InternalIPs (from
 * lib/node-addresses), in that order. `undefined` when the status already says so.
 */
export function desiredIngressStatus(ing: Ingress, nodeAddresses: string[]): IngressLoadBalancerIngress[] | undefined {
  const want = nodeAddresses.map((ip) => ({ ip }));
  const have = ing.status?.loadBalancer?.ingress ?? [];
  const same = have.length === want.length && have.every((h, i) => h.ip === want[i]!.ip && !h.hostname && !h.ports?.length);
  return same ? undefined : want;
}
