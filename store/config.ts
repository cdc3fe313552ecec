import { clusterIdHex, memberIdHex } from './server/ids';
import type { MemberInfo } from './server/member-info';

/**
 * Store configuration: the etcd-like flags, parsed into one object. Pure and
 * unit-tested; main.ts only reads argv and calls `resolveConfig`.
 */
export interface StoreFlags {
  name: string;
  dataDir?: string;
  listenClientUrls: string;
  advertiseClientUrls?: string;
  listenPeerUrls: string;
  initialAdvertisePeerUrls?: string;
  initialCluster?: string;
  initialClusterState: string;
  initialClusterToken: string;
  heartbeatInterval: string;
  electionTimeout: string;
  listenMetricsUrls?: string;
  watchProgressNotifyInterval: string;
  snapshotCount?: string;
}

export interface StoreConfig {
  name: string;
  dataDir: string;
  clientListen: string[]; // host:port
  peerListen: string; // host:port
  metricsListen?: string; // host:port
  self: MemberInfo;
  members: MemberInfo[];
  clusterIdHex: string;
  clusterToken: string;
  tickMs: number;
  electionTick: number;
  heartbeatTick: number;
  progressNotifyIntervalMs: number;
  /** 'existing': join a running cluster (the member was added with MemberAdd first). */
  initialClusterState: 'new' | 'existing';
  /** Applied entries between snapshots (etcd --snapshot-count). */
  snapshotCount: number;
}

const list = (s: string | undefined): string[] => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

/** "http://host:port" (or "host:port") -> "host:port". https/unix are not supported yet. */
export function hostPort(url: string): string {
  const m = /^(?:(https?|unix|unixs):\/\/)?([^/]+?)\/?$/.exec(url);
  if (!m) throw new Error(`store: cannot parse URL "${url}"`);
  if (m[1] && m[1] !== 'http') throw new Error(`store: URL scheme ${m[1]} is not supported yet ("${url}"); use http://`);
  if (!/:\d+$/.test(m[2])) throw new Error(`store: URL "${url}" needs a port`);
  return m[2];
}

function ms(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`store: ${flag} must be a positive integer number of milliseconds, got "${v}"`);
  return n;
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`store: ${flag} must be a positive integer, got "${v}"`);
  return n;
}

export function resolveConfig(f: StoreFlags): StoreConfig {
  if (!/^[A-Za-z0-9._-]+$/.test(f.name)) throw new Error(`store: --name "${f.name}" must be [A-Za-z0-9._-]+`);
  if (f.initialClusterState !== 'new' && f.initialClusterState !== 'existing') {
    throw new Error(`store: --initial-cluster-state must be "new" or "existing", got "${f.initialClusterState}"`);
  }
  const clientUrls = list(f.listenClientUrls);
  const advertiseClient = list(f.advertiseClientUrls ?? f.listenClientUrls);
  const peerUrls = list(f.listenPeerUrls);
  if (peerUrls.length !== 1) throw new Error('store: exactly one --listen-peer-urls is supported');
  const advertisePeer = list(f.initialAdvertisePeerUrls ?? f.listenPeerUrls);
  const initialCluster = f.initialCluster ?? `${f.name}=${advertisePeer.join(',')}`;

  const byName = new Map<string, string[]>();
  for (const part of list(initialCluster)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`store: bad --initial-cluster entry "${part}" (want name=url)`);
    const name = part.slice(0, eq);
    const url = part.slice(eq + 1);
    hostPort(url);
    byName.set(name, [...(byName.get(name) ?? []), url]);
  }
  if (!byName.has(f.name)) throw new Error(`store: --initial-cluster has no entry for this member "${f.name}"`);
  const selfPeers = byName.get(f.name)!;
  if ([...selfPeers].sort().join(',') !== [...advertisePeer].sort().join(',')) {
    throw new Error(`store: --initial-cluster lists ${f.name}=${selfPeers.join(',')} but --initial-advertise-peer-urls is ${advertisePeer.join(',')}`);
  }
  const members: MemberInfo[] = [...byName.entries()].map(([name, urls]) => ({
    idHex: memberIdHex(name, urls, f.initialClusterToken),
    name,
    peerURLs: urls,
    clientURLs: [],
  }));
  const ids = new Set(members.map((m) => m.idHex));
  if (ids.size !== members.length) throw new Error('store: duplicate members in --initial-cluster');
  const self = { ...members.find((m) => m.name === f.name)!, clientURLs: advertiseClient };

  const tickMs = ms('--heartbeat-interval', f.heartbeatInterval);
  const election = ms('--election-timeout', f.electionTimeout);
  if (election < 5 * tickMs) throw new Error('store: --election-timeout should be at least 5x --heartbeat-interval');
  return {
    name: f.name,
    dataDir: f.dataDir ?? `${f.name}.etcd`,
    clientListen: clientUrls.map(hostPort),
    peerListen: hostPort(peerUrls[0]),
    metricsListen: f.listenMetricsUrls ? hostPort(list(f.listenMetricsUrls)[0]) : undefined,
    self,
    members,
    clusterIdHex: clusterIdHex([...ids], f.initialClusterToken),
    clusterToken: f.initialClusterToken,
    tickMs,
    electionTick: Math.round(election / tickMs),
    heartbeatTick: 1,
    progressNotifyIntervalMs: ms('--watch-progress-notify-interval', f.watchProgressNotifyInterval),
    initialClusterState: f.initialClusterState,
    snapshotCount: positiveInt('--snapshot-count', f.snapshotCount ?? '10000'),
  };
}
