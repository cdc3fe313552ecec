/** IPv4 CIDR arithmetic for the node IPAM controller. */

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  prefix: number;
}

export function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses `a.b.c.d/p` and normalizes the address to the network address. */
export function parseCidr(s: string): Cidr | undefined {
  const [ip, p, ...rest] = s.trim().split('/');
  if (rest.length || p === undefined || !/^\d{1,2}$/.test(p)) return undefined;
  const prefix = Number(p);
  const addr = parseIPv4(ip);
  if (addr === undefined || prefix > 32) return undefined;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (addr & mask) >>> 0, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

/**
 * The lowest `/maskSize` subnet of `cluster` not in `used` (CIDR strings; ones
 * outside the cluster CIDR or of another size are ignored), or undefined when
 * the range is exhausted.
 */
export function allocateCidr(cluster: Cidr, maskSize: number, used: Iterable<string>): string | undefined {
  if (maskSize < cluster.prefix || maskSize > 32) throw new Error(`node CIDR mask size /${maskSize} does not fit in ${formatCidr(cluster)}`);
  const size = 2 ** (32 - maskSize);
  const count = 2 ** (maskSize - cluster.prefix);
  const taken = new Set<number>();
  for (const u of used) {
    const c = parseCidr(u);
    if (!c || c.prefix !== maskSize) continue;
    const idx = (c.base - cluster.base) / size;
    if (idx >= 0 && idx < count && Number.isInteger(idx)) taken.add(idx);
  }
  for (let i = 0; i < count; i++) if (!taken.has(i)) return formatCidr({ base: (cluster.base + i * size) >>> 0, prefix: maskSize });
  return undefined;
}
