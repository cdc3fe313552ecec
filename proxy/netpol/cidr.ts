import { maskOf, type Cidr } from '../../lib/ipv4';

/**
 * `cidr` minus every `except` block, as a list of disjoint CIDRs (an ipBlock's
 * `except` turned into blocks iptables can match one rule each). Excepts
 * outside `cidr` change nothing; an except that covers it leaves nothing.
 */
export function subtractCidrs(cidr: Cidr, excepts: readonly Cidr[]): Cidr[] {
  let blocks: Cidr[] = [cidr];
  for (const e of excepts) {
    const next: Cidr[] = [];
    for (const b of blocks) next.push(...subtractOne(b, e));
    blocks = next;
  }
  return blocks.sort((a, b) => a.base - b.base || a.prefix - b.prefix);
}

function contains(outer: Cidr, inner: Cidr): boolean {
  return outer.prefix <= inner.prefix && ((inner.base & maskOf(outer.prefix)) >>> 0) === outer.base;
}

/** `b` minus `e`: `b` itself when they do not overlap, nothing when `e` covers `b`, else `b` split down to `e`'s prefix with `e`'s block left out. */
function subtractOne(b: Cidr, e: Cidr): Cidr[] {
  if (contains(e, b)) return [];
  if (!contains(b, e)) return [b];
  const out: Cidr[] = [];
  // Walk from b towards e, halving: at each step keep the half that does not hold e.
  for (let p = b.prefix + 1; p <= e.prefix; p++) {
    const half = 2 ** (32 - p);
    const eHalf = (e.base & maskOf(p)) >>> 0;
    // The sibling of e's half at this prefix.
    out.push({ base: (eHalf ^ half) >>> 0, prefix: p });
  }
  return out;
}
