/** IPv4 CIDR arithmetic for the node IPAM controller (the parsing lives in lib/ipv4.ts). */
import { formatCidr, parseCidr, type Cidr } from '../../lib/ipv4';

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
