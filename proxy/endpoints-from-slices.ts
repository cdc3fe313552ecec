import { isIP } from 'node:net';
import type { Endpoints, Service, ServicePort } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';

/**
 * Backends of a Service port from its EndpointSlices, as kube-proxy reads
 * them: slices are grouped by their `kubernetes.io/service-name` label, all
 * slices of a Service are merged, an endpoint listed twice (while it moves
 * between slices) counts once, and traffic goes to ready endpoints or, when a
 * port has none, to serving terminating ones, so connections still find a
 * pod while a rollout replaces the last of them. Pure; no sockets.
 */

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** One endpoint address and port of a Service port, with its conditions (nil conditions read as the API says). */
export interface Backend {
  ip: string;
  port: number;
  /** The node the endpoint's pod runs on, when the slice says (for traffic policies). */
  nodeName?: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/** `namespace/name` of the Service a slice belongs to, or undefined for a slice without the label. */
export function sliceServiceKey(slice: EndpointSlice): string | undefined {
  const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  return svc ? `${slice.metadata?.namespace ?? 'default'}/${svc}` : undefined;
}

/** Slices grouped by the Service they belong to (`namespace/name`). */
export function groupSlicesByService(slices: Iterable<EndpointSlice>): Map<string, EndpointSlice[]> {
  const out = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const k = sliceServiceKey(s);
    if (!k) continue;
    const list = out.get(k);
    if (list) list.push(s);
    else out.set(k, [s]);
  }
  return out;
}

const protocolOf = (p: { protocol?: string } | undefined) => (p?.protocol ?? 'TCP').toUpperCase();

/**
 * Every endpoint of one Service port across `slices`, with its conditions,
 * de-duplicated by ip:port (a copy that is ready wins over one that is not),
 * sorted by ip and port. Slices may be written by users: malformed entries
 * are skipped, never thrown.
 */
export function endpointsForPort(svcPort: ServicePort, slices: readonly EndpointSlice[] | undefined): Backend[] {
  const wanted = svcPort.name ?? '';
  const proto = protocolOf(svcPort);
  const byAddr = new Map<string, Backend>();
  for (const slice of slices ?? []) {
    if (slice?.addressType !== 'IPv4' && slice?.addressType !== 'IPv6') continue;
    const ports = Array.isArray(slice.ports) ? slice.ports : [];
    const port = ports.find((p) => p && (p.name ?? '') === wanted && protocolOf(p) === proto)?.port;
    if (!Number.isInteger(port) || port! <= 0 || port! > 65535) continue;
    for (const e of Array.isArray(slice.endpoints) ? slice.endpoints : []) {
      const ip = Array.isArray(e?.addresses) ? e.addresses[0] : undefined;
      if (typeof ip !== 'string' || isIP(ip) === 0) continue;
      const ready = e.conditions?.ready ?? true;
      const b: Backend = { ip, port: port!, ready, serving: e.conditions?.serving ?? ready, terminating: e.conditions?.terminating ?? false };
      if (typeof e.nodeName === 'string' && e.nodeName) b.nodeName = e.nodeName;
      const k = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
      const had = byAddr.get(k);
      if (!had || (b.ready && !had.ready) || (b.serving && !had.serving && b.ready === had.ready)) byAddr.set(k, b);
    }
  }
  return [...byAddr.values()].sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
}

/**
 * Where new connections go (kube-proxy's choice): the ready endpoints; if
 * there are none, the ones that are serving and terminating.
 */
export function usableBackends(all: readonly Backend[]): Backend[] {
  const ready = all.filter((b) => b.ready);
  return ready.length ? ready : all.filter((b) => b.serving && b.terminating);
}

/**
 * The lookup for features that route to a Service port by number or name
 * (Ingress backends, `service.port.number` / `service.port.name`): the usable
 * backends of that port, [] when the Service or port does not exist.
 */
export function serviceBackends(svc: Service | undefined, slices: readonly EndpointSlice[] | undefined, port: { number?: number; name?: string }): Backend[] {
  const sp = (svc?.spec?.ports ?? []).find((p) => (port.name !== undefined ? (p.name ?? '') === port.name : p.port === port.number));
  return sp ? usableBackends(endpointsForPort(sp, slices)) : [];
}

/**
 * An Endpoints object as the one slice of its Service that mirrors it
 * (addresses ready, notReadyAddresses not): a shorthand for tests and callers
 * that still hold Endpoints. The proxy itself watches slices only.
 */
export function sliceFromEndpoints(eps: Endpoints): EndpointSlice[] {
  const name = eps.metadata?.name ?? '';
  const namespace = eps.metadata?.namespace ?? 'default';
  return (Array.isArray(eps.subsets) ? eps.subsets : []).map((subset, i) => ({
    metadata: { name: `${name}-mirror-${i}`, namespace, labels: { [SERVICE_NAME_LABEL]: name } },
    addressType: 'IPv4',
    ports: (Array.isArray(subset?.ports) ? subset.ports : []).map((p) => ({ name: p?.name ?? '', port: p?.port, protocol: p?.protocol ?? 'TCP' })),
    endpoints: [
      ...(Array.isArray(subset?.addresses) ? subset.addresses : []).map((a) => ({ addresses: [a?.ip], nodeName: a?.nodeName, conditions: { ready: true } })),
      ...(Array.isArray(subset?.notReadyAddresses) ? subset.notReadyAddresses : []).map((a) => ({ addresses: [a?.ip], nodeName: a?.nodeName, conditions: { ready: false } })),
    ],
  }));
}
