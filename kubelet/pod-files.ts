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

/**
 * The /etc/resolv.conf of a pod on the pod network. Coxswain has no cluster DNS
 * yet, so every dnsPolicy but None resolves as `Default` (the node's resolver,
 * as Kubernetes' kubelet does when no cluster DNS is configured); dnsConfig's
 * nameservers, searches and options are added (None: only those). Loopback
 * nameservers of the node are dropped: the pod has its own loopback.
 */
export function resolvConfContent(pod: Pod, node: ResolvConf): string {
  const none = pod.spec?.dnsPolicy === 'None';
  const cfg = pod.spec?.dnsConfig ?? {};
  const dedupe = (xs: string[]) => [...new Set(xs)];
  const nameservers = dedupe([...(none ? [] : node.nameservers.filter((n) => !/^127\.|^::1$/.test(n))), ...(cfg.nameservers ?? [])]).slice(0, 3);
  const searches = dedupe([...(none ? [] : node.searches), ...(cfg.searches ?? [])]).slice(0, 32);
  // dnsConfig options override the node's of the same name.
  const options = new Map<string, string>();
  for (const o of none ? [] : node.options) options.set(o.split(':')[0], o);
  for (const o of cfg.options ?? []) if (o.name) options.set(o.name, o.value !== undefined ? `${o.name}:${o.value}` : o.name);
  const lines = nameservers.map((n) => `nameserver ${n}`);
  if (searches.length) lines.push(`search ${searches.join(' ')}`);
  if (options.size) lines.push(`options ${[...options.values()].join(' ')}`);
  return lines.join('\n') + '\n';
}
