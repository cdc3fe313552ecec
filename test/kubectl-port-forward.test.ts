/**
 * Issue 15: the real `kubectl port-forward` (1.32) against a `coxswain up` cluster, both ways
 * kubectl speaks it: SPDY tunnelled in a WebSocket (its default) and the plain
 * `Upgrade: SPDY/3.1` it falls back to (forced with KUBECTL_PORT_FORWARD_WEBSOCKETS=false).
 * Through the forwarded port: sequential and concurrent HTTP requests, a 1 MiB download, a
 * 1 MiB upload counted by the pod, and a port nothing listens on (kubectl prints the
 * kubelet's error and, as kubectl 1.32 does against any cluster, ends the session).
 *
 * Own node name, CIDRs and NodePort range (pf-node, 10.139.0.0/16, 10.239.0.0/16).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startUp, type UpCluster } from './lib/up';
import { containersWithLabels, dockerCleanup } from './lib/docker';
import { waitFor } from './lib/util';

const NODE = 'pf-node';
const SERVICE_CIDR = '10.139.0.0/16';
const CLUSTER_CIDR = '10.239.0.0/16';
const MIB = 1024 * 1024;

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

const OBJECTS = `
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: httpd
    image: busybox:1.36
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && yes 0123456789abcdef | head -c ${MIB} > /www/big && exec httpd -f -p 80 -h /www"]
  - name: counter
    image: busybox:1.36
    command: ["nc", "-ll", "-p", "9000", "-e", "wc", "-c"]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 8081, targetPort: 80}
`;

/** The bytes of /www/big in the pod. */
const BIG = Buffer.from('0123456789abcdef\n'.repeat(MIB / 17 + 1)).subarray(0, MIB);

interface Forward {
  proc: ChildProcess;
  /** the local port of the first remote port */
  port: number;
  /** remote port as asked → local port */
  ports: Map<number, number>;
  stdout(): string;
  stderr(): string;
  stop(): Promise<void>;
}

function get(port: number, p: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${p} through port ${port} timed out`)));
    req.on('error', reject);
  });
}

/** Sends `data`, half-closes, and returns all the peer sent back before it closed. */
function exchange(port: number, data: Buffer): Promise<{ reply: Buffer; error?: Error }> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    s.setTimeout(20_000, () => s.destroy(new Error('timed out')));
    s.on('connect', () => s.end(data));
    s.on('data', (c: Buffer) => chunks.push(c));
    let error: Error | undefined;
    s.on('error', (e) => (error = e));
    s.on('close', () => resolve({ reply: Buffer.concat(chunks), error }));
  });
}

describe('kubectl port-forward (SPDY over WebSocket, and plain SPDY)', { skip: !hasKubectl ? 'kubectl not installed' : undefined, timeout: 180_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;
  const forwards: Forward[] = [];

  const kubectl = (args: string[]) => spawnSync('kubectl', ['--kubeconfig', cluster.kubeconfig, '--cache-dir', cache, ...args], { encoding: 'utf8', timeout: 100_000 });

  /** Starts `kubectl port-forward <target> :<remote>` and waits for its "Forwarding from" line. */
  async function forward(target: string, remote: number | number[], env: Record<string, string> = {}): Promise<Forward> {
    const remotes = typeof remote === 'number' ? [remote] : remote;
    const proc = spawn('kubectl', ['--kubeconfig', cluster.kubeconfig, '--cache-dir', cache, '-v=4', 'port-forward', target, ...remotes.map((r) => `:${r}`)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout!.on('data', (c) => (out += c));
    proc.stderr!.on('data', (c) => (err += c));
    const f: Forward = {
      proc,
      port: 0,
      ports: new Map(),
      stdout: () => out,
      stderr: () => err,
      stop: async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
          const exited = new Promise((r) => proc.once('exit', r));
          proc.kill('SIGINT');
          await exited;
        }
      },
    };
    forwards.push(f);
    await waitFor(`kubectl port-forward ${target} listening`, () => {
      if (proc.exitCode !== null) throw new Error(`kubectl port-forward exited ${proc.exitCode}: ${err}`);
      // one line per port, in the order asked (a service port shows as its target port)
      [...out.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> \d+/g)].forEach((m, i) => f.ports.set(remotes[i], Number(m[1])));
      f.port = f.ports.get(remotes[0]) ?? 0;
      return remotes.every((r) => f.ports.has(r));
    }, 30_000, 50);
    return f;
  }

  /** What a user checks through a forwarded port: the page, several times, at once, and a big file. */
  async function checkHttp(f: Forward): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const r = await get(f.port, '/');
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'hello-from-web\n');
    }
    const many = await Promise.all(Array.from({ length: 8 }, () => get(f.port, '/')));
    for (const r of many) assert.equal(r.body.toString(), 'hello-from-web\n');
    const t0 = process.hrtime.bigint();
    const big = await get(f.port, '/big');
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.equal(big.status, 200);
    assert.equal(big.body.length, MIB);
    assert.equal(createHash('sha256').update(big.body).digest('hex'), createHash('sha256').update(BIG).digest('hex'));
    console.log(`# 1 MiB through kubectl port-forward in ${ms.toFixed(0)} ms`);
  }

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-pf-'));
    cache = path.join(home, 'kube-cache');
    cluster = await startUp({ home: path.join(home, 'home'), nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: '30750-30799', readyTimeoutMs: 90_000 });
    await writeFile(path.join(home, 'objects.yaml'), OBJECTS);
    const r = kubectl(['apply', '-f', path.join(home, 'objects.yaml')]);
    assert.equal(r.status, 0, r.stderr);
    const w = kubectl(['wait', '--for=condition=Ready', 'pod/web', '--timeout=90s']);
    assert.equal(w.status, 0, w.stderr);
  });

  after(async () => {
    for (const f of forwards) await f.stop();
    await cluster?.interrupt().catch(() => undefined);
    await dockerCleanup(await containersWithLabels([`coxswain.node=${NODE}`]).catch(() => []), [`coxswain-${NODE}`]);
    if (home && !process.env.COXSWAIN_KEEP_TEST_DIRS) await rm(home, { recursive: true, force: true });
  });

  test('pod/web over the WebSocket tunnel: requests one after another, at once, and 1 MiB', async () => {
    const f = await forward('pod/web', 80);
    await checkHttp(f);
    // kubectl -v=4 names the dialer it kept; it did not fall back to plain SPDY.
    assert.doesNotMatch(f.stderr(), /fallback to secondary dialer/i);
    assert.match(f.stdout(), /Handling connection for \d+/);
    await f.stop();
  });

  test('svc/web over plain SPDY (KUBECTL_PORT_FORWARD_WEBSOCKETS=false): the service port maps to the pod port', async () => {
    const f = await forward('svc/web', 8081, { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' });
    assert.match(f.stdout(), /-> 80\n/);
    await checkHttp(f);
    await f.stop();
  });

  test('1 MiB upload, half-closed, counted by the pod (both protocols)', async () => {
    for (const env of [{}, { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }] as Record<string, string>[]) {
      const f = await forward('pod/web', 9000, env);
      const r = await exchange(f.port, BIG);
      assert.equal(r.reply.toString().trim(), String(MIB), `reply ${JSON.stringify(r.reply.toString())} ${r.error?.message ?? ''}`);
      await f.stop();
    }
  });

  test('RBAC: a user without create on pods/portforward is refused, on both protocols', () => {
    // bob may read pods (kubectl looks the pod up first), not forward to them
    for (const args of [['create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods'], ['create', 'rolebinding', 'bob-reads', '--role=pod-reader', '--user=bob']]) {
      const c = kubectl(args);
      assert.equal(c.status, 0, c.stderr);
    }
    for (const env of [{}, { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }] as Record<string, string>[]) {
      const r = spawnSync('kubectl', ['--kubeconfig', cluster.kubeconfig, '--cache-dir', cache, '--as', 'bob', 'port-forward', 'pod/web', ':80'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /pods "web" is forbidden: User "bob" cannot create resource "pods\/portforward" in API group "" in the namespace "default"/);
    }
  });

  // kubectl 1.32 (client-go) closes the whole session after any message on an error stream
  // and exits with "lost connection to pod", against Kubernetes too: the test checks that.
  test('a port nothing listens on: the connection closes, kubectl prints the kubelet error and exits', async () => {
    for (const env of [{}, { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }] as Record<string, string>[]) {
      const f = await forward('pod/web', [81, 80], env);
      const r = await exchange(f.ports.get(81)!, Buffer.from('GET / HTTP/1.0\r\n\r\n'));
      assert.equal(r.reply.length, 0);
      await waitFor('kubectl exits', () => f.proc.exitCode !== null, 10_000, 50);
      assert.match(f.stderr(), new RegExp(`an error occurred forwarding ${f.ports.get(81)} -> 81: error forwarding port 81 to pod web: connect ECONNREFUSED`));
      assert.match(f.stderr(), /error: lost connection to pod\n$/);
      assert.equal(f.proc.exitCode, 1);
    }
  });
});
