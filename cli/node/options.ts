import { Command, Option } from 'commander';
import path from 'node:path';
import { defaultRouteAddress } from '../../lib/host-address';
import { DEFAULT_CLUSTER_DOMAIN, normalizeClusterDomain } from '../../lib/cluster-dns';
import { clusterDnsAddress, parseCidr, parseIPv4 } from '../../lib/ipv4';
import { coxswainHome } from '../../lib/kubeconfig';
import { dockerSocket } from '../../lib/preflight';
import type { IngressPorts } from './ingress-args';
import { checkedDuration, defaultNodeName } from '../up';

/**
 * The flags `coxswain server` and `coxswain agent` share, as data (k3s' way):
 * where the node's data lives, what it is called, the address other hosts reach
 * it at, and the Docker engine. Every flag also reads a COXSWAIN_* variable, so
 * a systemd unit can take them from an EnvironmentFile.
 */
export interface NodeOptions {
  home: string;
  nodeName: string;
  nodeIP: string;
  dockerSocket?: string;
  /** The server to join through (a URL) and the join token; both or neither. */
  server?: string;
  token?: string;
  clusterCidr: string;
  kubeletPort: number;
  readyTimeoutSec: number;
  /** The proxy's Ingress ports; absent with --no-ingress. */
  ingress?: IngressPorts;
  /** The cluster DNS address pods get (the kubelet's --cluster-dns). */
  clusterDns: string;
  clusterDomain: string;
  /** The proxy's --dns-upstream; absent: the host's resolv.conf. */
  dnsUpstream?: string;
}


export interface ServerOptions extends NodeOptions {
  tlsSans: string[];
  disableAgent: boolean;
  serviceCidr: string;
  nodePortRange: string;
  apiserverPort: number;
  storeClientPort: number;
  storePeerPort: number;
  /** Loopback port of the store's /metrics and /health (etcd's --listen-metrics-urls; kubeadm's 2381). */
  storeMetricsPort: number;
  /** The apiserver's --event-ttl (a Go duration). */
  eventTtl: string;
  /** The apiserver's --metric-resolution (a Go duration); absent: its default, 15s. */
  metricResolution?: string;
}

export interface AgentOptions extends NodeOptions {
  /** The local port of the apiserver balancer the kubelet and proxy use. */
  balancerPort: number;
}

const port = (s: string): number => {
  const n = Number(s);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`invalid port ${JSON.stringify(s)}`);
  return n;
};

function common(cmd: Command): Command {
  return cmd
    .addOption(new Option('--home <dir>', 'data folder').env('COXSWAIN_HOME').default(coxswainHome()))
    .addOption(new Option('--node-name <name>', 'name of this host as a Node').env('COXSWAIN_NODE_NAME').default(defaultNodeName()))
    .addOption(new Option('--node-ip <ip>', "the address other hosts reach this one at (default: the default route's interface's address)").env('COXSWAIN_NODE_IP'))
    .addOption(new Option('--server <url>', 'a server of the cluster to join, https://<ip>:6443').env('COXSWAIN_SERVER'))
    .addOption(new Option('--token <token>', 'the join token (K10…; `cat $COXSWAIN_HOME/token` on the first server, or `coxswain token create`)').env('COXSWAIN_TOKEN'))
    .addOption(new Option('--docker-socket <path>', 'the Docker engine (default: from DOCKER_HOST, else /var/run/docker.sock)'))
    .addOption(new Option('--cluster-cidr <cidr>', 'pod network range of the cluster (the same on every host)').default('10.244.0.0/16'))
    .addOption(new Option('--kubelet-port <port>', 'port of the kubelet API on the node IP').default('10250'))
    .addOption(new Option('--cluster-dns <ip>', 'cluster DNS address for pods (default: the 10th address of --service-cidr on a server, 10.96.0.10 on an agent)').env('COXSWAIN_CLUSTER_DNS'))
    .addOption(new Option('--cluster-domain <domain>', 'cluster DNS domain (the same on every host)').env('COXSWAIN_CLUSTER_DOMAIN').default(DEFAULT_CLUSTER_DOMAIN))
    .addOption(new Option('--dns-upstream <ip[:port],...>', 'resolvers cluster DNS forwards other names to (default: the nameservers of /etc/resolv.conf)').env('COXSWAIN_DNS_UPSTREAM'))
    .addOption(new Option('--ready-timeout <sec>', 'give up waiting for ready after this many seconds (the processes keep running)').default('180'))
    .addOption(new Option('--ingress-http-port <port>', 'port of the proxy\'s Ingress server (HTTP) on every node address').env('COXSWAIN_INGRESS_HTTP_PORT').default('80'))
    .addOption(new Option('--ingress-https-port <port>', 'port of the proxy\'s Ingress server (HTTPS) on every node address').env('COXSWAIN_INGRESS_HTTPS_PORT').default('443'))
    .addOption(new Option('--no-ingress', 'the proxy serves no Ingresses'))
    .exitOverride();
}

function parseNode(f: Record<string, string | undefined>): NodeOptions {
  const ingressOn = (f as Record<string, unknown>).ingress !== false;
  const nodeIP = f.nodeIp ?? defaultRouteAddress();
  if (parseIPv4(nodeIP) === undefined) throw new Error(`--node-ip: ${JSON.stringify(nodeIP)} is not an IPv4 address`);
  if (nodeIP.startsWith('127.')) throw new Error(`--node-ip: ${nodeIP} is a loopback address, which other hosts cannot reach; pass this host's address`);
  if (f.clusterDns !== undefined && parseIPv4(f.clusterDns) === undefined) throw new Error(`--cluster-dns: ${JSON.stringify(f.clusterDns)} is not an IPv4 address`);
  if (Boolean(f.server) !== Boolean(f.token)) throw new Error(f.server ? '--token is needed with --server' : '--server is needed with --token');
  if (f.server && !/^https:\/\/[^/]+$/.test(f.server.replace(/\/$/, ''))) throw new Error(`--server: ${JSON.stringify(f.server)} is not an https:// URL such as https://10.0.0.11:6443`);
  const socket = f.dockerSocket ?? dockerSocket().socket;
  return {
    home: path.resolve(f.home!),
    nodeName: f.nodeName!,
    nodeIP,
    dockerSocket: socket,
    server: f.server?.replace(/\/$/, ''),
    token: f.token,
    clusterCidr: f.clusterCidr!,
    kubeletPort: port(f.kubeletPort!),
    readyTimeoutSec: Number(f.readyTimeout),
    ingress: ingressOn ? { httpPort: port(f.ingressHttpPort!), httpsPort: port(f.ingressHttpsPort!) } : undefined,
    // a server fills in its service range's DNS address when none is given
    clusterDns: f.clusterDns ?? '',
    clusterDomain: normalizeClusterDomain(f.clusterDomain!),
    dnsUpstream: f.dnsUpstream,
  };
}

export function parseServerOptions(argv: string[]): ServerOptions {
  const cmd = common(new Command('coxswain server'))
    .description('Run a control-plane host: a store replica, an apiserver, the scheduler and controllers (leader-elected), and a kubelet and proxy. Without --server it creates a new cluster.')
    .addOption(new Option('--tls-san <name...>', 'extra DNS names or IPs for the apiserver certificate'))
    .addOption(new Option('--disable-agent', 'run no kubelet or proxy on this host (it runs no pods)'))
    .addOption(new Option('--service-cidr <cidr>', 'Service ClusterIP range').default('10.96.0.0/12'))
    .addOption(new Option('--node-port-range <range>', 'NodePort range').default('30000-32767'))
    .addOption(new Option('--apiserver-port <port>', 'HTTPS port of the apiserver').default('6443'))
    .addOption(new Option('--store-client-port <port>', 'client port of the store replica').default('2379'))
    .addOption(new Option('--store-peer-port <port>', 'peer port of the store replica').default('2380'))
    .addOption(new Option('--store-metrics-port <port>', 'loopback port of the store\'s /metrics and /health (plain HTTP)').default('2381'))
    .addOption(new Option('--event-ttl <duration>', 'how long an Event is kept after its last write (the apiserver\'s --event-ttl: 30m, 1h, 90s; 0: forever)').env('COXSWAIN_EVENT_TTL').default('1h'))
    .addOption(new Option('--metric-resolution <duration>', 'how often the Metrics API scrapes the kubelets (the apiserver\'s --metric-resolution: 15s, 1m)').env('COXSWAIN_METRIC_RESOLUTION').default('15s'));
  cmd.parse(argv, { from: 'user' });
  const f = cmd.opts();
  const serviceCidr = parseCidr(f.serviceCidr);
  if (!serviceCidr) throw new Error(`--service-cidr: invalid CIDR ${JSON.stringify(f.serviceCidr)}`);
  const node = parseNode(f);
  return {
    ...node,
    clusterDns: node.clusterDns || clusterDnsAddress(serviceCidr),
    tlsSans: (f.tlsSan as string[] | undefined) ?? [],
    disableAgent: Boolean(f.disableAgent),
    serviceCidr: f.serviceCidr,
    nodePortRange: f.nodePortRange,
    apiserverPort: port(f.apiserverPort),
    storeClientPort: port(f.storeClientPort),
    storePeerPort: port(f.storePeerPort),
    storeMetricsPort: port(f.storeMetricsPort),
    eventTtl: checkedDuration('--event-ttl', f.eventTtl),
    metricResolution: checkedDuration('--metric-resolution', f.metricResolution),
  };
}

export function parseAgentOptions(argv: string[]): AgentOptions {
  const cmd = common(new Command('coxswain agent'))
    .description('Run a worker host: a kubelet and a proxy, joined to a cluster with --server and --token.')
    .addOption(new Option('--balancer-port <port>', 'local port of the apiserver load balancer the kubelet and proxy use').default('6444'));
  cmd.parse(argv, { from: 'user' });
  const f = cmd.opts();
  const o = parseNode(f);
  o.clusterDns ||= clusterDnsAddress(parseCidr('10.96.0.0/12')!);
  if (!o.server) throw new Error('--server and --token are needed: an agent joins an existing cluster');
  return { ...o, balancerPort: port(f.balancerPort) };
}
