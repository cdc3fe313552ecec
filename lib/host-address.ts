import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * The interface of the default route in the text of /proc/net/route (the
 * lowest-metric entry with destination and mask 0), or undefined when there is
 * no default route. Pure.
 */
export function defaultRouteInterface(procNetRoute: string): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of procNetRoute.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, , flags, , , metric, mask] = f;
    const up = (parseInt(flags, 16) & 1) === 1;
    if (!up || dest !== '00000000' || mask !== '00000000') continue;
    const m = Number(metric);
    if (!best || m < best.metric) best = { iface, metric: m };
  }
  return best?.iface;
}

/**
 * The address other hosts reach this one at: the first IPv4 address of the
 * default route's interface (as k3s picks its node IP). Throws, saying what to
 * pass instead, when there is no default route or the interface has no IPv4.
 */
export function defaultRouteAddress(
  routes: () => string = () => readFileSync('/proc/net/route', 'utf8'),
  ifaces: () => NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces,
): string {
  const iface = defaultRouteInterface(routes());
  if (!iface) throw new Error('this host has no default route, so its address cannot be guessed: pass --node-ip');
  const addr = ifaces()[iface]?.find((a) => a.family === 'IPv4' && !a.internal);
  if (!addr) throw new Error(`the default route's interface ${iface} has no IPv4 address: pass --node-ip`);
  return addr.address;
}
