import { isIP } from 'node:net';
import type { Service } from 'kubernetes-types/core/v1';

/**
 * The external addresses a Service answers on at this node (pure): its
 * load-balancer ingress and its `externalIPs`, each with whether the proxy
 * must add it to `lo` first (as it does ClusterIPs).
 *
 * - An address this node already has (one of `localAddresses`) is listened
 *   on as it is.
 * - A load-balancer ingress with ipMode "Proxy" is a node's own address
 *   (ServiceLB without a pool): only that node listens; the others skip it.
 * - Any other load-balancer ingress (ipMode "VIP" or unset: a pool address)
 *   and any other externalIP is bound on `lo` of every node, as IPVS
 *   kube-proxy binds them on its dummy device: traffic that reaches a node
 *   for that address, or starts on it, is then answered there.
 */
export interface ExternalAddress {
  address: string;
  kind: 'LoadBalancer' | 'ExternalIP';
  /** True when the address must be added to `lo` before listening. */
  bind: boolean;
}

export function externalAddresses(svc: Service, localAddresses: ReadonlySet<string>): ExternalAddress[] {
  const out: ExternalAddress[] = [];
  const seen = new Set<string>();
  const push = (address: string, kind: ExternalAddress['kind'], bind: boolean) => {
    if (seen.has(address)) return;
    seen.add(address);
    out.push({ address, kind, bind });
  };
  if (svc.spec?.type === 'LoadBalancer') {
    for (const ing of Array.isArray(svc.status?.loadBalancer?.ingress) ? svc.status!.loadBalancer!.ingress! : []) {
      const ip = ing?.ip;
      if (typeof ip !== 'string' || isIP(ip) === 0) continue;
      if (localAddresses.has(ip)) push(ip, 'LoadBalancer', false);
      else if (ing.ipMode !== 'Proxy') push(ip, 'LoadBalancer', true);
    }
  }
  for (const ip of Array.isArray(svc.spec?.externalIPs) ? svc.spec!.externalIPs! : []) {
    if (typeof ip !== 'string' || isIP(ip) === 0) continue;
    push(ip, 'ExternalIP', !localAddresses.has(ip));
  }
  return out;
}

/** `externalTrafficPolicy: Local` (NodePort, LoadBalancer and externalIP traffic stays on this node's endpoints). */
export function externalPolicyLocal(svc: Service): boolean {
  const t = svc.spec?.type;
  const external = t === 'NodePort' || t === 'LoadBalancer' || (svc.spec?.externalIPs?.length ?? 0) > 0;
  return external && svc.spec?.externalTrafficPolicy === 'Local';
}

/** `internalTrafficPolicy: Local` (ClusterIP traffic stays on this node's endpoints). */
export function internalPolicyLocal(svc: Service): boolean {
  return svc.spec?.internalTrafficPolicy === 'Local';
}

/** The suffix of a ServicePortKey whose backends are only this node's endpoints. */
export const LOCAL_TARGET_SUFFIX = '@local';

export function localTarget(target: string): string {
  return target + LOCAL_TARGET_SUFFIX;
}

/** The Service port a target names, without its scope. */
export function baseTarget(target: string): string {
  return target.endsWith(LOCAL_TARGET_SUFFIX) ? target.slice(0, -LOCAL_TARGET_SUFFIX.length) : target;
}
