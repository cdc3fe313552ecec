import path from 'node:path';
import { pkiPaths } from '../../lib/pki';
import type { ChildSpec } from '../../lib/supervisor';
import { ingressProxyArgs } from './ingress-args';
import type { AgentOptions, ServerOptions } from './options';

/**
 * The child processes of a server or an agent host, in start order. Pure: from
 * the options and what the join decided (the store's initial cluster), so it can
 * be read and tested on its own. The store and the apiserver listen on the node
 * IP; the store speaks mutual TLS to clients and peers (etcd's model); the
 * scheduler and controllers are leader-elected, as several servers run them.
 */
export interface StoreStart {
  /** etcd's --initial-cluster: name=peerURL,... */
  initialCluster: string;
  state: 'new' | 'existing';
  /** Every store client URL the apiserver may use, this host's first. */
  endpoints: string[];
}

type Child = (name: string, args: string[]) => ChildSpec;

function childMaker(home: string, nodeExe: string, entry: string, dockerSocket?: string): Child {
  const env = { ...process.env, COXSWAIN_HOME: home, ...(dockerSocket ? { DOCKER_HOST: `unix://${dockerSocket}` } : {}) };
  // grpc-js names the peer's IP as the TLS server name, which Node warns about on every connection (DEP0123); the certificates carry IP SANs, so nothing is wrong
  return (name, args) => ({ name, command: nodeExe, args: ['--disable-warning=DEP0123', entry, ...args], env, logFile: path.join(home, 'logs', `${name}.log`) });
}

export const kubeconfigPath = (home: string, name: string) => path.join(home, 'kubeconfigs', `${name}.kubeconfig`);

export function storeUrls(o: Pick<ServerOptions, 'nodeIP' | 'storeClientPort' | 'storePeerPort'>): { client: string; peer: string } {
  return { client: `https://${o.nodeIP}:${o.storeClientPort}`, peer: `https://${o.nodeIP}:${o.storePeerPort}` };
}

function nodeChildren(child: Child, o: ServerOptions | AgentOptions, kubeletKubeconfig: string, proxyKubeconfig: string, tls: { cert: string; key: string; ca: string }): ChildSpec[] {
  return [
    child('kubelet', [
      'kubelet', '--kubeconfig', kubeletKubeconfig, '--node-name', o.nodeName, '--node-ip', o.nodeIP,
      '--address', o.nodeIP, '--port', String(o.kubeletPort), '--cluster-cidr', o.clusterCidr,
      // a folder per node: kubelets that share a filesystem (the test bed's hosts) must not clean up each other's volumes
      '--tmpfs-root', `/run/coxswain/kubelet-${o.nodeName}`,
      '--tls-cert-file', tls.cert, '--tls-private-key-file', tls.key, '--client-ca-file', tls.ca,
      '--cluster-dns', o.clusterDns, '--cluster-domain', o.clusterDomain,
      ...(o.dockerSocket ? ['--docker-socket', o.dockerSocket] : []),
    ]),
    // a server knows the Service range, so its proxy may clean up ClusterIPs an earlier run left behind
    child('proxy', ['proxy', '--kubeconfig', proxyKubeconfig, '--node-name', o.nodeName, ...ingressProxyArgs(o.ingress),
      '--cluster-domain', o.clusterDomain, ...(o.dnsUpstream ? ['--dns-upstream', o.dnsUpstream] : []),
      ...('serviceCidr' in o ? ['--service-cidr', o.serviceCidr] : [])]),
  ];
}

export function serverPlan(o: ServerOptions, store: StoreStart, nodeExe: string, entry: string): ChildSpec[] {
  const child = childMaker(o.home, nodeExe, entry, o.dockerSocket);
  const pki = pkiPaths(o.home);
  const urls = storeUrls(o);
  const specs: ChildSpec[] = [
    child('store', [
      'store', '--name', o.nodeName, '--data-dir', path.join(o.home, 'store'),
      '--listen-client-urls', urls.client, '--advertise-client-urls', urls.client,
      '--listen-peer-urls', urls.peer, '--initial-advertise-peer-urls', urls.peer,
      '--initial-cluster', store.initialCluster, '--initial-cluster-state', store.state,
      // the store's own CA: the cluster CA signs kubelets' certificates, which must not open the store
      '--cert-file', pki.store.cert, '--key-file', pki.store.key, '--trusted-ca-file', pki.storeCa.cert, '--client-cert-auth',
      '--peer-cert-file', pki.store.cert, '--peer-key-file', pki.store.key, '--peer-trusted-ca-file', pki.storeCa.cert, '--peer-client-cert-auth',
      // plain HTTP, so loopback only (kubeadm's choice for etcd's metrics)
      '--listen-metrics-urls', `http://127.0.0.1:${o.storeMetricsPort}`,
    ]),
    child('apiserver', [
      'apiserver',
      '--bind-address', o.nodeIP, '--advertise-address', o.nodeIP, '--secure-port', String(o.apiserverPort),
      '--tls-cert-file', pki.apiserver.cert, '--tls-private-key-file', pki.apiserver.key, '--client-ca-file', pki.ca.cert,
      '--store-endpoints', store.endpoints.join(','),
      '--store-cafile', pki.storeCa.cert, '--store-certfile', pki.storeClient.cert, '--store-keyfile', pki.storeClient.key,
      '--service-cluster-ip-range', o.serviceCidr, '--service-node-port-range', o.nodePortRange,
      '--service-account-key-file', pki.serviceAccount.pub, '--service-account-signing-key-file', pki.serviceAccount.key,
      '--audit-log-path', path.join(o.home, 'logs', 'audit.log'),
      '--kubelet-client-certificate', pki.apiserverKubeletClient.cert, '--kubelet-client-key', pki.apiserverKubeletClient.key,
      '--kubelet-certificate-authority', pki.ca.cert,
      '--server-bootstrap-files', pki.dir,
      '--event-ttl', o.eventTtl,
      ...(o.metricResolution ? ['--metric-resolution', o.metricResolution] : []),
    ]),
    child('scheduler', ['scheduler', '--kubeconfig', kubeconfigPath(o.home, 'scheduler'), '--leader-elect']),
    child('controllers', [
      'controllers', '--kubeconfig', kubeconfigPath(o.home, 'controllers'), '--leader-elect', '--cluster-cidr', o.clusterCidr,
      '--cluster-signing-cert-file', pki.ca.cert, '--cluster-signing-key-file', pki.ca.key,
      '--local-path-dir', path.join(o.home, 'storage'),
    ]),
  ];
  if (!o.disableAgent) {
    const kubelet = pki.kubelet(o.nodeName);
    specs.push(...nodeChildren(child, o, kubeconfigPath(o.home, 'kubelet'), kubeconfigPath(o.home, 'proxy'), { ...kubelet, ca: pki.ca.cert }));
  }
  return specs;
}

/** Where an agent keeps what it got when it joined. */
export function agentPaths(home: string) {
  const dir = path.join(home, 'pki');
  return {
    dir,
    ca: path.join(dir, 'ca.crt'),
    client: { cert: path.join(dir, 'kubelet-client.crt'), key: path.join(dir, 'kubelet-client.key') },
    serving: { cert: path.join(dir, 'kubelet-serving.crt'), key: path.join(dir, 'kubelet-serving.key') },
    kubeconfig: kubeconfigPath(home, 'kubelet'),
    apiservers: path.join(home, 'apiservers.json'),
  };
}

/** An agent runs a kubelet and a proxy; both reach the apiservers through the local balancer, with the node's credentials. */
export function agentPlan(o: AgentOptions, nodeExe: string, entry: string): ChildSpec[] {
  const child = childMaker(o.home, nodeExe, entry, o.dockerSocket);
  const p = agentPaths(o.home);
  return nodeChildren(child, o, p.kubeconfig, p.kubeconfig, { ...p.serving, ca: p.ca });
}
