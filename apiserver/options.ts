import * as os from 'node:os';
import { Command } from 'commander';
import { DEFAULT_TOLERATION_SECONDS } from './default-toleration-seconds';
import { parseDuration } from '../lib/duration';

/**
 * The apiserver's command line, parsed and checked into ApiServerOptions: defaults applied,
 * lists split, numbers converted, flags that go together checked together. Pure apart from
 * reading the host's addresses for the advertise-address default.
 */
export interface ApiServerOptions {
  bindAddress: string;
  securePort: number;
  /** the address published in the kubernetes Endpoints */
  advertiseAddress: string;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  clientCaFile: string;
  storeEndpoints: string[];
  /** TLS towards https:// store endpoints (kube-apiserver's --etcd-cafile, --etcd-certfile, --etcd-keyfile); files */
  storeTls: { caFile?: string; certFile?: string; keyFile?: string };
  /** as given; parsed by the Service IP allocator */
  serviceClusterIpRange: string;
  serviceNodePortRange: string;
  /** client certificate and key towards kubelets; both or neither */
  kubeletClient?: { certFile: string; keyFile: string };
  /** the CA published as kube-root-ca.crt (default: the client CA) */
  rootCaFile: string;
  /** the CA that signs kubelet serving certificates (default: the client CA) */
  kubeletCertificateAuthority: string;
  tokenAuthFile?: string;
  /** PEM files of keys that verify ServiceAccount tokens (empty: the signing key's public key) */
  serviceAccountKeyFiles: string[];
  serviceAccountSigningKeyFile?: string;
  serviceAccountIssuer: string;
  /** audiences a token must name (default: the issuer) */
  apiAudiences: string[];
  serviceAccountMaxTokenExpirationSeconds: number;
  authorizationMode: 'RBAC' | 'AlwaysAllow';
  auditLogPath?: string;
  minRequestTimeoutSeconds: number;
  /** the pki dir whose CA and ServiceAccount keys GET /coxswain/v1/server-bootstrap hands to joining servers */
  serverBootstrapFiles?: string;
  /** DefaultTolerationSeconds admission (default-toleration-seconds.ts). */
  defaultNotReadyTolerationSeconds: number;
  defaultUnreachableTolerationSeconds: number;
  /** How long an Event stays after its last write (kube-apiserver's --event-ttl, default 1 h); 0: forever. */
  eventTtlSeconds: number;
  /** How often the Metrics API's collector scrapes every kubelet's Stats (metrics-server's --metric-resolution, default 15 s). */
  metricResolutionMs: number;
}

/** commander's view of the flags, before checking. */
interface RawFlags {
  bindAddress: string; securePort: string; advertiseAddress?: string;
  tlsCertFile: string; tlsPrivateKeyFile: string; clientCaFile: string;
  storeEndpoints: string; storeCafile?: string; storeCertfile?: string; storeKeyfile?: string; serviceClusterIpRange: string; serviceNodePortRange: string;
  kubeletClientCertificate?: string; kubeletClientKey?: string; rootCaFile?: string; kubeletCertificateAuthority?: string;
  tokenAuthFile?: string; serviceAccountKeyFile?: string; serviceAccountSigningKeyFile?: string; serviceAccountIssuer: string;
  apiAudiences?: string; serviceAccountMaxTokenExpiration: string; authorizationMode: string; auditLogPath?: string; minRequestTimeout: string;
  serverBootstrapFiles?: string;
  defaultNotReadyTolerationSeconds: string; defaultUnreachableTolerationSeconds: string;
  eventTtl: string;
  metricResolution: string;
}

function command(): Command {
  return new Command('apiserver')
    .description('Coxswain API server: the Kubernetes API over HTTPS, backed by an etcd v3 store')
    .option('--bind-address <ip>', 'address to listen on', '127.0.0.1')
    .option('--secure-port <port>', 'HTTPS port', '6443')
    .option('--advertise-address <ip>', 'address published in the kubernetes Endpoints (default: bind address, or a host address when binding 0.0.0.0)')
    .requiredOption('--tls-cert-file <file>', 'serving certificate (PEM)')
    .requiredOption('--tls-private-key-file <file>', 'serving key (PEM)')
    .requiredOption('--client-ca-file <file>', 'CA that signs client certificates (PEM)')
    .option('--store-endpoints <urls>', 'comma-separated etcd v3 endpoints', 'http://127.0.0.1:2379')
    .option('--store-cafile <file>', 'CA that signs the store\'s serving certificates, for https:// store endpoints (PEM)')
    .option('--store-certfile <file>', 'client certificate towards the store (PEM; for a store run with --client-cert-auth)')
    .option('--store-keyfile <file>', 'key of --store-certfile (PEM)')
    .option('--service-cluster-ip-range <cidr>', 'Service ClusterIP range', '10.96.0.0/12')
    .option('--service-node-port-range <range>', 'NodePort range', '30000-32767')
    .option('--kubelet-client-certificate <file>', 'client certificate towards kubelets (PEM); without it pods/log, exec and portforward are unavailable')
    .option('--kubelet-client-key <file>', 'key of --kubelet-client-certificate (PEM)')
    .option('--root-ca-file <file>', 'CA published to every namespace as the kube-root-ca.crt ConfigMap (default: --client-ca-file)')
    .option('--kubelet-certificate-authority <file>', 'CA that signs kubelet serving certificates (PEM; default: --client-ca-file)')
    .option('--token-auth-file <file>', 'static bearer tokens: CSV lines token,user,uid,"group1,group2"')
    .option('--service-account-key-file <files>', 'comma-separated PEM public keys that verify ServiceAccount tokens (default: the signing key\'s public key)')
    .option('--service-account-signing-key-file <file>', 'PEM private key (EC P-256 or RSA) that signs ServiceAccount tokens')
    .option('--service-account-issuer <url>', 'issuer (iss) of ServiceAccount tokens', 'https://kubernetes.default.svc.cluster.local')
    .option('--api-audiences <list>', 'comma-separated audiences a token must name (default: the issuer)')
    .option('--service-account-max-token-expiration <seconds>', 'longest lifetime of a requested token', '86400')
    .option('--authorization-mode <mode>', 'RBAC (default) or AlwaysAllow', 'RBAC')
    .option('--audit-log-path <file>', 'append an audit.k8s.io/v1 Event per mutating or refused request to this file (JSON lines)')
    .option('--min-request-timeout <seconds>', 'default watch timeout (randomised up to 2x)', '1800')
    .option('--server-bootstrap-files <dir>', 'pki dir (ca.crt, ca.key, sa.key, sa.pub, and store-ca.crt/.key when present) handed to servers joining with a server token at /coxswain/v1/server-bootstrap (absent: that path answers 404)')
    .option('--default-not-ready-toleration-seconds <seconds>', 'tolerationSeconds of the not-ready:NoExecute toleration added to pods that have none (Kubernetes: 300)', String(DEFAULT_TOLERATION_SECONDS))
    .option('--default-unreachable-toleration-seconds <seconds>', 'tolerationSeconds of the unreachable:NoExecute toleration added to pods that have none (Kubernetes: 300)', String(DEFAULT_TOLERATION_SECONDS))
    .option('--event-ttl <duration>', 'how long an Event is kept after its last write, as a Go duration (30m, 1h, 90s); the store deletes it through a lease; 0 keeps Events forever', '1h')
    .option('--metric-resolution <duration>', 'how often the Metrics API (metrics.k8s.io) scrapes every kubelet\'s stats, as a Go duration (at least 1s); CPU usage is the rate between the last two scrapes', '15s')
    .exitOverride()
    .allowExcessArguments(false);
}

/** metrics-server's --metric-resolution: a Go duration of at least 1 s, in ms. */
export function metricResolutionMs(s: string): number {
  let ms: number;
  try { ms = parseDuration(s); } catch { throw new Error(`--metric-resolution: want a duration such as 15s or 1m, got ${JSON.stringify(s)}`); }
  if (!(ms >= 1000)) throw new Error(`--metric-resolution: want at least 1s, got ${JSON.stringify(s)}`);
  return ms;
}

/** kube-apiserver's --event-ttl: a Go duration, in whole seconds (at least 1 s unless 0). */
export function eventTtlSeconds(s: string): number {
  let ms: number;
  try { ms = parseDuration(s); } catch { throw new Error(`--event-ttl: want a duration such as 1h, 30m or 90s, got ${JSON.stringify(s)}`); }
  const secs = Math.floor(ms / 1000);
  if (ms > 0 && secs < 1) throw new Error(`--event-ttl: want 0 or at least 1s, got ${JSON.stringify(s)}`);
  return secs;
}

function seconds(flag: string, s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag}: want a whole number of seconds ≥ 0, got ${s}`);
  return n;
}

const list = (s: string | undefined): string[] => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

/** The first non-internal IPv4 address of this host (for the `kubernetes` Endpoints when bound to 0.0.0.0). */
function hostAddress(): string {
  for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

/** Parses the command line (without the node and script arguments); throws on a bad or missing flag. */
export function parseOptions(argv: string[]): ApiServerOptions {
  const program = command();
  program.parse(argv, { from: 'user' });
  const o = program.opts<RawFlags>();
  if (!!o.kubeletClientCertificate !== !!o.kubeletClientKey) throw new Error('--kubelet-client-certificate and --kubelet-client-key go together');
  if (!!o.storeCertfile !== !!o.storeKeyfile) throw new Error('--store-certfile and --store-keyfile go together');
  if (o.authorizationMode !== 'RBAC' && o.authorizationMode !== 'AlwaysAllow') throw new Error(`--authorization-mode: want RBAC or AlwaysAllow, got ${o.authorizationMode}`);
  const issuer = String(o.serviceAccountIssuer);
  const audiences = list(o.apiAudiences);
  return {
    bindAddress: o.bindAddress,
    securePort: Number(o.securePort),
    advertiseAddress: o.advertiseAddress ?? (o.bindAddress === '0.0.0.0' || o.bindAddress === '::' ? hostAddress() : o.bindAddress),
    tlsCertFile: o.tlsCertFile,
    tlsPrivateKeyFile: o.tlsPrivateKeyFile,
    clientCaFile: o.clientCaFile,
    storeEndpoints: list(o.storeEndpoints),
    storeTls: { caFile: o.storeCafile, certFile: o.storeCertfile, keyFile: o.storeKeyfile },
    serviceClusterIpRange: o.serviceClusterIpRange,
    serviceNodePortRange: o.serviceNodePortRange,
    kubeletClient: o.kubeletClientCertificate && o.kubeletClientKey ? { certFile: o.kubeletClientCertificate, keyFile: o.kubeletClientKey } : undefined,
    rootCaFile: o.rootCaFile ?? o.clientCaFile,
    kubeletCertificateAuthority: o.kubeletCertificateAuthority ?? o.clientCaFile,
    tokenAuthFile: o.tokenAuthFile,
    serviceAccountKeyFiles: list(o.serviceAccountKeyFile),
    serviceAccountSigningKeyFile: o.serviceAccountSigningKeyFile,
    serviceAccountIssuer: issuer,
    apiAudiences: o.apiAudiences ? audiences : [issuer],
    serviceAccountMaxTokenExpirationSeconds: Number(o.serviceAccountMaxTokenExpiration),
    authorizationMode: o.authorizationMode,
    auditLogPath: o.auditLogPath,
    minRequestTimeoutSeconds: Number(o.minRequestTimeout),
    serverBootstrapFiles: o.serverBootstrapFiles,
    defaultNotReadyTolerationSeconds: seconds('--default-not-ready-toleration-seconds', o.defaultNotReadyTolerationSeconds),
    defaultUnreachableTolerationSeconds: seconds('--default-unreachable-toleration-seconds', o.defaultUnreachableTolerationSeconds),
    eventTtlSeconds: eventTtlSeconds(o.eventTtl),
    metricResolutionMs: metricResolutionMs(o.metricResolution),
  };
}
