import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CLUSTER_DOMAIN, normalizeClusterDomain } from '../lib/cluster-dns';
import { parseDuration } from '../lib/duration';
import { parsePort } from '../lib/flags';
import { formatCidr, parseCidr } from '../lib/ipv4';
import { defaultKubeconfigPath } from '../lib/kubeconfig';
import { DEFAULT_DOCKER_SOCKET } from '../lib/preflight';

/**
 * The kubelet's flags as data, in the manner of k3s' `pkg/cli/cmds`: one table of
 * {name, env var mirror, default, parser, help, group}, turned into commander
 * options by `addFlags`. `main.ts` parses them into `KubeletFlags`.
 */

/** A flag that takes a value (`--name <value>`). */
export interface ValueFlag<T> {
  /** Long name without the leading dashes. */
  name: string;
  /** The value's placeholder in --help, e.g. `<file>`. */
  value: string;
  /** Text → value; throws an Error whose message says what is wrong. */
  parse: (text: string) => T;
  default?: T;
  /** How the default reads in --help when not as itself (durations: "5s"). */
  defaultText?: string;
  /** Environment variable read when the flag is not given. */
  env?: string;
  help: string;
  /** Heading of the flag's group in --help. */
  group: string;
}

/** An on/off switch (`--name`); `no-x` declares one that defaults to on. */
export interface SwitchFlag {
  name: string;
  switch: true;
  default?: boolean;
  env?: string;
  help: string;
  group: string;
}

export type FlagSpec = ValueFlag<string> | ValueFlag<number> | SwitchFlag;

/** Adds every flag of `table` to `command`; a parser's error becomes commander's "argument is invalid" message. */
export function addFlags(command: Command, table: readonly FlagSpec[]): Command {
  for (const f of table) {
    const opt = 'switch' in f ? new Option(`--${f.name}`, f.help) : new Option(`--${f.name} ${f.value}`, f.help).argParser(argParser(f.parse));
    if (f.default !== undefined && !('switch' in f && f.name.startsWith('no-'))) opt.default(f.default, 'defaultText' in f ? f.defaultText : undefined);
    if (f.env) opt.env(f.env);
    command.addOption(opt.helpGroup(`${f.group}:`));
  }
  return command;
}

function argParser(parse: (text: string) => unknown): (text: string) => unknown {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

/** A non-negative integer. */
export function count(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a non-negative integer: ${s}`);
  return n;
}

/** An integer ≥ -1 (-1 = no limit). */
export function limit(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < -1) throw new Error(`not an integer ≥ -1: ${s}`);
  return n;
}

/** An integer percentage in [0, 100]. */
export function percent(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new Error(`not an integer percentage in [0, 100]: ${s}`);
  return n;
}

const text = (s: string): string => s;

/** An IPv4 CIDR, normalized to its network address. */
export function cidr(s: string): string {
  const c = parseCidr(s);
  if (!c) throw new Error(`not an IPv4 CIDR: ${s}`);
  return formatCidr(c);
}

/** Comma-separated IP addresses (`--cluster-dns`); empty is none. */
export function ipList(s: string): string {
  const ips = s.split(',').map((x) => x.trim()).filter(Boolean);
  for (const ip of ips) if (isIP(ip) === 0) throw new Error(`not an IP address: ${ip}`);
  return ips.join(',');
}

/** First non-internal IPv4 address that is not a container bridge, else 127.0.0.1. */
export function defaultNodeIP(ifaces = os.networkInterfaces()): string {
  const skip = /^(docker\d*|br-|veth|cni|flannel|virbr)/;
  for (const [name, addrs] of Object.entries(ifaces)) {
    if (skip.test(name)) continue;
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** Pod volume directories: under COXSWAIN_HOME when set, else /var/lib/coxswain/kubelet. */
export function defaultRootDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.COXSWAIN_HOME ? path.join(env.COXSWAIN_HOME, 'kubelet') : '/var/lib/coxswain/kubelet';
}

/** The parsed flags (commander's camel-cased names). */
export interface KubeletFlags {
  kubeconfig: string;
  nodeName: string;
  nodeIp: string;
  dockerSocket: string;
  healthzPort: number;
  healthzBindAddress: string;
  maxPods: number;
  seccompDefault: boolean;
  clusterDns?: string;
  clusterDomain: string;
  tmpfsVolumes: boolean;
  tmpfsRoot: string;
  networkPrefix: string;
  rootDir: string;
  syncFrequency: number;
  /** Deprecated alias of nodeStatusUpdateFrequency; wins when given. */
  heartbeatFrequency?: number;
  port: number;
  address: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCaFile?: string;
  maximumDeadContainersPerContainer: number;
  maximumDeadContainers: number;
  minimumContainerTtlDuration: number;
  containerGcPeriod: number;
  imageGcHighThreshold: number;
  imageGcLowThreshold: number;
  minimumImageTtlDuration: number;
  imageGcPeriod: number;
  shutdownGracePeriod: number;
  // Pod network across hosts.
  clusterCidr: string;
  routeSyncPeriod: number;
  // Node health (controllers/nodelifecycle/controller.ts has the cadence and why).
  nodeStatusUpdateFrequency: number;
  nodeLeaseRenewInterval: number;
  nodeLeaseDurationSeconds: number;
}

/**
 * Node health: the Lease is the cheap heartbeat the controllers watch (renewed
 * every 2 s; Kubernetes: 10 s, a quarter of 40 s); the full node status is
 * written every 10 s as in Kubernetes. The controllers mark a node Unknown
 * after 8 s without either (--node-monitor-grace-period).
 */
function nodeHealthFlags(): FlagSpec[] {
  const g = 'Node health';
  return [
    { name: 'node-status-update-frequency', value: '<duration>', parse: parseDuration, default: 10_000, defaultText: '10s', help: 'interval of node status writes (conditions, addresses, capacity; a heartbeat too)', group: g },
    { name: 'node-lease-renew-interval', value: '<duration>', parse: parseDuration, default: 2_000, defaultText: '2s', help: 'interval of node Lease renewals, the heartbeat the controllers watch (Kubernetes: 10s, not a flag)', group: g },
    { name: 'node-lease-duration-seconds', value: '<seconds>', parse: count, default: 8, help: "the node Lease's leaseDurationSeconds (Kubernetes: 40)", group: g },
  ];
}

/** The kubelet's flags; defaults that depend on the host are read when called. */
export function kubeletFlags(): FlagSpec[] {
  const node = 'Node';
  const api = 'Kubelet API';
  const pods = 'Pods';
  const gc = 'Garbage collection';
  return [
    { name: 'kubeconfig', value: '<file>', parse: text, default: defaultKubeconfigPath(), help: 'kubeconfig to reach the apiserver', group: node },
    { name: 'node-name', value: '<name>', parse: text, default: os.hostname().toLowerCase(), help: 'name of this node', group: node },
    { name: 'node-ip', value: '<ip>', parse: text, default: defaultNodeIP(), help: 'IP address of this node', group: node },
    { name: 'docker-socket', value: '<path>', parse: text, default: DEFAULT_DOCKER_SOCKET, help: 'Docker Engine socket', group: node },
    { name: 'healthz-port', value: '<port>', parse: parsePort, default: 10248, help: 'port of /healthz and /metrics (0 = any free port)', group: node },
    { name: 'healthz-bind-address', value: '<ip>', parse: text, default: '127.0.0.1', help: 'address of /healthz and /metrics', group: node },
    { name: 'max-pods', value: '<n>', parse: count, default: 110, help: 'pods this node can run (capacity)', group: node },
    { name: 'heartbeat-frequency', value: '<duration>', parse: parseDuration, help: 'old name of --node-status-update-frequency', group: node },
    { name: 'shutdown-grace-period', value: '<duration>', parse: parseDuration, default: 0, defaultText: '0s', help: 'on SIGTERM, stop every pod within this time and mark them Failed before exiting (graceful node shutdown); 0 leaves containers running', group: node },
    { name: 'tmpfs-root', value: '<dir>', parse: text, default: '/run/coxswain/kubelet', help: 'where secret and projected volumes are mounted as tmpfs (<dir>/<pod uid>/...); kubelets sharing a filesystem need one each', group: pods },
    { name: 'no-tmpfs-volumes', switch: true, help: "write secret and projected volumes to disk instead of tmpfs (a kubelet in a container of its own: the host's Docker does not see its mounts)", group: pods },
    { name: 'seccomp-default', switch: true, default: false, help: "use the runtime's default seccomp profile (RuntimeDefault) for pods and containers that name none, instead of Unconfined", group: pods },
    { name: 'cluster-dns', value: '<ips>', parse: ipList, help: 'comma-separated cluster DNS addresses for pods with dnsPolicy ClusterFirst (the kube-dns Service\'s ClusterIP); without it they get the node\'s resolver, with a warning event', group: pods },
    { name: 'cluster-domain', value: '<domain>', parse: (v) => normalizeClusterDomain(v), default: DEFAULT_CLUSTER_DOMAIN, help: 'the cluster DNS domain: pods search <ns>.svc.<domain> svc.<domain> <domain>', group: pods },
    { name: 'network-prefix', value: '<prefix>', parse: text, default: 'coxswain', help: 'pod network name prefix (network is <prefix>-<node-name>, the alias of its bridge device)', group: pods },
    { name: 'sync-frequency', value: '<duration>', parse: parseDuration, default: 5_000, defaultText: '5s', help: 'interval of the full pod resync', group: pods },
    { name: 'root-dir', value: '<dir>', parse: text, default: defaultRootDir(), help: 'directory of pod volumes (default /var/lib/coxswain/kubelet, or $COXSWAIN_HOME/kubelet when COXSWAIN_HOME is set)', group: pods },
    // Pod network across hosts (host-gw routes: route-sync.ts).
    { name: 'cluster-cidr', value: '<cidr>', parse: cidr, default: '10.244.0.0/16', help: 'range of every pod IP in the cluster: forwarded and not masqueraded between hosts (as the controllers\' --cluster-cidr)', group: pods },
    { name: 'route-sync-period', value: '<duration>', parse: parseDuration, default: 30_000, defaultText: '30s', help: 'interval of the full pass over the routes to other nodes\' podCIDRs (Node changes apply at once)', group: pods },
    { name: 'port', value: '<port>', parse: parsePort, default: 10250, help: 'port of the kubelet API (gRPC, mutual TLS; 0 = any free port)', group: api },
    { name: 'address', value: '<ip>', parse: text, default: '0.0.0.0', help: 'address of the kubelet API', group: api },
    { name: 'tls-cert-file', value: '<file>', parse: text, help: 'serving certificate of the kubelet API (PEM); without it the API is off', group: api },
    { name: 'tls-private-key-file', value: '<file>', parse: text, help: 'key of --tls-cert-file (PEM)', group: api },
    { name: 'client-ca-file', value: '<file>', parse: text, help: 'CA whose client certificates may call the kubelet API (PEM)', group: api },
    { name: 'maximum-dead-containers-per-container', value: '<n>', parse: limit, default: 1, help: 'dead instances kept per container (-1 = no limit)', group: gc },
    { name: 'maximum-dead-containers', value: '<n>', parse: limit, default: -1, help: 'dead containers kept on this node in all (-1 = no limit)', group: gc },
    { name: 'minimum-container-ttl-duration', value: '<duration>', parse: parseDuration, default: 0, defaultText: '0s', help: 'minimum age of a dead container before it may be removed', group: gc },
    { name: 'container-gc-period', value: '<duration>', parse: parseDuration, default: 60_000, defaultText: '1m', help: 'interval of dead-container GC (Coxswain; Kubernetes: fixed 1m)', group: gc },
    { name: 'image-gc-high-threshold', value: '<percent>', parse: percent, default: 85, help: 'image filesystem usage at or above which image GC runs (100 disables it)', group: gc },
    { name: 'image-gc-low-threshold', value: '<percent>', parse: percent, default: 80, help: 'image filesystem usage image GC frees down to', group: gc },
    { name: 'minimum-image-ttl-duration', value: '<duration>', parse: parseDuration, default: 120_000, defaultText: '2m', help: 'minimum age of an unused image before it may be removed', group: gc },
    { name: 'image-gc-period', value: '<duration>', parse: parseDuration, default: 300_000, defaultText: '5m', help: 'interval of image GC (Coxswain; Kubernetes: fixed 5m)', group: gc },
    ...nodeHealthFlags(),
  ];
}
