import { formatIPv4, parseCidr, parseIPv4 } from '../../lib/ipv4';

/**
 * The address pool of `--lb-address-pool`: comma-separated IPv4 CIDRs
 * (`192.168.50.0/28`) and ranges (`192.168.50.10-192.168.50.20`). A CIDR of
 * /30 or wider leaves out its network and broadcast addresses; a range gives
 * every address from its first to its last.
 */
export interface AddressPool {
  /** The flag's text, for messages. */
  readonly text: string;
  /** Inclusive [first, last] as unsigned 32-bit integers, in the order given. */
  readonly ranges: readonly (readonly [number, number])[];
}

/** Parses the flag; throws an Error naming the flag and the bad part. */
export function parseAddressPool(text: string): AddressPool {
  const ranges: [number, number][] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    const bad = (why: string) => new Error(`--lb-address-pool: ${JSON.stringify(part)} ${why}`);
    if (part.includes('/')) {
      const c = parseCidr(part);
      if (!c) throw bad('is not an IPv4 CIDR');
      const last = (c.base + 2 ** (32 - c.prefix) - 1) >>> 0;
      ranges.push(c.prefix <= 30 ? [c.base + 1, last - 1] : [c.base, last]);
    } else if (part.includes('-')) {
      const [a, b, ...rest] = part.split('-').map((s) => s.trim());
      const first = parseIPv4(a ?? '');
      const last = parseIPv4(b ?? '');
      if (rest.length || first === undefined || last === undefined) throw bad('is not a range of two IPv4 addresses (first-last)');
      if (last < first) throw bad('ends before it starts');
      ranges.push([first, last]);
    } else {
      const ip = parseIPv4(part);
      if (ip === undefined) throw bad('is not an IPv4 address, CIDR or range');
      ranges.push([ip, ip]);
    }
  }
  if (!ranges.length) throw new Error('--lb-address-pool: no addresses given');
  return { text, ranges };
}

export function poolContains(pool: AddressPool, ip: string | undefined): boolean {
  const n = ip === undefined ? undefined : parseIPv4(ip);
  return n !== undefined && pool.ranges.some(([a, b]) => n >= a && n <= b);
}

/** The first address of the pool not in `taken`, in pool order; undefined when it is full. */
export function firstFree(pool: AddressPool, taken: ReadonlySet<string>): string | undefined {
  for (const [a, b] of pool.ranges) {
    for (let n = a; n <= b; n++) {
      const ip = formatIPv4(n);
      if (!taken.has(ip)) return ip;
    }
  }
  return undefined;
}
