import { isIP } from 'node:net';
import type { Answer, SoaAnswer } from 'dns-packet';
import type { Endpoints, Service } from 'kubernetes-types/core/v1';
import { readyEndpoints } from './endpoints';

/**
 * The cluster zone as a snapshot, pure: from the Services and Endpoints the
 * proxy's informers hold, every record Kubernetes' DNS specification (schema
 * 1.1.0) asks for, keyed by owner name. Built once per change burst and then
 * only read by `resolve.ts`; no sockets, no clock.
 */

/** The DNS schema version this zone implements (`dns-version.<domain>` TXT). */
export const DNS_SCHEMA_VERSION = '1.1.0';
export const DEFAULT_TTL = 30;

export interface Zone {
  domain: string;
  ttl: number;
  /** Owner name (lower case, no trailing dot) → its records. */
  records: Map<string, Answer[]>;
  /** Every owner name and its ancestors inside the domain: a name here without records of a type is NODATA, not NXDOMAIN. */
  names: Set<string>;
  /** Reverse name (`d.c.b.a.in-addr.arpa`) → PTR records of ClusterIPs and headless endpoints. */
  ptr: Map<string, Answer[]>;
  /** The zone's SOA, also put in the authority section of NXDOMAIN and NODATA answers. */
  soa: SoaAnswer;
}

export interface ZoneInput {
  domain: string;
  services: Iterable<Service>;
  /** The Endpoints of a Service, by namespace and name. */
  endpoints: (namespace: string, name: string) => Endpoints | undefined;
  /** The cluster DNS address, for `ns.dns.<domain>` (the zone's name server). */
  dnsIP?: string;
  ttl?: number;
  /** SOA serial; changes when the zone does (any increasing number, e.g. a build counter). */
  serial?: number;
}

/** `10.96.0.10` → `10.0.96.10.in-addr.arpa`; IPv6 in nibbles under ip6.arpa; undefined for a non-IP. */
export function reverseName(ip: string): string | undefined {
  const v = isIP(ip);
  if (v === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (v !== 6) return undefined;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${groups.map((g) => g.padStart(4, '0')).join('').split('').reverse().join('.')}.ip6.arpa`;
}

/** A label for an endpoint without a hostname: its IP with dashes (`10-244-0-5`), as CoreDNS does. */
export function endpointLabel(ip: string): string {
  return ip.replace(/[.:]/g, '-');
}

/** Whether a Service has a virtual IP (ClusterIP, NodePort, LoadBalancer with a clusterIP). */
function clusterIPsOf(svc: Service): string[] {
  const ips = Array.isArray(svc.spec?.clusterIPs) && svc.spec.clusterIPs.length ? svc.spec.clusterIPs : [svc.spec?.clusterIP];
  return ips.filter((ip): ip is string => typeof ip === 'string' && isIP(ip) !== 0);
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function buildZone(input: ZoneInput): Zone {
  const domain = input.domain;
  const ttl = input.ttl ?? DEFAULT_TTL;
  const records = new Map<string, Answer[]>();
  const ptr = new Map<string, Answer[]>();
  const names = new Set<string>([domain]);
  // a name and its ancestors down to the apex exist
  const exists = (name: string) => {
    for (let n = name; n.length > domain.length; n = n.slice(n.indexOf('.') + 1)) names.add(n);
  };
  const add = (r: Answer) => {
    const list = records.get(r.name);
    if (list) list.push(r);
    else records.set(r.name, [r]);
    exists(r.name);
  };
  const addPtr = (ip: string, target: string) => {
    const name = reverseName(ip);
    if (!name) return;
    const r: Answer = { name, type: 'PTR', ttl, class: 'IN', data: target };
    const list = ptr.get(name);
    if (!list) ptr.set(name, [r]);
    else if (!list.some((x) => 'data' in x && x.data === target)) list.push(r);
  };
  const address = (name: string, ip: string): Answer => ({ name, type: isIP(ip) === 6 ? 'AAAA' : 'A', ttl, class: 'IN', data: ip });

  const soa: SoaAnswer = {
    name: domain, type: 'SOA', ttl, class: 'IN',
    data: { mname: `ns.dns.${domain}`, rname: `hostmaster.${domain}`, serial: input.serial ?? 1, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl },
  };
  add(soa);
  add({ name: domain, type: 'NS', ttl, class: 'IN', data: `ns.dns.${domain}` });
  if (input.dnsIP && isIP(input.dnsIP)) add(address(`ns.dns.${domain}`, input.dnsIP));
  add({ name: `dns-version.${domain}`, type: 'TXT', ttl, class: 'IN', data: DNS_SCHEMA_VERSION });

  for (const svc of input.services) {
    const ns = svc.metadata?.namespace?.toLowerCase() ?? 'default';
    const name = svc.metadata?.name?.toLowerCase() ?? '';
    if (!LABEL.test(ns) || !LABEL.test(name)) continue;
    const base = `${name}.${ns}.svc.${domain}`;
    if (svc.spec?.type === 'ExternalName') {
      const target = String(svc.spec.externalName ?? '').toLowerCase().replace(/\.$/, '');
      if (target) add({ name: base, type: 'CNAME', ttl, class: 'IN', data: target });
      continue;
    }
    const vips = clusterIPsOf(svc);
    if (vips.length > 0) {
      for (const ip of vips) {
        add(address(base, ip));
        addPtr(ip, base);
      }
      const named = (svc.spec?.ports ?? []).filter((p) => p?.name && Number.isInteger(p.port));
      for (const p of named) {
        add({ name: `_${p.name!.toLowerCase()}._${(p.protocol ?? 'TCP').toLowerCase()}.${base}`, type: 'SRV', ttl, class: 'IN', data: { priority: 0, weight: 100, port: p.port, target: base } });
      }
      continue;
    }
    // Headless: the Service's name exists even with no ready endpoints (NODATA, not NXDOMAIN).
    exists(base);
    const eps = readyEndpoints(input.endpoints(ns, name), svc.spec?.publishNotReadyAddresses === true);
    const seenIP = new Set<string>();
    const srv = new Map<string, Answer[]>();
    for (const ep of eps) {
      const host = `${ep.hostname ?? endpointLabel(ep.ip)}.${base}`;
      if (!seenIP.has(ep.ip)) add(address(base, ep.ip));
      if (!(records.get(host) ?? []).some((r) => 'data' in r && r.data === ep.ip)) add(address(host, ep.ip));
      seenIP.add(ep.ip);
      addPtr(ep.ip, host);
      for (const p of ep.ports) {
        if (!p.name || !LABEL.test(p.name)) continue;
        const owner = `_${p.name}._${p.protocol}.${base}`;
        const list = srv.get(owner) ?? [];
        if (!list.some((r) => r.type === 'SRV' && r.data.target === host && r.data.port === p.port)) list.push({ name: owner, type: 'SRV', ttl, class: 'IN', data: { priority: 0, weight: 0, port: p.port, target: host } });
        srv.set(owner, list);
      }
    }
    // CoreDNS's rule: the weights of one name's SRV records share 100.
    for (const list of srv.values()) {
      const w = Math.floor(100 / list.length);
      for (const r of list) {
        if (r.type === 'SRV') r.data.weight = w;
        add(r);
      }
    }
  }
  return { domain, ttl, records, names, ptr, soa };
}
