import os from 'node:os';
import { Command, CommanderError } from 'commander';
import { collectDefaultMetrics } from 'prom-client';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { Endpoints, Service } from 'kubernetes-types/core/v1';
import { ApiClient } from '../lib/client';
import { Informer } from '../lib/informer';
import { defaultKubeconfigPath } from '../lib/kubeconfig';
import { runUntilSignal } from '../lib/daemon';
import { parseDuration } from '../lib/duration';
import { EventRecorder } from '../lib/events';
import { parsePort } from '../lib/flags';
import { parseCidr } from '../lib/ipv4';
import { createLogger } from '../lib/log';
import { DEFAULT_CLUSTER_DOMAIN, KUBE_DNS_NAME, KUBE_DNS_NAMESPACE, normalizeClusterDomain } from '../lib/cluster-dns';
import { ENDPOINT_SLICES, ENDPOINTS, SERVICES } from '../lib/resources';
import { IpAddressManager, NoopAddressManager } from './addresses';
import { ClusterDns } from './dns/cluster-dns';
import { DnsMetrics } from './dns/metrics';
import { dnsUpstreams } from './dns/upstreams';
import { createHealthServer } from './health';
import { NetworkPolicyAgent } from './netpol/agent';
import { startIngress } from './ingress/start';
import { ProxyMetrics } from './metrics';
import { Proxier } from './proxier';
import { interfaceAddresses } from './interfaces';

interface ProxyFlags {
  kubeconfig?: string;
  nodeName: string;
  bindAddress: string;
  port: string;
  nodeportAddresses: string;
  bindClusterIps: boolean;
  networkPolicy: boolean;
  networkPolicyRules: boolean;
  ingress: boolean;
  ingressHttpPort: string;
  ingressHttpsPort: string;
  dns: boolean;
  clusterDomain: string;
  dnsService: string;
  dnsUpstream?: string;
  dnsPort: string;
  dnsBindAddress?: string;
  serviceCidr?: string;
  udpTimeout: string;
  udpMaxFlows: string;
}

/** `coxswain proxy`: Service ClusterIPs and NodePorts for this node, in userspace. */
export async function main(argv: string[]): Promise<void> {
  const cmd = new Command('proxy')
    .description('Coxswain service proxy: ClusterIP and NodePort listeners balancing over ready endpoints')
    .option('--kubeconfig <file>', 'kubeconfig to reach the apiserver (default $KUBECONFIG or ~/.coxswain/kubeconfig)')
    .option('--node-name <name>', 'this node’s name', os.hostname())
    .option('--bind-address <ip>', 'address for /healthz and /metrics', '127.0.0.1')
    .option('--port <port>', 'port for /healthz and /metrics (0 picks one)', '10256')
    .option('--nodeport-addresses <ips>', 'comma-separated addresses NodePorts listen on', '0.0.0.0')
    .option('--no-bind-cluster-ips', 'do not add ClusterIPs to lo (unprivileged runs; ClusterIPs must already be local)')
    .option('--no-network-policy', 'do not enforce NetworkPolicy (no informers, no checks, no iptables rules)')
    .option('--no-network-policy-rules', 'enforce NetworkPolicy on Service traffic only, writing no iptables rules (unprivileged runs)')
    .option('--ingress-http-port <port>', 'port of the Ingress server (HTTP) on the NodePort addresses', '80')
    .option('--ingress-https-port <port>', 'port of the Ingress server (HTTPS) on the NodePort addresses', '443')
    .option('--no-ingress', 'do not serve Ingresses')
    .option('--no-dns', 'do not serve cluster DNS')
    .option('--cluster-domain <domain>', 'the cluster DNS domain', DEFAULT_CLUSTER_DOMAIN)
    .option('--dns-service <namespace/name>', 'the Service whose ClusterIP cluster DNS answers on', `${KUBE_DNS_NAMESPACE}/${KUBE_DNS_NAME}`)
    .option('--dns-upstream <ip[:port],...>', 'resolvers for names outside the cluster domain (default: the nameservers of /etc/resolv.conf)')
    .option('--dns-port <port>', 'port cluster DNS listens on (UDP and TCP)', '53')
    .option('--dns-bind-address <ip>', 'listen for cluster DNS here instead of on the DNS Service’s ClusterIP')
    .option('--service-cidr <cidr>', 'the Service ClusterIP range: at start, labelled ClusterIPs in it that an earlier run left on lo and no Service wants are removed')
    .option('--udp-timeout <duration>', 'idle time after which a UDP flow (client → backend) is closed', '30s')
    .option('--udp-max-flows <n>', 'most UDP flows at once over all UDP ports; the least recently active is evicted for a new one', '4096')
    .exitOverride();
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    // --help and --version have printed already; anything else is a usage error.
    if (err instanceof CommanderError && (err.code === 'commander.helpDisplayed' || err.code === 'commander.version')) return;
    throw err;
  }
  const flags = cmd.opts<ProxyFlags>();
  const logger = createLogger('proxy', { node: flags.nodeName });

  const port = (flag: string, v: string) => {
    try {
      return parsePort(v);
    } catch (err) {
      throw new Error(`${flag}: ${(err as Error).message}`);
    }
  };
  const ingressPorts = flags.ingress ? { http: port('--ingress-http-port', flags.ingressHttpPort), https: port('--ingress-https-port', flags.ingressHttpsPort) } : undefined;
  const serviceCidr = flags.serviceCidr === undefined ? undefined : parseCidr(flags.serviceCidr);
  if (flags.serviceCidr !== undefined && !serviceCidr) throw new Error(`--service-cidr: ${JSON.stringify(flags.serviceCidr)} is not an IPv4 CIDR`);
  const udpIdleTimeoutMs = parseDuration(flags.udpTimeout);
  if (udpIdleTimeoutMs <= 0) throw new Error('--udp-timeout: must be greater than 0');
  const udpMaxFlows = Number(flags.udpMaxFlows);
  if (!Number.isInteger(udpMaxFlows) || udpMaxFlows < 1) throw new Error(`--udp-max-flows: ${JSON.stringify(flags.udpMaxFlows)} is not a positive integer`);

  const kubeconfig = flags.kubeconfig ?? defaultKubeconfigPath();
  const client = ApiClient.fromKubeconfig(kubeconfig);
  const netpol = flags.networkPolicy ? new NetworkPolicyAgent(client, { nodeName: flags.nodeName, logger, iptables: flags.networkPolicyRules }) : undefined;
  const nodePortAddresses = flags.nodeportAddresses
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const [dnsNamespace, dnsName, ...extra] = flags.dnsService.split('/');
  if (!dnsNamespace || !dnsName || extra.length) throw new Error(`--dns-service: ${JSON.stringify(flags.dnsService)} is not namespace/name`);
  const dnsPort = Number(flags.dnsPort);
  if (!Number.isInteger(dnsPort) || dnsPort < 0 || dnsPort > 65535) throw new Error(`--dns-port: ${JSON.stringify(flags.dnsPort)} is not a port`);
  const metrics = new ProxyMetrics();
  // the process series (CPU, memory, event-loop lag) every other component's /metrics has too
  collectDefaultMetrics({ register: metrics.registry });
  const dns = flags.dns
    ? new ClusterDns({
        logger: logger.child({ part: 'dns' }),
        domain: normalizeClusterDomain(flags.clusterDomain),
        upstreams: await dnsUpstreams(flags.dnsUpstream),
        metrics: new DnsMetrics(metrics.registry),
        service: { namespace: dnsNamespace, name: dnsName },
        port: dnsPort,
        bindAddress: flags.dnsBindAddress,
      })
    : undefined;
  const recorder = new EventRecorder(client, 'coxswain-proxy', { host: flags.nodeName, logger });
  const proxier = new Proxier({
    metrics,
    localServices: dns ? new Set([`${dnsNamespace}/${dnsName}`]) : undefined,
    logger,
    admits: netpol ? (c, b, p) => netpol.enforcer.admits(c, b, p) : undefined,
    nodeName: flags.nodeName,
    events: recorder,
    udp: { idleTimeoutMs: udpIdleTimeoutMs, maxFlows: udpMaxFlows },
    addresses: flags.bindClusterIps ? new IpAddressManager('lo', serviceCidr) : new NoopAddressManager(),
    nodePortAddresses,
    localAddresses: interfaceAddresses,
  });

  const services = new Informer<Service>(client, SERVICES, { logger }).on({
    add: (s) => (proxier.upsertService(s), dns?.upsertService(s)),
    update: (_o, s) => (proxier.upsertService(s), dns?.upsertService(s)),
    delete: (s) => (proxier.deleteService(s), dns?.deleteService(s)),
  });
  const endpoints = new Informer<Endpoints>(client, ENDPOINTS, { logger }).on({
    add: (e) => dns?.upsertEndpoints(e),
    update: (_o, e) => dns?.upsertEndpoints(e),
    delete: (e) => dns?.deleteEndpoints(e),
  });
  // Backends come from EndpointSlices that name their Service (kube-proxy's informer selects the same); Endpoints feed DNS only.
  const slices = new Informer<EndpointSlice>(client, ENDPOINT_SLICES, { logger, labelSelector: 'kubernetes.io/service-name' }).on({
    add: (e) => proxier.upsertEndpointSlice(e),
    update: (_o, e) => proxier.upsertEndpointSlice(e),
    delete: (e) => proxier.deleteEndpointSlice(e),
  });

  const health = createHealthServer({ registry: proxier.metrics.registry, lastSync: () => proxier.lastSync });
  await new Promise<void>((resolve, reject) => {
    health.once('error', reject);
    health.listen(Number(flags.port), flags.bindAddress, () => resolve());
  });
  const addr = health.address();
  logger.info({ kubeconfig, server: client.server.origin, health: typeof addr === 'object' && addr ? `${addr.address}:${addr.port}` : addr }, 'proxy starting');

  // Services first: their informers start listing now, so after a restart (kill -9 included)
  // listeners come back while the Ingress server is still starting.
  const informersSynced = Promise.all([services.start(), endpoints.start(), slices.start(), netpol?.start()]);
  informersSynced.catch(() => undefined); // awaited (and so thrown) below, after the Ingress start
  const ingress = ingressPorts
    ? await startIngress({
        client, logger, recorder, nodeName: flags.nodeName, addresses: nodePortAddresses, httpPort: ingressPorts.http, httpsPort: ingressPorts.https,
        lookup: (ref) => proxier.serviceBackends(ref.namespace, ref.service, ref.port),
      })
    : undefined;

  const stopper = new AbortController();
  const stopped = runUntilSignal(logger, async () => {
    stopper.abort();
    await ingress?.stop();
    await recorder.flush();
    await Promise.all([services.stop(), endpoints.stop(), slices.stop(), netpol?.stop()]);
    await dns?.stop();
    await proxier.stop();
    await new Promise<void>((r) => health.close(() => r()));
    client.close();
    logger.info('proxy stopped');
  });

  // Both informers synced: one full reconcile before reporting healthy.
  await informersSynced;
  if (!stopper.signal.aborted) {
    await proxier.adoptOwnedAddresses();
    await proxier.sync();
    dns?.retryNow();
    logger.info({ listeners: proxier.status().length }, 'proxy synced');
  }
  // Resolves once a signal has stopped everything.
  await stopped;
}
