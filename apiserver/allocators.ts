/**
 * Pure range arithmetic for allocation: CIDRs and port ranges as the apiserver's flags give
 * them, and picking a free value. Which values a Service holds, and how they are reserved in
 * the store, is the Service kind's strategy (groups/core/service.ts).
 */
import { formatIPv4, parseCidr as parseIPv4Cidr, parseIPv4 } from '../lib/ipv4';

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

