/**
 * Pure range arithmetic for allocation: CIDRs and port ranges as the apiserver's flags give
 * them, and picking a free value. Which values a Service holds, and how they are reserved in
 * the store, is the Service kind's strategy (groups/core/service.ts).
 */
import { type Cidr, formatIPv4, parseCidr, parseIPv4 } from '../lib/ipv4';

/** The number of addresses in a CIDR. */
function sizeOf(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

/** `--service-cluster-ip-range`: an IPv4 CIDR with room for at least two Services (/30 or wider); throws otherwise. */
export function parseServiceCidr(s: string): Cidr {
  const c = parseCidr(s);
  if (!c || c.prefix > 30) throw new Error(`invalid CIDR ${s}`);
  return c;
}

/** Whether a ClusterIP is in the range: inside it, and neither its network nor its broadcast address. */
export function inServiceRange(c: Cidr, ip: string): boolean {
  const n = parseIPv4(ip);
  return n !== undefined && n > c.base && n < c.base + sizeOf(c) - 1;
}

export function parsePortRange(s: string): [number, number] {
  const m = s.match(/^(\d+)-(\d+)$/);
  if (!m || Number(m[1]) > Number(m[2])) throw new Error(`invalid port range ${s}`);
  return [Number(m[1]), Number(m[2])];
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
  for (const ip of usedIps) {
    const n = parseIPv4(ip);
    if (n !== undefined) used.add(n);
  }
  used.add(c.base + 1); // the kubernetes Service (lib/ipv4 firstAddress)
  const v = pickFree(c.base + 1, c.base + sizeOf(c) - 2, used, random);
  return v === undefined ? undefined : formatIPv4(v);
}

