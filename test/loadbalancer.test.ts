/**
 * Issue 13, LoadBalancer Services without a cloud (ServiceLB), with the real kubectl against a
 * `coxswain up` cluster (one real node running the pods, two hollow nodes beside it): a
 * LoadBalancer Service shows its serving nodes' addresses as EXTERNAL-IP and answers on the
 * real node's address at the Service port; a cordoned node leaves the list; with
 * externalTrafficPolicy Local only the node with the endpoint is listed and the proxy serves the
 * healthCheckNodePort (200 with a local endpoint, 503 without); traffic policies Local drop
 * traffic whose only endpoint is on another node; an externalIP is bound on lo and answers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HollowNodes } from './lib/hollow-nodes';
import { kubectlFor } from './lib/kubectl';
import { startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';

const NODE = 'cxs2-lb';
const SERVICE_CIDR = '10.161.0.0/16';
const CLUSTER_CIDR = '10.232.0.0/16';
const NODE_PORTS = '31900-31999';
const HOLLOW = ['lb-h1', 'lb-h2'];
/** TEST-NET-2: bound on lo by the proxy for the externalIP, never routed anywhere. */
const EXTERNAL_IP = '198.51.100.77';

/** GET http://host:port/ from this host: the body, or `ERR <code>` when the connection fails, is dropped or times out. */
function get(host: string, port: number, timeoutMs = 3_000): Promise<{ status: number; body: string } | string> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve(`ERR ${err.code ?? err.message}`));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`ERR ${err.code ?? err.message}`));
  });
}
/** A listener that took the connection and closed it (no endpoint to send it to), not a refusal. */
const dropped = (s: string) => /^ERR /.test(s) && !/ECONNREFUSED|TIMEOUT/.test(s);
const onLo = (ip: string) => execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }).includes(` ${ip}/32 `);
const body = async (host: string, port: number) => {
  const r = await get(host, port);
  return typeof r === 'string' ? r : r.body.trim();
};

const WEB = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {kubernetes.io/hostname: ${NODE}}
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: busybox:1.36
        command: [sh, -c, "mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www"]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`;
const lbService = (name: string, port: number, extra = '') => `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: ${port}, targetPort: 8080}]
${extra}`;

describe('LoadBalancer Services (ServiceLB)', { timeout: 5 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;
  let hollow: HollowNodes;
  let nodeIP: string;
  const { kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache, namespace: 'default' }));
  /** The EXTERNAL-IP column of `kubectl get svc`. */
  const externalIP = async (svc: string) => (await kok(['get', 'svc', svc, '--no-headers'])).trim().split(/\s+/)[3];
  const waitExternalIP = (svc: string, want: string) =>
    waitFor(`${svc} EXTERNAL-IP ${want}`, async () => (await externalIP(svc)) === want, 30_000, 200).catch(async (err) => {
      throw new Error(`${(err as Error).message}; kubectl shows ${await externalIP(svc)}`);
    });

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-lb-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    hollow = new HollowNodes(cluster.client(), HOLLOW);
    await hollow.start();
    await kok(['apply', '-f', '-'], { input: WEB });
    nodeIP = await jp(['get', 'node', NODE], '{.status.addresses[?(@.type=="InternalIP")].address}');
    await waitFor('web ready', async () => (await jp(['get', 'deploy', 'web'], '{.status.readyReplicas}')) === '1', 90_000, 250);
  });

  after(async () => {
    await hollow?.stop();
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
    try {
      execFileSync('ip', ['addr', 'del', `${EXTERNAL_IP}/32`, 'dev', 'lo'], { stdio: 'ignore' });
    } catch {
      // the proxy removed it, as it should
    }
  });

  it('gets the serving nodes’ addresses as EXTERNAL-IP and answers on this node’s address at the Service port; a cordoned node leaves the list', async () => {
    await kok(['apply', '-f', '-'], { input: lbService('web-lb', 18080) });
    await waitExternalIP('web-lb', ['127.0.9.1', '127.0.9.2', nodeIP].sort().join(','));
    assert.equal(await jp(['get', 'svc', 'web-lb'], '{.status.loadBalancer.ingress[0].ipMode}'), 'Proxy');
    await waitFor('web-lb answers on the node address', async () => (await body(nodeIP, 18080)) === 'hello-from-web', 15_000, 100);
    const reasons = await jp(['get', 'events', '--field-selector', 'involvedObject.name=web-lb'], '{.items[*].reason}');
    assert.match(reasons, /EnsuringLoadBalancer/);
    assert.match(reasons, /EnsuredLoadBalancer/);

    await kok(['cordon', 'lb-h2']);
    await waitExternalIP('web-lb', ['127.0.9.1', nodeIP].sort().join(','));
    assert.match(await jp(['get', 'events', '--field-selector', 'involvedObject.name=web-lb'], '{.items[*].reason}'), /UpdatedLoadBalancer/);
  });

  it('externalTrafficPolicy Local: only the node with the endpoint is listed; healthCheckNodePort 200 with it, 503 without', async () => {
    await kok(['apply', '-f', '-'], { input: lbService('web-local', 18081, '  externalTrafficPolicy: Local\n') });
    await waitExternalIP('web-local', nodeIP);
    await waitFor('web-local answers on the node address', async () => (await body(nodeIP, 18081)) === 'hello-from-web', 15_000, 100);
    const hc = Number(await jp(['get', 'svc', 'web-local'], '{.spec.healthCheckNodePort}'));
    assert.ok(hc >= 31900 && hc <= 31999, `healthCheckNodePort ${hc}`);
    let r = await get('127.0.0.1', hc);
    await waitFor('health check 200', async () => typeof (r = await get('127.0.0.1', hc)) !== 'string' && r.status === 200, 15_000, 100);
    assert.deepEqual(JSON.parse((r as { body: string }).body), { service: { namespace: 'default', name: 'web-local' }, localEndpoints: 1, serviceProxyHealthy: true });

    await kok(['scale', 'deploy', 'web', '--replicas', '0']);
    await waitFor('health check 503', async () => typeof (r = await get('127.0.0.1', hc)) !== 'string' && r.status === 503, 30_000, 100);
    assert.equal(JSON.parse((r as { body: string }).body).localEndpoints, 0);
    await waitExternalIP('web-local', '<pending>');
    await kok(['scale', 'deploy', 'web', '--replicas', '1']);
    await waitFor('web ready again', async () => (await jp(['get', 'deploy', 'web'], '{.status.readyReplicas}')) === '1', 60_000, 250);
    await waitExternalIP('web-local', nodeIP);
  });

  it('traffic policies Local drop traffic whose only endpoint is on another node; an externalIP answers from lo', async () => {
    // The ready pod's IP from the Endpoints: the pod scaled away just before may still be listed, Terminating.
    const podIP = await jp(['get', 'endpoints', 'web-local'], '{.subsets[0].addresses[0].ip}');
    assert.match(podIP, /^\d+\.\d+\.\d+\.\d+$/);
    // No selector: the Endpoints say the (real) pod runs on a hollow node.
    await kok(['apply', '-f', '-'], {
      input: `apiVersion: v1
kind: Service
metadata: {name: remote}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  internalTrafficPolicy: Local
  externalIPs: [${EXTERNAL_IP}]
  ports: [{port: 18082, targetPort: 8080}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: remote}
subsets: [{addresses: [{ip: ${podIP}, nodeName: lb-h1}], ports: [{port: 8080}]}]
`,
    });
    const clusterIP = await jp(['get', 'svc', 'remote'], '{.spec.clusterIP}');
    const nodePort = Number(await jp(['get', 'svc', 'remote'], '{.spec.ports[0].nodePort}'));
    // traffic only once the proxy has the addresses on lo (else it would leave the host)
    await waitFor('ClusterIP and externalIP on lo', () => onLo(clusterIP) && onLo(EXTERNAL_IP), 15_000, 100);
    // the listeners are there (an unlisted port would be refused) but have no local endpoint: dropped
    await waitFor('remote ClusterIP listening', async () => dropped(await body(clusterIP, 18082)), 15_000, 100);
    assert.ok(dropped(await body('127.0.0.1', nodePort)), 'NodePort drops');
    assert.ok(dropped(await body(EXTERNAL_IP, 18082)), 'externalIP drops');

    await kok(['patch', 'svc', 'remote', '-p', '{"spec":{"internalTrafficPolicy":"Cluster"}}']);
    await waitFor('ClusterIP answers with internalTrafficPolicy Cluster', async () => (await body(clusterIP, 18082)) === 'hello-from-web', 15_000, 100);
    assert.ok(dropped(await body('127.0.0.1', nodePort)), 'NodePort still Local');

    await kok(['patch', 'endpoints', 'remote', '--type', 'json', '-p', `[{"op":"replace","path":"/subsets/0/addresses/0/nodeName","value":"${NODE}"}]`]);
    await waitFor('NodePort answers once the endpoint is local', async () => (await body('127.0.0.1', nodePort)) === 'hello-from-web', 15_000, 100);
    assert.equal(await body(EXTERNAL_IP, 18082), 'hello-from-web');

    await kok(['delete', 'svc', 'remote']);
    await waitFor('externalIP released from lo', () => !onLo(EXTERNAL_IP), 15_000, 100);
  });
});
