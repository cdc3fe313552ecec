import type { Pod } from 'kubernetes-types/core/v1';

/**
 * The files the kubelet writes for a pod on the pod network, pure: /etc/hosts and
 * /etc/resolv.conf (bind-mounted into each container unless it mounts its own), and
 * the pod's hostname they name.
 */

/** The pod's hostname: spec.hostname or its name, cut to 63 characters without a trailing '-' or '.' (as Kubernetes). */
export function podHostname(pod: Pod): string {
  return (pod.spec?.hostname ?? pod.metadata?.name ?? '').slice(0, 63).replace(/[-.]+$/, '');
}

/**
 * The /etc/hosts of a pod on the pod network, as Kubernetes' kubelet writes it:
 * localhost, the pod's own IP and hostname (fully qualified when it has a
 * subdomain), then its hostAliases.
 */
export function hostsFileContent(pod: Pod, podIP: string, clusterDomain = 'cluster.local'): string {
  const hostname = podHostname(pod);
  const names = pod.spec?.subdomain ? [`${hostname}.${pod.spec.subdomain}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}`, hostname] : [hostname];
  const lines = [
    '# Kubernetes-managed hosts file (Coxswain kubelet).',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    `${podIP}\t${names.join('\t')}`,
  ];
  const aliases = (pod.spec?.hostAliases ?? []).filter((a) => a.ip && (a.hostnames ?? []).length > 0);
  if (aliases.length > 0) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases) lines.push(`${a.ip}\t${a.hostnames!.join('\t')}`);
  }
  return lines.join('\n') + '\n';
}

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

/** The nameserver, search/domain and options lines of a resolv.conf. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.searches = rest.filter(Boolean);
    else if (key === 'options') out.options.push(...rest.filter(Boolean));
  }
  return out;
}

/** The cluster DNS the kubelet was given (`--cluster-dns`, `--cluster-domain`). */
export interface ClusterDnsConfig {
  servers: string[];
  domain: string;
}

/**
 * Which resolver configuration a pod gets, as Kubernetes' kubelet decides it:
 * `None` only its dnsConfig; `ClusterFirst` (the default) the cluster DNS,
 * except host-network pods, which get the node's (`Default`) unless they ask
 * for `ClusterFirstWithHostNet`. `missing` is set when the pod wanted cluster
 * DNS but the kubelet has none configured: it falls back to the node's, with a
 * warning event.
 */
export function podDnsType(pod: Pod, cluster: ClusterDnsConfig | undefined): { type: 'None' | 'Cluster' | 'Host'; missing: boolean } {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'None') return { type: 'None', missing: false };
  const wantsCluster = policy === 'ClusterFirstWithHostNet' || (policy !== 'Default' && !pod.spec?.hostNetwork);
  if (!wantsCluster) return { type: 'Host', missing: false };
  if (!cluster?.servers.length) return { type: 'Host', missing: true };
  return { type: 'Cluster', missing: false };
}

/** The message of the MissingClusterDNS event (Kubernetes' words). */
export const MISSING_CLUSTER_DNS = 'kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.';

/** Kubernetes' limits on a pod's resolv.conf. */
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;
const MAX_SEARCH_CHARS = 2048;

/**
 * The pod's /etc/resolv.conf. Cluster: `nameserver <cluster DNS>`, `search
 * <ns>.svc.<domain> svc.<domain> <domain>` then the node's search domains,
 * `options ndots:5`. Host: the node's resolver, without its loopback
 * nameservers for pods on the pod network (they have their own loopback).
 * None: empty. Then dnsConfig: nameservers and searches appended (no
 * duplicates), options merged by name (dnsConfig's win). Trimmed to 3
 * nameservers and 32 search domains of at most 2048 characters in all.
 */
export function resolvConfContent(pod: Pod, node: ResolvConf, cluster?: ClusterDnsConfig): string {
  const { type } = podDnsType(pod, cluster);
  const cfg = pod.spec?.dnsConfig ?? {};
  const dedupe = (xs: string[]) => [...new Set(xs)];
  let nameservers: string[] = [];
  let searches: string[] = [];
  let baseOptions: string[] = [];
  if (type === 'Cluster') {
    const d = cluster!.domain;
    nameservers = cluster!.servers;
    searches = [`${pod.metadata?.namespace ?? 'default'}.svc.${d}`, `svc.${d}`, d, ...node.searches];
    baseOptions = ['ndots:5'];
  } else if (type === 'Host') {
    nameservers = pod.spec?.hostNetwork ? node.nameservers : node.nameservers.filter((n) => !/^127\.|^::1$/.test(n));
    searches = node.searches;
    baseOptions = node.options;
  }
  nameservers = dedupe([...nameservers, ...(cfg.nameservers ?? [])]).slice(0, MAX_NAMESERVERS);
  searches = dedupe([...searches, ...(cfg.searches ?? [])].map((x) => x.replace(/\.$/, '')).filter(Boolean)).slice(0, MAX_SEARCHES);
  while (searches.join(' ').length > MAX_SEARCH_CHARS) searches.pop();
  const options = new Map<string, string>();
  for (const o of baseOptions) options.set(o.split(':')[0]!, o);
  for (const o of cfg.options ?? []) if (o.name) options.set(o.name, o.value !== undefined ? `${o.name}:${o.value}` : o.name);
  const lines = nameservers.map((n) => `nameserver ${n}`);
  if (searches.length) lines.push(`search ${searches.join(' ')}`);
  if (options.size) lines.push(`options ${[...options.values()].join(' ')}`);
  return lines.join('\n') + '\n';
}
