import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service, ServicePort } from 'kubernetes-types/core/v1';
import { canonicalJson } from '../util/hash';
import { isPodReady } from '../util/pods';
import { matchesMap } from '../util/selectors';

/** Marks Endpoints this controller manages (so it never deletes user-managed ones). */
export const MANAGED_BY_LABEL = 'endpoints.coxswain.io/managed-by';
const MANAGED_BY_VALUE = 'endpoints-controller';

/** The port a Service port reaches on `pod`: a number, or a named container port; undefined when unresolved. */
export function resolveTargetPort(sp: ServicePort, pod: Pod): number | undefined {
  const tp = sp.targetPort ?? sp.port;
  if (typeof tp === 'number') return tp;
  if (/^\d+$/.test(tp)) return Number(tp);
  const proto = sp.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === tp && (p.protocol ?? 'TCP') === proto) return p.containerPort;
    }
  }
  return undefined;
}

/**
 * A pod's address in a Service's Endpoints. Its `hostname` (what cluster DNS
 * serves as `<hostname>.<service>.<ns>.svc.<domain>`) is set only when the pod
 * names that Service as its `subdomain`, as Kubernetes does: a StatefulSet's
 * pods under its governing headless Service, not under every Service that
 * selects them.
 */
function addressOf(pod: Pod, svc: Service): EndpointAddress {
  const a: EndpointAddress = {
    ip: pod.status!.podIP!,
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  };
  if (pod.spec?.nodeName) a.nodeName = pod.spec.nodeName;
  if (pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name) a.hostname = pod.spec.hostname;
  return a;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The subsets of a Service's Endpoints: pods matching the selector that have a
 * podIP and are not terminating or finished, ready ones in `addresses`, the
 * others in `notReadyAddresses` (all in `addresses` with
 * publishNotReadyAddresses). Pods that resolve the ports differently (named
 * targetPorts) land in different subsets. Output is sorted, so equal inputs
 * give equal JSON.
 */
export function computeSubsets(svc: Service, pods: Pod[]): EndpointSubset[] {
  const selector = svc.spec?.selector;
  const ports = svc.spec?.ports ?? [];
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const pod of pods) {
    if (pod.metadata?.namespace !== svc.metadata?.namespace) continue;
    if (!matchesMap(selector, pod.metadata?.labels)) continue;
    if (!pod.status?.podIP || pod.metadata?.deletionTimestamp) continue;
    if (pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') continue;
    const eps: EndpointPort[] = [];
    for (const sp of ports) {
      const port = resolveTargetPort(sp, pod);
      if (port === undefined) continue;
      const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      eps.push(ep);
    }
    if (ports.length > 0 && eps.length === 0) continue;
    eps.sort((a, b) => cmpStr(a.name ?? '', b.name ?? '') || a.port - b.port);
    const k = canonicalJson(eps);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { ports: eps, ready: [], notReady: [] }));
    (publishNotReady || isPodReady(pod) ? g.ready : g.notReady).push(addressOf(pod, svc));
  }
  const byIp = (a: EndpointAddress, b: EndpointAddress) => cmpStr(a.ip, b.ip) || cmpStr(a.targetRef?.name ?? '', b.targetRef?.name ?? '');
  const subsets: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const s: EndpointSubset = {};
    if (g.ready.length) s.addresses = g.ready.sort(byIp);
    if (g.notReady.length) s.notReadyAddresses = g.notReady.sort(byIp);
    if (g.ports.length) s.ports = g.ports;
    subsets.push(s);
  }
  return subsets.sort((a, b) => cmpStr(canonicalJson(a.ports ?? []), canonicalJson(b.ports ?? [])));
}

/** The Endpoints object the controller wants for `svc`. */
export function desiredEndpoints(svc: Service, pods: Pod[]): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: svc.metadata?.name,
      namespace: svc.metadata?.namespace,
      labels: { ...(svc.metadata?.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    },
    subsets: computeSubsets(svc, pods),
  };
}

/** Whether `current` already has the desired subsets and labels (no write needed). */
export function endpointsUpToDate(current: Endpoints, desired: Endpoints): boolean {
  return canonicalJson(current.subsets ?? []) === canonicalJson(desired.subsets ?? []) && canonicalJson(current.metadata?.labels ?? {}) === canonicalJson(desired.metadata?.labels ?? {});
}
