/**
 * Issue 13, NetworkPolicy, end to end on one `coxswain up` cluster (real
 * scheduler, kubelet, proxy and Docker) with the real kubectl: busybox httpd
 * pods in two namespaces, traffic tried from inside pods with `wget` both to
 * pod IPs (filtered by the proxy's iptables chains; same-node traffic is
 * bridged) and to a ClusterIP (checked by the proxy before it dials). A
 * default-deny policy blocks; a policy naming a namespace and pod, on a named
 * port, lets exactly that client in; an egress ipBlock with an except blocks
 * one destination; replies to a denied pod's own connections still come
 * back; deleting the policies restores everything and removes the chains.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chainPrefix } from '../proxy/netpol/rules';
import { kubectlFor } from './lib/kubectl';
import { startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';

const NODE = 'cxnp-node';
const SERVICE_CIDR = '10.167.0.0/16';
const CLUSTER_CIDR = '10.217.0.0/16';
const NODE_PORTS = '30900-30949';

/** An httpd on 8080 (container port `http`) and on 9090 (unnamed), serving the pod's name. */
const server = (ns: string, name: string, labels: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {${labels}}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: httpd
    image: busybox:1.36
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'mkdir -p /www && echo ${name} > /www/index.html && httpd -p 9090 -h /www && exec httpd -f -p 8080 -h /www']
    ports:
    - {name: http, containerPort: 8080}
    - {containerPort: 9090}
`;

const MANIFEST = [
  'apiVersion: v1\nkind: Namespace\nmetadata: {name: np-a}\n',
  'apiVersion: v1\nkind: Namespace\nmetadata: {name: np-b}\n',
  server('np-a', 'web', 'app: web'),
  server('np-a', 'neighbour', 'app: neighbour'),
  server('np-b', 'client', 'app: client'),
  server('np-b', 'other', 'app: other'),
  `apiVersion: v1
kind: Service
metadata: {name: web, namespace: np-a}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
`,
].join('---\n');

const DENY_ALL_INGRESS = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: np-a}
spec:
  podSelector: {}
`;

const ALLOW_CLIENT = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-client, namespace: np-a}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: np-b}}
      podSelector: {matchLabels: {app: client}}
    ports:
    - port: http
`;

const egressExcept = (webIP: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-egress, namespace: np-b}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock: {cidr: ${CLUSTER_CIDR}, except: [${webIP}/32]}
`;

/** The host filter table (`iptables -S`), without the nft/legacy warning on stderr. */
const iptablesRules = () => execFileSync('iptables', ['-w', '-S'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

describe('NetworkPolicy: enforced on pod IPs and ClusterIPs', { timeout: 5 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;
  const ips: Record<string, string> = {};
  let clusterIP = '';
  const { k, kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache }));

  /** Whether `from` (`ns/pod`) gets the page at `url` from inside its pod (2 s to connect and answer). */
  async function reaches(from: string, url: string): Promise<boolean> {
    const [ns, pod] = from.split('/');
    const r = await k(['-n', ns!, 'exec', pod!, '--', 'timeout', '2', 'wget', '-qO-', url], { timeoutMs: 20_000 });
    return r.code === 0 && r.stdout.trim().length > 0;
  }
  /** Waits (policies apply asynchronously) until `from` reaches `url` exactly when `want`. */
  const expect = (from: string, url: string, want: boolean) =>
    waitFor(`${from} ${want ? 'reaches' : 'is blocked from'} ${url}`, async () => (await reaches(from, url)) === want, 20_000, 200);
  const pod = (name: string, port = 8080) => `http://${ips[name]}:${port}/`;
  const svc = () => `http://${clusterIP}/`;

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-cxnp-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    await kok(['apply', '-f', '-'], { input: MANIFEST });
    for (const [ns, name] of [['np-a', 'web'], ['np-a', 'neighbour'], ['np-b', 'client'], ['np-b', 'other']]) {
      await kok(['-n', ns!, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=90s'], { timeoutMs: 100_000 });
      ips[name!] = await jp(['-n', ns!, 'get', 'pod', name!], '{.status.podIP}');
    }
    clusterIP = await jp(['-n', 'np-a', 'get', 'svc', 'web'], '{.spec.clusterIP}');
    await waitFor('web Service endpoints', async () => (await jp(['-n', 'np-a', 'get', 'endpoints', 'web'], '{.subsets[0].addresses[0].ip}')) === ips.web, 30_000, 200);
  });

  after(async () => {
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
    // The proxy keeps its rules across restarts by design; a torn-down test node's are removed here.
    const prefix = chainPrefix(NODE);
    const rules = iptablesRules().split('\n');
    for (const l of rules.filter((r) => r.startsWith('-A FORWARD') && r.includes(prefix))) {
      execFileSync('iptables', ['-w', '-D', ...l.slice(3).split(' ').map((t) => t.replace(/^"|"$/g, ''))], { stdio: 'ignore' });
    }
    const chains = rules.map((r) => /^-N (\S+)/.exec(r)?.[1]).filter((c): c is string => !!c && c.startsWith(prefix));
    for (const c of chains) execFileSync('iptables', ['-w', '-F', c], { stdio: 'ignore' });
    for (const c of chains) execFileSync('iptables', ['-w', '-X', c], { stdio: 'ignore' });
  });

  it('without a policy every pod reaches web, by pod IP and by ClusterIP', async () => {
    assert.equal(await reaches('np-b/client', pod('web')), true);
    assert.equal(await reaches('np-b/other', svc()), true);
    assert.equal(await reaches('np-a/neighbour', pod('web', 9090)), true);
  });

  it('a default-deny ingress policy blocks pods of both namespaces, but not the node, nor replies to the pod\'s own connections', async () => {
    await kok(['apply', '-f', '-'], { input: DENY_ALL_INGRESS });
    await expect('np-b/client', pod('web'), false);
    await expect('np-b/client', svc(), false);
    await expect('np-a/neighbour', pod('web'), false);
    // Node traffic (kubelet probes, the proxy) stays allowed.
    const body = await new Promise<string>((resolve, reject) => {
      http.get(pod('web'), { timeout: 3000 }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve(b.trim()));
      }).on('error', reject);
    });
    assert.equal(body, 'web');
    // web is isolated for ingress; the answers to its own request come back all the same.
    assert.equal(await reaches('np-a/web', pod('client')), true);
  });

  it('a policy for one namespace+pod on a named port lets exactly that client in', async () => {
    await kok(['apply', '-f', '-'], { input: ALLOW_CLIENT });
    await expect('np-b/client', pod('web'), true);
    await expect('np-b/client', svc(), true);
    await expect('np-b/client', pod('web', 9090), false);
    await expect('np-b/other', pod('web'), false);
    await expect('np-b/other', svc(), false);
    await expect('np-a/neighbour', pod('web'), false);
  });

  it('an egress ipBlock with an except keeps the client from web (pod IP and ClusterIP) and nowhere else', async () => {
    await kok(['apply', '-f', '-'], { input: egressExcept(ips.web!) });
    await expect('np-b/client', pod('web'), false);
    await expect('np-b/client', svc(), false);
    await expect('np-b/client', pod('other'), true);
  });

  it('deleting the policies restores traffic and removes the node\'s chains', async () => {
    await kok(['-n', 'np-a', 'delete', 'networkpolicy', '--all']);
    await kok(['-n', 'np-b', 'delete', 'networkpolicy', '--all']);
    await expect('np-b/other', pod('web'), true);
    await expect('np-b/client', svc(), true);
    await expect('np-a/neighbour', pod('web', 9090), true);
    const prefix = chainPrefix(NODE);
    await waitFor('no CXNP chain of the node left', () => !iptablesRules().includes(prefix), 10_000, 100);
    assert.equal((await k(['get', 'networkpolicy', '-A', '-o', 'name'])).stdout.trim(), '');
  });
});
