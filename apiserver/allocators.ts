/**
 * Service ClusterIP and NodePort allocation.
 *
 * Design: every allocated value is a *reservation key* in the store —
 * `/registry/ranges/serviceips/<ip>` and `/registry/ranges/servicenodeports/<port>`, value
 * "<namespace>/<name>" — written in the same Txn as the Service with the compare
 * `create_revision == 0` on each new key, and deleted in the same Txn that deletes the Service
 * (or drops the port on update). So two apiservers racing on the same value cannot both win:
 * the loser's Txn fails, and it retries with another random free value (or answers 422 when
 * the user asked for that value). No in-memory state, no lock.
 */

import { formatIPv4, parseCidr as parseIPv4Cidr, parseIPv4 } from '../lib/ipv4';
import { errors } from './errors';

export const SERVICE_IP_PREFIX = '/registry/ranges/serviceips/';
export const NODE_PORT_PREFIX = '/registry/ranges/servicenodeports/';

export interface Cidr { base: number; bits: number; size: number }

export function ipToInt(ip: string): number {
  const n = parseIPv4(ip);
  if (n === undefined) throw new Error(`invalid IPv4 address ${ip}`);
  return n;
}

export const intToIp = formatIPv4;

export function parseCidr(s: string): Cidr {
  const c = parseIPv4Cidr(s);
  if (!c || c.prefix > 30) throw new Error(`invalid CIDR ${s}`);
  return { base: c.base, bits: c.prefix, size: 2 ** (32 - c.prefix) };
}

export function cidrContains(c: Cidr, ip: string): boolean {
  let n: number;
  try { n = ipToInt(ip); } catch { return false; }
  return n > c.base && n < c.base + c.size - 1; // excludes network and broadcast addresses
}

export function parsePortRange(s: string): [number, number] {
  const m = s.match(/^(\d+)-(\d+)$/);
  if (!m || Number(m[1]) > Number(m[2])) throw new Error(`invalid port range ${s}`);
  return [Number(m[1]), Number(m[2])];
}

/** The first address after the network address: reserved for the `kubernetes` Service. */
export function firstServiceIP(c: Cidr): string {
  return intToIp(c.base + 1);
}

/**
 * Pick a free value in [lo, hi] not in `used`: random probes first (cheap for large, sparse
 * ranges), then a scan from a random offset. `random` returns [0,1) (injectable for tests).
 */
export function pickFree(lo: number, hi: number, used: ReadonlySet<number>, random: () => number = Math.random): number | undefined {
  const n = hi - lo + 1;
  if (n <= 0) return undefined;
  for (let i = 0; i < 32; i++) {
    const v = lo + Math.floor(random() * n);
    if (!used.has(v)) return v;
  }
  const start = Math.floor(random() * n);
  for (let i = 0; i < n; i++) {
    const v = lo + ((start + i) % n);
    if (!used.has(v)) return v;
  }
  return undefined;
}

export function pickServiceIP(c: Cidr, usedIps: Iterable<string>, random?: () => number): string | undefined {
  const used = new Set<number>();
  for (const ip of usedIps) { try { used.add(ipToInt(ip)); } catch { /* ignore */ } }
  used.add(c.base + 1); // kubernetes Service
  const v = pickFree(c.base + 1, c.base + c.size - 2, used, random);
  return v === undefined ? undefined : intToIp(v);
}

/** Reservation keys implied by a Service object. */
export function serviceReservations(svc: any): string[] {
  const keys: string[] = [];
  const ip = svc?.spec?.clusterIP;
  if (ip && ip !== 'None') keys.push(SERVICE_IP_PREFIX + ip);
  for (const p of new Set<number>((svc?.spec?.ports ?? []).map((p: any) => p?.nodePort).filter((n: any) => Number.isInteger(n) && n > 0))) {
    keys.push(NODE_PORT_PREFIX + p);
  }
  return keys;
}

/** The address ranges a Service allocates from, and the NodePorts already reserved in the store. */
export interface ServiceRanges {
serviceCidr: Cidr;
nodePortRange: [number, number];
usedNodePorts(): Promise<Set<number>>;
}

/**
 * Fills in a Service's ClusterIP and NodePorts (keeping `old`'s); returns the reservation keys
 * the user asked for explicitly (a taken one is then a 422, not a retry).
 */
export async function allocateService(svc: any, old: any | undefined, r: ServiceRanges): Promise<Set<string>> {
  const specified = new Set<string>();
  const spec = svc.spec;
  const oldKeys = new Set(old ? serviceReservations(old) : []);
  const invalid = (field: string, value: unknown, msg: string) =>
    errors.invalid('Service', '', svc.metadata.name, [{ field, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${msg}` }]);
  if (spec.type === 'ExternalName') {
    delete spec.clusterIP;
    delete spec.clusterIPs;
  } else {
    if (old?.spec?.clusterIP && (spec.clusterIP === undefined || spec.clusterIP === '')) spec.clusterIP = old.spec.clusterIP;
    if (old?.spec?.clusterIP && old.spec.type !== 'ExternalName' && spec.clusterIP !== old.spec.clusterIP) throw invalid('spec.clusterIPs[0]', spec.clusterIP, 'may not change once set');
    if (!spec.clusterIP) {
      spec.clusterIP = pickServiceIP(r.serviceCidr, []);
      if (!spec.clusterIP) throw errors.internal('no free ClusterIP');
    } else if (spec.clusterIP !== 'None') {
      if (!cidrContains(r.serviceCidr, spec.clusterIP)) throw invalid('spec.clusterIPs', [spec.clusterIP], `failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range`);
      if (!oldKeys.has(SERVICE_IP_PREFIX + spec.clusterIP)) specified.add(SERVICE_IP_PREFIX + spec.clusterIP);
    }
    spec.clusterIPs = [spec.clusterIP];
  }
  const ports: any[] = Array.isArray(spec.ports) ? spec.ports : [];
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    let used: Set<number> | undefined;
    for (const p of ports) {
      if (!p.nodePort) {
        const prev = (old?.spec?.ports ?? []).find((q: any) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP') && q.nodePort);
        if (prev) { p.nodePort = prev.nodePort; continue; }
        if (!used) {
          used = await r.usedNodePorts();
          for (const q of ports) if (q.nodePort) used.add(q.nodePort);
        }
        const [lo, hi] = r.nodePortRange;
        const v = pickFree(lo, hi, used);
        if (v === undefined) throw errors.internal('no free NodePort');
        used.add(v);
        p.nodePort = v;
      } else if (!oldKeys.has(NODE_PORT_PREFIX + p.nodePort)) specified.add(NODE_PORT_PREFIX + p.nodePort);
    }
  } else {
    for (const p of ports) delete p.nodePort;
  }
  return specified;
}
