/**
 * The cluster DNS Service every cluster has: created by the apiserver at
 * start, answered by the proxy on each node, named in pods' resolv.conf by the
 * kubelet. Its ClusterIP is the 10th address of the service CIDR
 * (`clusterDnsAddress` in lib/ipv4).
 */
export const KUBE_DNS_NAMESPACE = 'kube-system';
export const KUBE_DNS_NAME = 'kube-dns';
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** A cluster domain as a DNS name: lower case, no leading or trailing dot; throws on an invalid one. */
export function normalizeClusterDomain(s: string): string {
  const d = s.trim().toLowerCase().replace(/^\.+|\.+$/g, '');
  if (!d || d.length > 253 || !d.split('.').every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l))) {
    throw new Error(`--cluster-domain: ${JSON.stringify(s)} is not a DNS domain such as cluster.local`);
  }
  return d;
}
