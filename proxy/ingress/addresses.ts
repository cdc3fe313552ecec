import os from 'node:os';
import { ADDRESS_LABEL_SUFFIX } from '../addresses';

const WILDCARDS = new Set(['0.0.0.0', '::']);

/**
 * The addresses the Ingress listens on. A wildcard in the configured list
 * (0.0.0.0, the NodePort default) stands for every IPv4 address of this node,
 * loopback included, but not the ones the proxy put on `lo` itself (ClusterIPs,
 * load-balancer and external IPs, labelled `lo:coxswain`): on Linux a socket
 * listening on 0.0.0.0:80 keeps any other socket from binding <ClusterIP>:80,
 * so the Ingress on the wildcard would take port 80 away from every Service.
 * `interfaces` is os.networkInterfaces()' shape (a labelled address shows under
 * its label).
 */
export function ingressAddresses(configured: readonly string[], interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): string[] {
  const out = new Set<string>();
  for (const a of configured) {
    if (!WILDCARDS.has(a)) {
      out.add(a);
      continue;
    }
    for (const [name, list] of Object.entries(interfaces)) {
      if (name.endsWith(ADDRESS_LABEL_SUFFIX)) continue;
      for (const info of list ?? []) if (info.family === 'IPv4') out.add(info.address);
    }
  }
  return [...out].sort();
}

/** ingressAddresses on this host's interfaces now. */
export const hostIngressAddresses = (configured: readonly string[]): string[] => ingressAddresses(configured, os.networkInterfaces());
