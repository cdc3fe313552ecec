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
  // TLS, etcd's names: the client side ...
  certFile?: string;
  keyFile?: string;
  trustedCaFile?: string;
  clientCertAuth?: boolean;
  // ... and the peer side.
  peerCertFile?: string;
  peerKeyFile?: string;
  peerTrustedCaFile?: string;
  peerClientCertAuth?: boolean;
}

/** Certificate files of one side (client or peer), as given by the flags. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** CA that verifies the other side's certificates. */
  trustedCaFile?: string;
  /** Require a certificate signed by trustedCaFile from whoever connects. */
  clientCertAuth: boolean;
}

/** One client listener: host:port, and whether it serves TLS (an https:// URL). */
export interface ClientListen {
  addr: string;
  tls: boolean;
}

export interface StoreConfig {
  name: string;
  dataDir: string;
  clientListen: ClientListen[];
  peerListen: string; // host:port
  /** Set when some --listen-client-urls is https://. */
  clientTls?: TlsFiles;
  /** Set when --listen-peer-urls is https://: peers are served and dialled with TLS. */
  peerTls?: TlsFiles & { trustedCaFile: string };
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

/** "http://host:port", "https://host:port" (or "host:port") -> "host:port". unix sockets are not supported. */
export function hostPort(url: string): string {
  const m = /^(?:(https?|unix|unixs):\/\/)?([^/]+?)\/?$/.exec(url);
  if (!m) throw new Error(`store: cannot parse URL "${url}"`);
  if (m[1] && m[1] !== 'http' && m[1] !== 'https') throw new Error(`store: URL scheme ${m[1]} is not supported ("${url}"); use http:// or https://`);
  if (!/:\d+$/.test(m[2])) throw new Error(`store: URL "${url}" needs a port`);
  return m[2];
}

/** Whether `url` asks for TLS (https://). */
export function isHttps(url: string): boolean {
  return /^https:\/\//.test(url);
}

/**
 * The TLS files of one side, checked: https needs a certificate and key, and
 * client certificate auth needs the CA that signs them. `names` are the flags, for the errors.
 */
function tlsFiles(
  https: boolean,
  urlFlag: string,
  f: { cert?: string; key?: string; ca?: string; auth?: boolean },
  names: { cert: string; key: string; ca: string; auth: string },
): TlsFiles | undefined {
  if (!https) return undefined;
  if (!f.cert || !f.key) throw new Error(`store: ${urlFlag} has an https:// URL, which needs ${names.cert} and ${names.key}`);
  if (f.auth && !f.ca) throw new Error(`store: ${names.auth} needs ${names.ca} (the CA that signs the certificates to accept)`);
  return { certFile: f.cert, keyFile: f.key, trustedCaFile: f.ca, clientCertAuth: f.auth === true };
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

  // Peers are all plain or all TLS: this member dials every peer the way it serves its own peer port.
  const peerHttps = isHttps(peerUrls[0]);
  for (const [name, urls] of byName) {
    for (const u of urls) {
      if (isHttps(u) !== peerHttps) throw new Error(`store: --initial-cluster lists ${name}=${u}, but --listen-peer-urls is ${peerUrls[0]}; peer URLs must all be http:// or all https://`);
    }
  }
  for (const u of advertisePeer) {
    if (isHttps(u) !== peerHttps) throw new Error(`store: --initial-advertise-peer-urls ${u} and --listen-peer-urls ${peerUrls[0]} must use the same scheme`);
  }
  const clientTls = tlsFiles(clientUrls.some(isHttps), '--listen-client-urls', { cert: f.certFile, key: f.keyFile, ca: f.trustedCaFile, auth: f.clientCertAuth }, {
    cert: '--cert-file', key: '--key-file', ca: '--trusted-ca-file', auth: '--client-cert-auth',
  });
  const peerTls = tlsFiles(peerHttps, '--listen-peer-urls', { cert: f.peerCertFile, key: f.peerKeyFile, ca: f.peerTrustedCaFile, auth: f.peerClientCertAuth }, {
    cert: '--peer-cert-file', key: '--peer-key-file', ca: '--peer-trusted-ca-file', auth: '--peer-client-cert-auth',
  });
  // A member also dials its peers, and our certificates never come from a public CA.
  if (peerTls && !peerTls.trustedCaFile) throw new Error('store: --listen-peer-urls has an https:// URL, which needs --peer-trusted-ca-file (the CA that signs the peers\' certificates)');

  const tickMs = ms('--heartbeat-interval', f.heartbeatInterval);
  const election = ms('--election-timeout', f.electionTimeout);
  if (election < 5 * tickMs) throw new Error('store: --election-timeout should be at least 5x --heartbeat-interval');
  return {
    name: f.name,
    dataDir: f.dataDir ?? `${f.name}.etcd`,
    clientListen: clientUrls.map((u) => ({ addr: hostPort(u), tls: isHttps(u) })),
    peerListen: hostPort(peerUrls[0]),
    clientTls,
    peerTls: peerTls ? { ...peerTls, trustedCaFile: peerTls.trustedCaFile! } : undefined,
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
