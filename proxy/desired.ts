import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { endpointsForPort, groupSlicesByService, usableBackends, type Backend } from './endpoints-from-slices';
import { externalAddresses, externalPolicyLocal, internalPolicyLocal, localTarget } from './external';

/**
 * The proxy's pure core: from the Services and EndpointSlices it has seen, what
 * should be listening on this node and where each listener's traffic goes.
 * No sockets, no clock: `proxier.ts` reconciles the real listeners to this.
 */

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** `namespace/name:port-name` — one Service port, the unit of balancing (kube-proxy's ServicePortName). */
export type ServicePortKey = string;

export function servicePortKey(namespace: string, name: string, portName: string | undefined): ServicePortKey {
  return `${namespace}/${name}:${portName ?? ''}`;
}

/** One socket the proxy should own: protocol, local address and port, and the Service port it serves. */
export interface ListenerSpec {
  /** `TCP/10.96.0.10:53`: identity of the listener; equal keys are the same socket. */
  key: string;
  protocol: Protocol;
  address: string;
  port: number;
  target: ServicePortKey;
  /** Why it exists: the Service's ClusterIP, one of the node's NodePort addresses, a load-balancer ingress or an externalIP (external.ts). */
  kind: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalIP';
}

export type { Backend } from './endpoints-from-slices';

export interface DesiredState {
  listeners: Map<string, ListenerSpec>;
  /** Ready backends per Service port (only ports that have a listener). */
  backends: Map<ServicePortKey, Backend[]>;
  /** Addresses that must be bound on the loopback interface: ClusterIPs, and external addresses this node does not have (external.ts). */
  clusterIPs: Set<string>;
  /** `sessionAffinity: ClientIP` timeout in seconds, per Service port that has it. */
  affinity: Map<ServicePortKey, number>;
  /** healthCheckNodePort → the LoadBalancer Service (externalTrafficPolicy Local) and its ready endpoints on this node. */
  healthChecks: Map<number, HealthCheckTarget>;
}

export interface HealthCheckTarget {
  namespace: string;
  name: string;
  localEndpoints: number;
}

export interface DesiredOptions {
  /** Addresses NodePort listeners bind to; default ["0.0.0.0"]. Empty disables NodePorts. */
  nodePortAddresses?: string[];
  /** This node's name: endpoints with this nodeName are local (traffic policies). */
  nodeName?: string;
  /** Addresses this node has (not counting ones the proxy added): external addresses among them are not bound on lo. */
  localAddresses?: ReadonlySet<string>;
  /** Services (`namespace/name`) the proxy answers itself (cluster DNS): their ClusterIP is bound, no listener is opened. */
  localServices?: Set<string>;
}

export function listenerKey(protocol: Protocol, address: string, port: number): string {
  return address.includes(':') ? `${protocol}/[${address}]:${port}` : `${protocol}/${address}:${port}`;
}

function protocolOf(p: { protocol?: string }): Protocol {
  const v = (p.protocol ?? 'TCP').toUpperCase();
  return v === 'UDP' || v === 'SCTP' ? v : 'TCP';
}

/** True for a Service the proxy implements with a virtual IP (not headless, not ExternalName). */
export function hasClusterIP(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return svc.spec?.type !== 'ExternalName' && typeof ip === 'string' && ip !== '' && ip !== 'None';
}

/** Kubernetes' default `sessionAffinityConfig.clientIP.timeoutSeconds` (3 hours; the API allows up to 1 day). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10_800;

/** The ClientIP affinity timeout of a Service (seconds), or undefined without affinity; bad timeouts get the default. */
export function clientIPAffinitySeconds(svc: Service): number | undefined {
  if (svc.spec?.sessionAffinity !== 'ClientIP') return undefined;
  const t = svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  return Number.isInteger(t) && t! > 0 && t! <= 86_400 ? t : DEFAULT_AFFINITY_TIMEOUT_SECONDS;
}

function keyOf(o: { metadata?: { namespace?: string; name?: string } }): string {
  return `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name ?? ''}`;
}

/**
 * Computes the listeners, backends and ClusterIPs this node should have.
 * Services are taken in a stable order (namespace/name), so when two Services
 * claim the same address and port the older-sorting one wins deterministically.
 */
export function computeDesired(services: Iterable<Service>, slices: Iterable<EndpointSlice>, opts: DesiredOptions = {}): DesiredState {
  const nodePortAddresses = opts.nodePortAddresses ?? ['0.0.0.0'];
  const slicesByService = groupSlicesByService(slices);
  const sorted = [...services].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));

  const localAddresses = opts.localAddresses ?? new Set<string>();
  const state: DesiredState = { listeners: new Map(), backends: new Map(), clusterIPs: new Set(), healthChecks: new Map(), affinity: new Map() };
  const add = (spec: Omit<ListenerSpec, 'key'>) => {
    const key = listenerKey(spec.protocol, spec.address, spec.port);
    if (!state.listeners.has(key)) state.listeners.set(key, { key, ...spec });
  };
  for (const svc of sorted) {
    if (!hasClusterIP(svc)) continue;
    const ns = svc.metadata?.namespace ?? 'default';
    const name = svc.metadata?.name ?? '';
    const ip = svc.spec!.clusterIP!;
    if (opts.localServices?.has(`${ns}/${name}`)) {
      state.clusterIPs.add(ip);
      continue;
    }
    const svcSlices = slicesByService.get(`${ns}/${name}`);
    const withNodePorts = svc.spec?.type === 'NodePort' || svc.spec?.type === 'LoadBalancer';
    const external = externalAddresses(svc, localAddresses);
    const extLocal = externalPolicyLocal(svc);
    const intLocal = internalPolicyLocal(svc);
    const localIPs = new Set<string>();
    for (const p of svc.spec?.ports ?? []) {
      if (!Number.isInteger(p.port) || p.port <= 0 || p.port > 65535) continue;
      const protocol = protocolOf(p);
      const target = servicePortKey(ns, name, p.name);
      // Traffic policy Local: those listeners balance over this node's endpoints only.
      const internalTarget = intLocal ? localTarget(target) : target;
      const externalTarget = extLocal ? localTarget(target) : target;
      state.clusterIPs.add(ip);
      add({ protocol, address: ip, port: p.port, target: internalTarget, kind: 'ClusterIP' });
      if (withNodePorts && p.nodePort && p.nodePort > 0 && p.nodePort <= 65535) {
        for (const a of nodePortAddresses) add({ protocol, address: a, port: p.nodePort, target: externalTarget, kind: 'NodePort' });
      }
      for (const e of external) {
        if (e.bind) state.clusterIPs.add(e.address);
        add({ protocol, address: e.address, port: p.port, target: externalTarget, kind: e.kind });
      }
      // Every endpoint of the port; new connections go to usableBackends (ready, else serving terminating).
      const all = endpointsForPort(p, svcSlices);
      state.backends.set(target, usableBackends(all));
      const affinity = clientIPAffinitySeconds(svc);
      if (affinity !== undefined) state.affinity.set(target, affinity);
      if (intLocal || extLocal) {
        const local = opts.nodeName ? usableBackends(all.filter((b) => b.nodeName === opts.nodeName)) : [];
        state.backends.set(localTarget(target), local);
        for (const b of local) localIPs.add(b.ip);
      }
    }
    const hc = svc.spec?.healthCheckNodePort;
    if (svc.spec?.type === 'LoadBalancer' && extLocal && Number.isInteger(hc) && hc! > 0 && hc! <= 65535 && !state.healthChecks.has(hc!)) {
      state.healthChecks.set(hc!, { namespace: ns, name, localEndpoints: localIPs.size });
    }
  }
  return state;
}
