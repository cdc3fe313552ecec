/** One replica of a local store cluster: its name and loopback ports. */
export interface StoreMemberPorts {
  name: string;
  clientPort: number;
  peerPort: number;
  /** Plain-HTTP /metrics and /health on loopback (etcd's --listen-metrics-urls); absent: none. */
  metricsPort?: number;
}

/** `name=http://127.0.0.1:peer,...` (or https://): the --initial-cluster of every member. */
export function initialCluster(members: readonly StoreMemberPorts[], scheme: 'http' | 'https' = 'http'): string {
  return members.map((m) => `${m.name}=${scheme}://127.0.0.1:${m.peerPort}`).join(',');
}

/**
 * The `coxswain store` flags of member `m` of a new loopback cluster of
 * `members` (etcd's flag names); https needs the TLS flags besides. Pure: `coxswain up` and the test harnesses
 * build the same cluster from it.
 */
export function storeMemberFlags(m: StoreMemberPorts, members: readonly StoreMemberPorts[], dataDir: string, scheme: 'http' | 'https' = 'http'): string[] {
  return [
    '--name', m.name,
    '--data-dir', dataDir,
    '--listen-client-urls', `${scheme}://127.0.0.1:${m.clientPort}`,
    '--advertise-client-urls', `${scheme}://127.0.0.1:${m.clientPort}`,
    '--listen-peer-urls', `${scheme}://127.0.0.1:${m.peerPort}`,
    '--initial-advertise-peer-urls', `${scheme}://127.0.0.1:${m.peerPort}`,
    '--initial-cluster', initialCluster(members, scheme),
    '--initial-cluster-state', 'new',
    ...(m.metricsPort ? ['--listen-metrics-urls', `http://127.0.0.1:${m.metricsPort}`] : []),
  ];
}
