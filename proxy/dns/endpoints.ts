import { isIP } from 'node:net';
import type { Endpoints } from 'kubernetes-types/core/v1';

/**
 * What cluster DNS needs from a Service's endpoints, and the one place that
 * reads them: today from Endpoints; switching to EndpointSlices means another
 * reader with the same output.
 */
export interface DnsEndpointPort {
  name: string;
  protocol: string;
  port: number;
}

export interface DnsEndpoint {
  ip: string;
  /** The endpoint's `hostname` (a StatefulSet pod's, set by the endpoints controller). */
  hostname?: string;
  ports: DnsEndpointPort[];
}

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The ready endpoints of one Service: `addresses`, plus `notReadyAddresses`
 * when the Service has `publishNotReadyAddresses` (user-written Endpoints may
 * put them there). Malformed entries (bad IP, a hostname that is no DNS label,
 * bad port) are skipped, never thrown: Endpoints may be written by hand.
 */
export function readyEndpoints(eps: Endpoints | undefined, publishNotReadyAddresses: boolean): DnsEndpoint[] {
  const out: DnsEndpoint[] = [];
  for (const subset of Array.isArray(eps?.subsets) ? eps.subsets : []) {
    const ports: DnsEndpointPort[] = [];
    for (const p of Array.isArray(subset?.ports) ? subset.ports : []) {
      if (!p || !Number.isInteger(p.port) || p.port <= 0 || p.port > 65535) continue;
      ports.push({ name: typeof p.name === 'string' ? p.name.toLowerCase() : '', protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port });
    }
    const addrs = [...(Array.isArray(subset?.addresses) ? subset.addresses : []), ...(publishNotReadyAddresses && Array.isArray(subset?.notReadyAddresses) ? subset.notReadyAddresses : [])];
    for (const a of addrs) {
      if (typeof a?.ip !== 'string' || isIP(a.ip) === 0) continue;
      const hostname = typeof a.hostname === 'string' && HOSTNAME.test(a.hostname.toLowerCase()) ? a.hostname.toLowerCase() : undefined;
      out.push({ ip: a.ip, hostname, ports });
    }
  }
  return out;
}
