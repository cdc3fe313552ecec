import { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiClient } from '../lib/client';
import { clusterDnsAddress, firstAddress, parseCidr } from '../lib/ipv4';
import { DEFAULT_CLUSTER_DOMAIN, normalizeClusterDomain } from '../lib/cluster-dns';
import { coxswainHome, renderKubeconfig, writeKubeconfig } from '../lib/kubeconfig';
import { ensureClusterPki, pkiPaths, type ClusterPki, type KeyPairPem } from '../lib/pki';
import { dockerSocket } from '../lib/preflight';
import { parseDuration } from '../lib/duration';
import { storeMemberFlags } from '../lib/store-members';
import type { ChildSpec } from '../lib/supervisor';
import { ingressProxyArgs, type IngressPorts } from './node/ingress-args';
import { refuseUnfitHost, waitApiserverReady, waitNodeReady } from './node/readiness';
import { superviseUntilSignal } from './node/supervise';

/** Everything `coxswain up` can be told; defaults are the single-host cluster of DESIGN.md. */
export interface UpOptions {
  home: string;
  nodeName: string;
  storeClientPorts: number[];
  storePeerPorts: number[];
  /** Loopback ports of the store replicas' /metrics (etcd's --listen-metrics-urls), one per replica. */
  storeMetricsPorts?: number[];
  apiserverPort: number;
  /** The apiserver's --event-ttl (a Go duration); absent: its default, 1h. */
  eventTtl?: string;
  /** The apiserver's --metric-resolution (a Go duration); absent: its default, 15s. */
  metricResolution?: string;
  schedulerPort: number;
  controllersPort: number;
  kubeletHealthzPort: number;
  /** Port of the kubelet API (gRPC, mutual TLS). */
  kubeletPort?: number;
  proxyPort: number;
  serviceCidr: string;
  clusterCidr: string;
  nodePortRange: string;
  readyTimeoutSec: number;
  /** The proxy's Ingress ports; absent with --no-ingress. */
  ingress?: IngressPorts;
  /** The Docker engine's socket for the kubelet (from DOCKER_HOST); absent: the kubelet's default. */
  dockerSocket?: string;
  clusterDomain: string;
  /** Resolvers for names outside the cluster domain (the proxy's --dns-upstream); absent: the host's resolv.conf. */
  dnsUpstream?: string;
}

function ports(s: string): number[] {
  return s.split(',').map((p) => {
    const n = Number(p.trim());
    if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`invalid port ${JSON.stringify(p)}`);
    return n;
  });
}

/** A Go duration flag passed on to a component, checked here so a typo fails before anything starts. */
export function checkedDuration(flag: string, s: string): string {
  try { parseDuration(s); } catch { throw new Error(`${flag}: want a duration such as 1h, 30m or 90s, got ${JSON.stringify(s)}`); }
  return s;
}

/** A DNS-1123 node name from the host name (Kubernetes lower-cases and must not have underscores). */
export function defaultNodeName(): string {
  return os.hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'node';
}

/** The child processes of a local cluster, in start order. Pure: easy to read and to test. */
export function clusterPlan(o: UpOptions, nodeExe: string, entry: string): ChildSpec[] {
  const logs = path.join(o.home, 'logs');
  const kc = (name: string) => path.join(o.home, 'kubeconfigs', `${name}.kubeconfig`);
  const pki = pkiPaths(o.home);
  const env = { ...process.env, COXSWAIN_HOME: o.home };
  const child = (name: string, args: string[]): ChildSpec => ({ name, command: nodeExe, args: [entry, ...args], env, logFile: path.join(logs, `${name}.log`) });
  if (o.storeClientPorts.length !== o.storePeerPorts.length) throw new Error('--store-client-ports and --store-peer-ports need the same number of ports');
  if (o.storeMetricsPorts && o.storeMetricsPorts.length !== o.storeClientPorts.length) throw new Error('--store-metrics-ports needs as many ports as --store-client-ports');
  const members = o.storeClientPorts.map((clientPort, i) => ({ name: `s${i + 1}`, clientPort, peerPort: o.storePeerPorts[i], metricsPort: o.storeMetricsPorts?.[i] }));
  const specs: ChildSpec[] = members.map((m) => child(`store-${m.name}`, ['store', ...storeMemberFlags(m, members, path.join(o.home, 'store', m.name))]));
  specs.push(
    child('apiserver', [
      'apiserver',
      '--bind-address', '127.0.0.1',
      '--secure-port', String(o.apiserverPort),
      '--tls-cert-file', pki.apiserver.cert,
      '--tls-private-key-file', pki.apiserver.key,
      '--client-ca-file', pki.ca.cert,
      '--store-endpoints', members.map((m) => `http://127.0.0.1:${m.clientPort}`).join(','),
      '--service-cluster-ip-range', o.serviceCidr,
      '--service-node-port-range', o.nodePortRange,
      '--service-account-key-file', pki.serviceAccount.pub,
      '--service-account-signing-key-file', pki.serviceAccount.key,
      '--audit-log-path', path.join(logs, 'audit.log'),
      '--kubelet-client-certificate', pki.apiserverKubeletClient.cert,
      '--kubelet-client-key', pki.apiserverKubeletClient.key,
      '--kubelet-certificate-authority', pki.ca.cert,
      ...(o.eventTtl ? ['--event-ttl', o.eventTtl] : []),
      ...(o.metricResolution ? ['--metric-resolution', o.metricResolution] : []),
    ]),
    child('scheduler', ['scheduler', '--kubeconfig', kc('scheduler'), '--port', String(o.schedulerPort)]),
    child('controllers', ['controllers', '--kubeconfig', kc('controllers'), '--port', String(o.controllersPort), '--cluster-cidr', o.clusterCidr, '--cluster-signing-cert-file', pki.ca.cert, '--cluster-signing-key-file', pki.ca.key,
      '--local-path-dir', path.join(o.home, 'storage')]),
    child('kubelet', [
      'kubelet', '--kubeconfig', kc('kubelet'), '--node-name', o.nodeName, '--healthz-port', String(o.kubeletHealthzPort),
      '--port', String(o.kubeletPort ?? 10250),
      '--tls-cert-file', pki.kubelet(o.nodeName).cert,
      '--tls-private-key-file', pki.kubelet(o.nodeName).key,
      '--client-ca-file', pki.ca.cert,
      '--cluster-cidr', o.clusterCidr,
      '--cluster-dns', clusterDnsAddress(parseCidr(o.serviceCidr)!), '--cluster-domain', o.clusterDomain,
      ...(o.dockerSocket ? ['--docker-socket', o.dockerSocket] : []),
    ]),
    // --service-cidr: the restarted proxy removes ClusterIPs an earlier run left on lo for Services gone since
    child('proxy', ['proxy', '--kubeconfig', kc('proxy'), '--node-name', o.nodeName, '--port', String(o.proxyPort), '--service-cidr', o.serviceCidr, ...ingressProxyArgs(o.ingress),
      '--cluster-domain', o.clusterDomain, ...(o.dnsUpstream ? ['--dns-upstream', o.dnsUpstream] : [])]),
  );
  return specs;
}

/** The first address of a CIDR (10.96.0.0/12 → 10.96.0.1): the `kubernetes` Service's ClusterIP. */
export function firstServiceIP(cidr: string): string {
  const c = parseCidr(cidr);
  if (!c) throw new Error(`--service-cidr: invalid CIDR ${JSON.stringify(cidr)}`);
  return firstAddress(c);
}

/**
 * Ensures the cluster PKI under `<home>/pki` and writes the admin kubeconfig
 * (`<home>/kubeconfig`) and one per component (`<home>/kubeconfigs/<name>.kubeconfig`).
 * `componentServer` is the apiserver URL the scheduler and controllers use when
 * it differs from the one on the host (docker-compose's service network).
 */
export async function writeClusterCredentials(opts: {
  home: string;
  server: string;
  nodeName: string;
  serviceCidr: string;
  componentServer?: string;
  apiserverHosts?: string[];
}): Promise<ClusterPki> {
  await mkdir(path.join(opts.home, 'kubeconfigs'), { recursive: true, mode: 0o700 });
  const pki = await ensureClusterPki(opts.home, { nodeName: opts.nodeName, apiserverIPs: [firstServiceIP(opts.serviceCidr)], apiserverHosts: opts.apiserverHosts });
  const kubeconfig = (pair: KeyPairPem, user: string, server: string) => renderKubeconfig({ name: 'coxswain', server, ca: pki.ca.cert, cert: pair.cert, key: pair.key, user });
  await writeKubeconfig(path.join(opts.home, 'kubeconfig'), kubeconfig(pki.admin, 'admin', opts.server));
  const inner = opts.componentServer ?? opts.server;
  for (const [name, pair, server] of [
    ['scheduler', pki.scheduler, inner],
    ['controllers', pki.controllers, inner],
    ['kubelet', pki.kubelet, opts.server],
    ['proxy', pki.proxy, opts.server],
  ] as const) {
    await writeKubeconfig(path.join(opts.home, 'kubeconfigs', `${name}.kubeconfig`), kubeconfig(pair, name, server));
  }
  return pki;
}


export async function main(argv: string[]): Promise<void> {
  const cmd = new Command('coxswain up')
    .description('Start a whole Coxswain cluster on this machine as separate processes; Ctrl-C stops it.')
    .option('--home <dir>', 'data folder (COXSWAIN_HOME)', coxswainHome())
    .option('--node-name <name>', 'name of this host as a Node', defaultNodeName())
    .option('--store-client-ports <ports>', 'client ports of the store replicas', '2379,22379,32379')
    .option('--store-peer-ports <ports>', 'peer ports of the store replicas', '2380,22380,32380')
    .option('--store-metrics-ports <ports>', 'loopback ports of the store replicas\' /metrics and /health (plain HTTP)', '2381,22381,32381')
    .option('--apiserver-port <port>', 'HTTPS port of the apiserver', '6443')
    .option('--event-ttl <duration>', 'how long an Event is kept after its last write (the apiserver\'s --event-ttl: 30m, 1h, 90s; 0: forever)', '1h')
    .option('--metric-resolution <duration>', 'how often the Metrics API scrapes the kubelets (the apiserver\'s --metric-resolution: 15s, 1m)', '15s')
    .option('--scheduler-port <port>', 'health/metrics port of the scheduler', '10259')
    .option('--controllers-port <port>', 'health/metrics port of the controllers', '10257')
    .option('--kubelet-healthz-port <port>', 'health/metrics port of the kubelet', '10248')
    .option('--kubelet-port <port>', 'port of the kubelet API (gRPC, mutual TLS: logs, exec, port-forward)', '10250')
    .option('--proxy-port <port>', 'health/metrics port of the proxy', '10256')
    .option('--service-cidr <cidr>', 'Service ClusterIP range', '10.96.0.0/12')
    .option('--cluster-cidr <cidr>', 'pod network range (a /24 per node)', '10.244.0.0/16')
    .option('--node-port-range <range>', 'NodePort range', '30000-32767')
    .option('--ready-timeout <sec>', 'give up if the cluster is not ready in this many seconds', '120')
    .option('--ingress-http-port <port>', 'port of the Ingress server (HTTP) on every address of this host', '80')
    .option('--ingress-https-port <port>', 'port of the Ingress server (HTTPS) on every address of this host', '443')
    .option('--no-ingress', 'serve no Ingresses')
    .option('--cluster-domain <domain>', 'cluster DNS domain', DEFAULT_CLUSTER_DOMAIN)
    .option('--dns-upstream <ip[:port],...>', 'resolvers cluster DNS forwards other names to (default: the nameservers of /etc/resolv.conf)')
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const f = cmd.opts();
  const o: UpOptions = {
    home: path.resolve(f.home),
    nodeName: f.nodeName,
    storeClientPorts: ports(f.storeClientPorts),
    storePeerPorts: ports(f.storePeerPorts),
    storeMetricsPorts: ports(f.storeMetricsPorts),
    apiserverPort: ports(f.apiserverPort)[0],
    eventTtl: checkedDuration('--event-ttl', f.eventTtl),
    metricResolution: checkedDuration('--metric-resolution', f.metricResolution),
    schedulerPort: ports(f.schedulerPort)[0],
    controllersPort: ports(f.controllersPort)[0],
    kubeletHealthzPort: ports(f.kubeletHealthzPort)[0],
    kubeletPort: ports(f.kubeletPort)[0],
    proxyPort: ports(f.proxyPort)[0],
    serviceCidr: f.serviceCidr,
    clusterCidr: f.clusterCidr,
    nodePortRange: f.nodePortRange,
    readyTimeoutSec: Number(f.readyTimeout),
    ingress: f.ingress === false ? undefined : { httpPort: ports(f.ingressHttpPort)[0], httpsPort: ports(f.ingressHttpsPort)[0] },
    dockerSocket: dockerSocket().socket,
    clusterDomain: normalizeClusterDomain(f.clusterDomain),
    dnsUpstream: f.dnsUpstream,
  };
  if (!parseCidr(o.serviceCidr)) throw new Error(`--service-cidr: invalid CIDR ${JSON.stringify(o.serviceCidr)}`);
  clusterDnsAddress(parseCidr(o.serviceCidr)!); // throws when the range has no room for the DNS address
  const t0 = Date.now();
  // Before anything is written or started: a host that cannot run a node says why in one line.
  if (await refuseUnfitHost(undefined)) return;
  await mkdir(path.join(o.home, 'logs'), { recursive: true });
  const pki = await writeClusterCredentials({ home: o.home, server: `https://127.0.0.1:${o.apiserverPort}`, nodeName: o.nodeName, serviceCidr: o.serviceCidr });
  const server = `https://127.0.0.1:${o.apiserverPort}`;
  const adminKubeconfig = path.join(o.home, 'kubeconfig');

  const entry = path.join(__dirname, 'coxswain.js');
  const plan = clusterPlan(o, process.execPath, entry);
  process.stdout.write(`coxswain: starting ${plan.length} processes (data in ${o.home}, logs in ${path.join(o.home, 'logs')})\n`);
  const { stopping } = superviseUntilSignal(plan, { home: o.home });

  const deadline = Date.now() + o.readyTimeoutSec * 1000;
  const client = new ApiClient({ server, ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key });
  try {
    await waitApiserverReady(client, deadline);
    await waitNodeReady(client, o.nodeName, deadline);
  } catch (err) {
    if (stopping()) return;
    process.stderr.write(`coxswain: ${(err as Error).message}; see the logs in ${path.join(o.home, 'logs')}. The cluster keeps running; Ctrl-C stops it.\n`);
    return;
  } finally {
    client.close();
  }
  if (stopping()) return;
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  process.stdout.write(
    `coxswain: cluster ready in ${secs}s: apiserver ${server}, node ${o.nodeName} Ready; export KUBECONFIG=${adminKubeconfig} (npx coxctl get nodes)\n`,
  );
}
