/**
 * Service ClusterIP and NodePort allocation (pure parts).
 *
 * Design: every allocated value is a *reservation key* in the store —
 * `/registry/ranges/serviceips/<ip>` and `/registry/ranges/servicenodeports/<port>`, value
 * "<namespace>/<name>" — written in the same Txn as the Service with the compare
 * `create_revision == 0` on each new key, and deleted in the same Txn that deletes the Service
 * (or drops the port on update). So two apiservers racing on the same value cannot both win:
 * the loser's Txn fails, and it retries with another random free value (or answers 422 when
 * the user asked for that value). No in-memory state, no lock.
 */

export const SERVICE_IP_PREFIX = '/registry/ranges/serviceips/';
export const NODE_PORT_PREFIX = '/registry/ranges/servicenodeports/';

export interface Cidr { base: number; bits: number; size: number }

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`invalid IPv4 address ${ip}`);
  return parts.reduce((acc, p) => {
    const n = Number(p);
    if (!/^\d+$/.test(p) || n > 255) throw new Error(`invalid IPv4 address ${ip}`);
    return acc * 256 + n;
  }, 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function parseCidr(s: string): Cidr {
  const [ip, b] = s.split('/');
  const bits = Number(b);
  if (!Number.isInteger(bits) || bits < 0 || bits > 30) throw new Error(`invalid CIDR ${s}`);
  const size = 2 ** (32 - bits);
  const base = Math.floor(ipToInt(ip) / size) * size;
  return { base, bits, size };
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
