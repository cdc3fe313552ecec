import { isIP } from 'node:net';
import type { EndpointAddress, Endpoints, Service } from 'kubernetes-types/core/v1';
import type { Endpoint, EndpointPort } from 'kubernetes-types/discovery/v1';
import { groupKey, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, slicePrefix, type PortGroup, type SliceOwner } from '../endpointslice/sync';

/**
 * Kubernetes' EndpointSlice mirroring: the Endpoints of a Service without a
 * selector (written by a user) become EndpointSlices, so everything that reads
 * slices (the proxy) sees them. Pure; the slices are planned by the same
 * `planSlices` as the Service controller's.
 */

export const MIRRORING_CONTROLLER_NAME = 'endpointslicemirroring-controller.k8s.io';
export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';
/** Addresses mirrored per Endpoints at most (upstream's default); also the size of a mirrored slice. */
export const MAX_MIRRORED_ENDPOINTS = 1000;

/** Mirror only Endpoints of an existing Service without a selector, not marked skip-mirror, not a leader-election lock. */
export function shouldMirror(eps: Endpoints | undefined, svc: Service | undefined): eps is Endpoints {
  if (!eps || !svc) return false;
  if (svc.spec?.selector && Object.keys(svc.spec.selector).length > 0) return false;
  if (eps.metadata?.labels?.[SKIP_MIRROR_LABEL] === 'true') return false;
  return !eps.metadata?.annotations?.[LEADER_ANNOTATION];
}

/** What mirrored slices carry: the Endpoints' labels, the service name, managed-by mirroring, owned by the Endpoints. */
export function mirrorOwner(eps: Endpoints): SliceOwner {
  const name = eps.metadata?.name ?? '';
  return {
    namespace: eps.metadata?.namespace,
    generateName: slicePrefix(name),
    labels: { ...(eps.metadata?.labels ?? {}), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MIRRORING_CONTROLLER_NAME },
    owner: { apiVersion: 'v1', kind: 'Endpoints', name, uid: eps.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true },
    placeholder: false,
  };
}

function toEndpoint(a: EndpointAddress, ready: boolean): Endpoint {
  const e: Endpoint = { addresses: [a.ip], conditions: { ready } };
  if (a.hostname) e.hostname = a.hostname;
  if (a.nodeName) e.nodeName = a.nodeName;
  if (a.targetRef) e.targetRef = a.targetRef;
  return e;
}

/**
 * The Endpoints' subsets as port groups: addresses ready, notReadyAddresses
 * not, by address type; invalid IPs and repeats skipped; at most
 * MAX_MIRRORED_ENDPOINTS in all.
 */
export function mirrorGroups(eps: Endpoints): Map<string, PortGroup> {
  const groups = new Map<string, PortGroup>();
  const seen = new Set<string>();
  let count = 0;
  for (const subset of Array.isArray(eps.subsets) ? eps.subsets : []) {
    const ports: EndpointPort[] = (Array.isArray(subset?.ports) ? subset.ports : [])
      .filter((p) => p && Number.isInteger(p.port))
      .map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) }));
    const add = (list: unknown, ready: boolean) => {
      for (const a of Array.isArray(list) ? (list as EndpointAddress[]) : []) {
        const family = typeof a?.ip === 'string' ? isIP(a.ip) : 0;
        if (family === 0 || count >= MAX_MIRRORED_ENDPOINTS) continue;
        const addressType = family === 4 ? 'IPv4' : 'IPv6';
        const k = groupKey(addressType, ports);
        if (seen.has(`${k}|${a.ip}`)) continue;
        seen.add(`${k}|${a.ip}`);
        let g = groups.get(k);
        if (!g) groups.set(k, (g = { addressType, ports, endpoints: [] }));
        g.endpoints.push(toEndpoint(a, ready));
        count++;
      }
    };
    add(subset?.addresses, true);
    add(subset?.notReadyAddresses, false);
  }
  return groups;
}
