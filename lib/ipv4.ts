/** IPv4 addresses and CIDRs as unsigned 32-bit integers: the one place the apiserver, the controllers and the kubelet do this arithmetic. */

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  prefix: number;
}

/** `a.b.c.d` as an unsigned 32-bit integer, or undefined when it is not one. */
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

/** The netmask of a prefix length. */
export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses `a.b.c.d/p` and normalizes the address to the network address; undefined when it is not an IPv4 CIDR. */
export function parseCidr(s: string): Cidr | undefined {
  const [ip, p, ...rest] = s.trim().split('/');
  if (rest.length || p === undefined || !/^\d{1,2}$/.test(p)) return undefined;
  const prefix = Number(p);
  const addr = parseIPv4(ip);
  if (addr === undefined || prefix > 32) return undefined;
  return { base: (addr & maskOf(prefix)) >>> 0, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

/** Whether `ip` is in `cidr` (network and broadcast addresses included). */
export function inCidr(ip: string, cidr: Cidr): boolean {
  const n = parseIPv4(ip);
  return n !== undefined && ((n & maskOf(cidr.prefix)) >>> 0) === cidr.base;
}

/** The first address after the network address (10.96.0.0/12 → 10.96.0.1): the `kubernetes` Service's ClusterIP. */
export function firstAddress(c: Cidr): string {
  return formatIPv4((c.base + 1) >>> 0);
}

/** The 10th address after the network address (10.96.0.0/12 → 10.96.0.10): the cluster DNS Service's ClusterIP, as kubeadm picks it. */
export function clusterDnsAddress(c: Cidr): string {
  if (c.prefix > 28) throw new Error(`service CIDR ${formatCidr(c)} is too small for the cluster DNS address (its 10th address); use a /28 or wider`);
  return formatIPv4((c.base + 10) >>> 0);
}
