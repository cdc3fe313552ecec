/**
 * Issue 13, Ingress, with the real kubectl against a `coxswain up` cluster whose proxy serves
 * Ingress on ports of its own: two Deployments (busybox httpd, each serving its own name), an
 * Ingress routing by host and by path (`/v1` is not `/v11`), 404 and then a defaultBackend,
 * TLS from a Secret made by `kubectl create secret tls` (the served certificate is the
 * Secret's, and a new one is picked up), an invalid Secret (Warning event, default
 * certificate), and the ADDRESS `kubectl get ingress` shows. WebSocket pass-through is tested
 * in-process against the same proxy code (proxy/ingress/server.test.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { createCA, issueCert, type KeyPairPem } from '../lib/pki';
import { startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';
import { kubectlFor } from './lib/kubectl';

const NODE = 'ing-node';
const SERVICE_CIDR = '10.163.0.0/16';
const CLUSTER_CIDR = '10.213.0.0/16';
const NODE_PORTS = '30900-30999';
const NS = 'ing';

const app = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: busybox:1.36
        command: [sh, -c, 'for d in / /v1/ /v11/; do mkdir -p /www$d && echo ${name} > /www\${d}index.html; done; exec httpd -f -p 8080 -h /www']
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: 80, targetPort: http}]
`;

const INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  tls:
  - {hosts: [one.test], secretName: one-tls}
  - {hosts: [bad.test], secretName: bad-tls}
  rules:
  - host: one.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: one, port: {number: 80}}}}
      - {path: /v1, pathType: Prefix, backend: {service: {name: two, port: {name: http}}}}
  - host: '*.wild.test'
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: two, port: {number: 80}}}}
`;

describe('Ingress: host and path routing, TLS from Secrets, status address', { timeout: 5 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;
  let httpPort = 0;
  let httpsPort = 0;
  let ca: KeyPairPem;
  const { k, kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache, namespace: NS }));

  /** GET through the Ingress's HTTP port with a Host header: status and body. */
  const get = (host: string, urlPath: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: httpPort, path: urlPath, headers: { Host: host }, agent: false }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
        })
        .on('error', reject);
    });
  const served = (servername: string) =>
    new Promise<X509Certificate>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: httpsPort, servername, rejectUnauthorized: false }, () => {
        const c = s.getPeerX509Certificate();
        s.end();
        if (c) resolve(c);
        else reject(new Error('no certificate'));
      });
      s.on('error', reject);
    });
  const secretFrom = async (name: string, pair: KeyPairPem) => {
    const crt = path.join(home, `${name}-${Date.now()}.crt`);
    const key = path.join(home, `${name}-${Date.now()}.key`);
    await writeFile(crt, pair.cert);
    await writeFile(key, pair.key);
    const manifest = await kok(['create', 'secret', 'tls', name, '--cert', crt, '--key', key, '--dry-run=client', '-o', 'yaml']);
    await kok(['apply', '-f', '-'], { input: manifest });
  };

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-ing-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    httpPort = cluster.ports.ingressHttp!;
    httpsPort = cluster.ports.ingressHttps!;
    await kok(['create', 'namespace', NS]);
    await kok(['apply', '-f', '-'], { input: app('one') + '---\n' + app('two') });
    ca = await createCA('ingress-test-ca');
  });

  after(async () => {
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('the cluster starts with the coxswain IngressClass, marked default', async (t) => {
    const out = await kok(['get', 'ingressclass']);
    t.diagnostic(out);
    assert.match(out, /\ncoxswain\s+coxswain\.io\/ingress\s+<none>\s/);
    assert.equal(await jp(['get', 'ingressclass', 'coxswain'], '{.metadata.annotations.ingressclass\\.kubernetes\\.io/is-default-class}'), 'true');
  });

  it('routes by host and by whole path elements; a wildcard host is one label; 404 when nothing matches', async () => {
    await kok(['apply', '-f', '-'], { input: INGRESS });
    for (const d of ['one', 'two']) await kok(['rollout', 'status', `deployment/${d}`, '--timeout=90s'], { timeoutMs: 100_000 });
    await waitFor('one.test/ served by one', async () => (await get('one.test', '/').catch(() => undefined))?.body === 'one', 60_000, 200);
    await waitFor('one.test/v1/ served by two', async () => (await get('one.test', '/v1/').catch(() => undefined))?.body === 'two', 60_000, 200);
    assert.deepEqual(await get('one.test', '/v11/'), { status: 200, body: 'one' }, '/v11 is not under /v1');
    assert.deepEqual(await get('ONE.test:80', '/v1/index.html'), { status: 200, body: 'two' });
    assert.deepEqual(await get('a.wild.test', '/'), { status: 200, body: 'two' });
    assert.equal((await get('a.b.wild.test', '/')).status, 404);
    assert.equal((await get('other.test', '/')).status, 404);
  });

  it('a defaultBackend takes what no rule matches', async () => {
    await kok(['patch', 'ingress', 'web', '--type=merge', '-p', JSON.stringify({ spec: { defaultBackend: { service: { name: 'two', port: { number: 80 } } } } })]);
    await waitFor('other.test served by the default backend', async () => (await get('other.test', '/')).body === 'two', 15_000, 100);
    assert.deepEqual(await get('one.test', '/'), { status: 200, body: 'one' });
  });

  it('TLS: the certificate of the Secret by SNI, and the new one after the Secret changes', async () => {
    const v1 = await issueCert(ca, { commonName: 'one.test', dnsNames: ['one.test'], server: true });
    await secretFrom('one-tls', v1);
    const serial1 = new X509Certificate(v1.cert).serialNumber;
    await waitFor('the Secret\'s certificate served', async () => (await served('one.test').catch(() => undefined))?.serialNumber === serial1, 15_000, 100);
    // a client that trusts the CA gets the page over HTTPS
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: httpsPort, path: '/', servername: 'one.test', headers: { Host: 'one.test' }, ca: ca.cert, agent: false }, (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(b.trim()));
        })
        .on('error', reject);
    });
    assert.equal(body, 'one');
    const v2 = await issueCert(ca, { commonName: 'one.test', dnsNames: ['one.test'], server: true });
    await secretFrom('one-tls', v2);
    const serial2 = new X509Certificate(v2.cert).serialNumber;
    await waitFor('the updated certificate served', async () => (await served('one.test')).serialNumber === serial2, 15_000, 100);
  });

  it('a Secret that is not a valid certificate: a Warning event, the default certificate, the rest keeps working', async () => {
    const junk = Buffer.from('not a certificate').toString('base64');
    await kok(['apply', '-f', '-'], { input: `apiVersion: v1\nkind: Secret\nmetadata: {name: bad-tls}\ntype: kubernetes.io/tls\ndata: {tls.crt: ${junk}, tls.key: ${junk}}\n` });
    const msg = await waitFor('an InvalidTLSSecret event', async () => (await jp(['get', 'events', '--field-selector', 'involvedObject.name=web,reason=InvalidTLSSecret'], '{.items[*].message}')).match(/bad-tls: data\[tls\.crt\] is not a PEM certificate[^;]*/)?.[0], 15_000, 200);
    assert.match(msg, /^bad-tls: data\[tls\.crt\] is not a PEM certificate/);
    assert.match((await served('bad.test')).subject, /CN=Coxswain Ingress default certificate/);
    assert.equal((await served('one.test')).serialNumber.length > 0, true);
    assert.deepEqual(await get('one.test', '/'), { status: 200, body: 'one' });
  });

  it('kubectl get ingress shows the node\'s address', async (t) => {
    const nodeIP = await jp(['get', 'node', NODE], '{.status.addresses[?(@.type=="InternalIP")].address}');
    assert.ok(nodeIP, 'the node has an InternalIP');
    await waitFor('the Ingress status address', async () => (await jp(['get', 'ingress', 'web'], '{.status.loadBalancer.ingress[*].ip}')) === nodeIP, 15_000, 200);
    const out = await kok(['get', 'ingress', 'web']);
    t.diagnostic(out);
    assert.match(out, new RegExp(`\\nweb\\s+<none>\\s+one\\.test,\\*\\.wild\\.test\\s+${nodeIP.replace(/\./g, '\\.')}\\s+80, 443\\s`));
    assert.equal((await k(['get', 'ingress', 'nosuch'])).code, 1);
  });
});
