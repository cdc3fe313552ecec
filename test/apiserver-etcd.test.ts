import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createCA, issueCert } from '../lib/pki';
import { renderKubeconfig } from '../lib/kubeconfig';
import { startEtcd } from './lib/etcd';
import { freePort, waitFor } from './lib/util';

const MAIN = path.resolve(__dirname, '../apiserver/main.js');

function kubectl(kubeconfig: string, cacheDir: string, args: string[], input?: string, timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], { timeout: timeoutMs, env: { ...process.env, KUBECACHEDIR: cacheDir } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0, stdout, stderr });
    });
    if (input !== undefined) { p.stdin!.write(input); p.stdin!.end(); }
  });
}

test('apiserver over HTTPS on real etcd, driven by kubectl 1.32', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cox-apiserver-'));
  const etcd = await startEtcd(1);
  let api: ChildProcess | undefined;
  const logs: string[] = [];
  try {
    const ca = await createCA('coxswain-test-ca');
    const serving = await issueCert(ca, { commonName: 'kube-apiserver', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], server: true });
    const admin = await issueCert(ca, { commonName: 'admin', organizations: ['system:masters'], client: true });
    const files = { ca: path.join(dir, 'ca.crt'), cert: path.join(dir, 'apiserver.crt'), key: path.join(dir, 'apiserver.key') };
    writeFileSync(files.ca, ca.cert);
    writeFileSync(files.cert, serving.cert);
    writeFileSync(files.key, serving.key);
    const port = await freePort();
    api = spawn(process.execPath, [MAIN, '--bind-address', '127.0.0.1', '--secure-port', String(port), '--tls-cert-file', files.cert, '--tls-private-key-file', files.key,
      '--client-ca-file', files.ca, '--store-endpoints', etcd.endpoints.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
    api.stdout!.on('data', (d) => logs.push(String(d)));
    api.stderr!.on('data', (d) => logs.push(String(d)));
    const server = `https://127.0.0.1:${port}`;
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, renderKubeconfig({ name: 'test', server, ca: ca.cert, cert: admin.cert, key: admin.key, user: 'admin' }));
    const cache = path.join(dir, 'cache');
    const k = (args: string[], input?: string, timeoutMs?: number) => kubectl(kubeconfig, cache, args, input, timeoutMs);

    const get = (p: string, withCert: boolean) => new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = https.get(`${server}${p}`, { ca: ca.cert, ...(withCert ? { cert: admin.cert, key: admin.key } : {}) }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
    await waitFor('apiserver ready', async () => (await get('/readyz', false)).code === 200, 30_000);

    await t.test('no client certificate → 401 Status', async () => {
      const r = await get('/api/v1/namespaces', false);
      assert.equal(r.code, 401);
      assert.equal(JSON.parse(r.body).reason, 'Unauthorized');
    });

    await t.test('default namespaces and the kubernetes Service exist', async () => {
      const ns = await k(['get', 'ns']);
      assert.equal(ns.code, 0, ns.stderr);
      assert.match(ns.stdout, /^NAME\s+STATUS\s+AGE/m);
      for (const n of ['default', 'kube-system', 'kube-public']) assert.match(ns.stdout, new RegExp(`^${n}\\s+Active`, 'm'));
      const svc = await k(['get', 'svc', 'kubernetes', '-o', 'wide']);
      assert.match(svc.stdout, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR/m);
      assert.match(svc.stdout, /kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP/);
      const ep = await k(['get', 'endpoints', 'kubernetes']);
      assert.match(ep.stdout, new RegExp(`kubernetes\\s+127\\.0\\.0\\.1:${port}`));
    });

    const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata:
  name: solo
  labels: {app: solo}
spec:
  containers:
  - name: c
    image: busybox:1.36
`;
    await t.test('kubectl apply creates, then updates (client-side apply with SMP)', async () => {
      let r = await k(['apply', '-f', '-'], manifest);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /deployment.apps\/web created/);
      assert.match(r.stdout, /service\/web created/);
      assert.match(r.stdout, /pod\/solo created/);
      r = await k(['apply', '-f', '-'], manifest.replace('image: nginx:1.27', 'image: nginx:1.28'));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /deployment.apps\/web configured/);
      assert.match(r.stdout, /service\/web unchanged/);
      r = await k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image} {.metadata.generation}']);
      assert.equal(r.stdout, 'nginx:1.28 2');
      r = await k(['apply', '--server-side', '-f', '-'], manifest.replace('replicas: 2', 'replicas: 3'));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /deployment.apps\/web serverside-applied/);
    });

    await t.test('kubectl get pods,deploy,svc -o wide shows Kubernetes columns', async () => {
      const r = await k(['get', 'pods,deploy,svc', '-o', 'wide']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/m);
      assert.match(r.stdout, /pod\/solo\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+<none>\s+<none>\s+<none>/);
      assert.match(r.stdout, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR/m);
      assert.match(r.stdout, /deployment.apps\/web\s+0\/3\s+0\s+0\s+\S+\s+web\s+nginx:1.27\s+app=web/);
      assert.match(r.stdout, /service\/web\s+NodePort\s+10\.\d+\.\d+\.\d+\s+<none>\s+80:3\d{4}\/TCP\s+\S+\s+app=web/);
    });

    await t.test('get -o yaml, label, scale, errors', async () => {
      let r = await k(['get', 'pod', 'solo', '-o', 'yaml']);
      assert.match(r.stdout, /restartPolicy: Always/);
      assert.match(r.stdout, /phase: Pending/);
      r = await k(['label', 'pod', 'solo', 'tier=x']);
      assert.equal(r.code, 0, r.stderr);
      r = await k(['get', 'pods', '-l', 'tier=x', '-o', 'name']);
      assert.equal(r.stdout.trim(), 'pod/solo');
      r = await k(['scale', 'deployment', 'web', '--replicas=5']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /deployment.apps\/web scaled/);
      r = await k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']);
      assert.equal(r.stdout, '5');
      r = await k(['get', 'pod', 'nope']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Error from server \(NotFound\): pods "nope" not found/);
      r = await k(['apply', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers:\n  - name: c\n');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /The Pod "bad" is invalid: .*spec.containers\[0\].image: Required value/s);
    });

    await t.test('get -w streams Table rows; delete removes', async () => {
      const watch = k(['get', 'pods', '-w', '--request-timeout=6s'], undefined, 15_000);
      await new Promise((r) => setTimeout(r, 1_500));
      const d = await k(['delete', 'pod', 'solo']);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /pod "solo" deleted/);
      const w = await watch;
      assert.match(w.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/m);
      assert.equal((w.stdout.match(/^NAME\s/gm) ?? []).length, 1, 'one header only');
      assert.match(w.stdout, /^solo\s+0\/1\s+Pending/m);
      const g = await k(['get', 'pod', 'solo']);
      assert.match(g.stderr, /NotFound/);
      const dd = await k(['delete', '--ignore-not-found', '-f', '-'], manifest);
      assert.equal(dd.code, 0, dd.stderr);
    });
  } catch (e) {
    console.error(logs.join('').slice(-4000));
    throw e;
  } finally {
    api?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    if (api && api.exitCode === null) api.kill('SIGKILL');
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
