import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { endpointsForPort, groupSlicesByService, usableBackends, type Backend } from './endpoints-from-slices';

export type { Backend } from './endpoints-from-slices';

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
  /** Why it exists: the Service's ClusterIP or one of the node's NodePort addresses. */
  kind: 'ClusterIP' | 'NodePort';
}

export interface DesiredState {
  listeners: Map<string, ListenerSpec>;
  /** Backends new connections go to, per Service port (only ports that have a listener): `usableBackends` of its slices. */
  backends: Map<ServicePortKey, Backend[]>;
  /** ClusterIPs that must be bound on the loopback interface. */
  clusterIPs: Set<string>;
}

export interface DesiredOptions {
  /** Addresses NodePort listeners bind to; default ["0.0.0.0"]. Empty disables NodePorts. */
  nodePortAddresses?: string[];
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

  const state: DesiredState = { listeners: new Map(), backends: new Map(), clusterIPs: new Set() };
  const add = (spec: Omit<ListenerSpec, 'key'>) => {
    const key = listenerKey(spec.protocol, spec.address, spec.port);
    if (!state.listeners.has(key)) state.listeners.set(key, { key, ...spec });
  };
  for (const svc of sorted) {
    if (!hasClusterIP(svc)) continue;
    const ns = svc.metadata?.namespace ?? 'default';
    const name = svc.metadata?.name ?? '';
    const ip = svc.spec!.clusterIP!;
    const svcSlices = slicesByService.get(`${ns}/${name}`);
    const withNodePorts = svc.spec?.type === 'NodePort' || svc.spec?.type === 'LoadBalancer';
    for (const p of svc.spec?.ports ?? []) {
      if (!Number.isInteger(p.port) || p.port <= 0 || p.port > 65535) continue;
      const protocol = protocolOf(p);
      const target = servicePortKey(ns, name, p.name);
      state.clusterIPs.add(ip);
      add({ protocol, address: ip, port: p.port, target, kind: 'ClusterIP' });
      if (withNodePorts && p.nodePort && p.nodePort > 0 && p.nodePort <= 65535) {
        for (const a of nodePortAddresses) add({ protocol, address: a, port: p.nodePort, target, kind: 'NodePort' });
      }
      state.backends.set(target, usableBackends(endpointsForPort(p, svcSlices)));
    }
  }
  return state;
}
