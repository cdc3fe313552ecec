/**
 * pods/log, pods/exec and pods/portforward end to end: the real kubectl 1.32 against a
 * whole `coxswain up` cluster (apiserver → kubelet gRPC with mutual TLS → Docker), plus
 * the kubelet API's own mTLS checks and Stats.
 *
 * Runs on its own ports, node name and CIDRs (logs-node, 10.113.0.0/16, 10.246.0.0/16)
 * beside the other e2e tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import WebSocket from 'ws';
import { createCA, issueCert } from '../lib/pki';
import { KubeletClientPool } from '../kubelet/api/client';
import { startUp, type UpCluster } from './lib/up';
import { containersWithLabels, dockerCleanup } from './lib/docker';
import { waitFor } from './lib/util';

const NODE = 'logs-node';
const SERVICE_CIDR = '10.113.0.0/16';
const CLUSTER_CIDR = '10.246.0.0/16';

interface Run { code: number | null; stdout: string; stderr: string }

function kubectl(kubeconfig: string, cacheDir: string, args: string[], input?: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(input ?? '');
  });
}

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

const PODS = `
apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo start; sleep 0.3; i=0; while true; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.5; done"]
  - name: side
    image: busybox:1.36
    command: ["sh", "-c", "echo side-start; exec sleep 3600"]
---
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: ["sh", "-c", "echo run-$(cat /proc/sys/kernel/random/uuid); sleep 1; exit 1"]
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: httpd
    image: busybox:1.36
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www"]
`;

describe('kubectl logs / exec / port-forward through the kubelet API', { skip: !hasKubectl ? 'kubectl not installed' : undefined, timeout: 300_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;
  let kc: string;
  const k = (args: string[], input?: string, timeoutMs?: number) => kubectl(kc, cache, args, input, timeoutMs);

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-streaming-'));
    cache = path.join(home, 'kube-cache');
    cluster = await startUp({ home: path.join(home, 'home'), nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: '31200-31300', readyTimeoutMs: 120_000 });
    kc = cluster.kubeconfig;
    await writeFile(path.join(home, 'pods.yaml'), PODS);
    const r = await k(['apply', '-f', path.join(home, 'pods.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    const w = await k(['wait', '--for=condition=Ready', 'pod/talker', 'pod/web', '--timeout=90s'], undefined, 100_000);
    assert.equal(w.code, 0, w.stderr);
  });

  after(async () => {
    await cluster?.interrupt().catch(() => undefined);
    // The kubelet leaves containers running when it stops: remove this node's.
    await dockerCleanup(await containersWithLabels([`coxswain.node=${NODE}`]).catch(() => []), [`coxswain-${NODE}`]);
    if (home && !process.env.COXSWAIN_KEEP_TEST_DIRS) await rm(home, { recursive: true, force: true });
  });

  test('the node publishes its kubelet API port', async () => {
    const r = await k(['get', 'node', NODE, '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Number(r.stdout) > 0 && Number(r.stdout) !== 10250, `port ${r.stdout}`);
  });

  test('logs: all, --tail, --timestamps, --limit-bytes, stdout and stderr interleaved', async () => {
    await waitFor('a few lines of output', async () => (await k(['logs', 'talker', '-c', 'main'])).stdout.includes('line 3'), 30_000, 300);
    const all = await k(['logs', 'talker', '-c', 'main']);
    assert.equal(all.code, 0, all.stderr);
    // (Docker keeps stdout and stderr in order each, not always with each other.)
    assert.match(all.stdout, /^start\n/);
    assert.match(all.stdout, /\nline 0\n/);
    assert.match(all.stdout, /\nerr 0\n/);
    const tail = await k(['logs', 'talker', '-c', 'main', '--tail=2']);
    assert.equal(tail.stdout.trim().split('\n').length, 2, tail.stdout);
    const ts = await k(['logs', 'talker', '-c', 'main', '--tail=1', '--timestamps']);
    assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z (line|err) \d+\n$/);
    const lim = await k(['logs', 'talker', '-c', 'main', '--limit-bytes=4']);
    assert.equal(lim.stdout, 'star');
    const since = await k(['logs', 'talker', '-c', 'main', '--since=1s']);
    assert.equal(since.code, 0, since.stderr);
    assert.ok(!since.stdout.includes('start\n'), since.stdout);
    // kubectl defaults to the first container and says so
    const dflt = await k(['logs', 'talker']);
    assert.match(dflt.stderr, /Defaulted container "main" out of: main, side/);
    const side = await k(['logs', 'talker', '-c', 'side']);
    assert.equal(side.stdout, 'side-start\n');
  });

  test('logs: 400s like Kubernetes for an ambiguous or unknown container', async () => {
    const none = await k(['get', '--raw', '/api/v1/namespaces/default/pods/talker/log']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /a container name must be specified for pod talker, choose one of: \[main side\]/);
    const bad = await k(['logs', 'talker', '-c', 'nope']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /container nope is not valid for pod talker/);
    const prev = await k(['logs', 'talker', '-c', 'side', '--previous']);
    assert.notEqual(prev.code, 0);
    assert.match(prev.stderr, /BadRequest.*previous terminated container "side" in pod "talker" not found/);
    const missing = await k(['logs', 'no-such-pod']);
    assert.match(missing.stderr, /NotFound/);
  });

  test('logs -f streams new lines as they are written', async () => {
    const p = spawn('kubectl', ['--kubeconfig', kc, '--cache-dir', cache, 'logs', '-f', 'talker', '-c', 'main', '--tail=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    try {
      const first = await waitFor('the first followed line', () => /(line|err) (\d+)/.exec(out)?.[2], 20_000);
      await waitFor('a newer line', () => [...out.matchAll(/line (\d+)/g)].some((m) => Number(m[1]) >= Number(first) + 2), 20_000);
      assert.equal(p.exitCode, null, 'logs -f keeps the stream open');
    } finally {
      p.kill('SIGINT');
    }
  });

  test('logs --previous shows the instance before a restart', async () => {
    const restarted = await waitFor('crasher to restart', async () => {
      const r = await k(['get', 'pod', 'crasher', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}']);
      return Number(r.stdout) >= 1 ? Number(r.stdout) : undefined;
    }, 90_000, 500);
    assert.ok(restarted >= 1);
    const prev = await waitFor('previous logs', async () => {
      const r = await k(['logs', 'crasher', '--previous']);
      return r.code === 0 && /^run-[0-9a-f-]+\n$/.test(r.stdout) ? r.stdout : undefined;
    }, 30_000, 500);
    const cur = await waitFor('current logs', async () => {
      const r = await k(['logs', 'crasher']);
      return r.code === 0 && /^run-/.test(r.stdout) ? r.stdout : undefined;
    }, 30_000, 500);
    assert.notEqual(prev, cur, 'previous and current are different instances');
  });

  test('exec: output, exit codes, stdin', async () => {
    const hi = await k(['exec', 'talker', '-c', 'main', '--', 'echo', 'hi']);
    assert.equal(hi.code, 0, hi.stderr);
    assert.equal(hi.stdout, 'hi\n');
    const both = await k(['exec', 'talker', '-c', 'main', '--', 'sh', '-c', 'echo out; echo oops >&2']);
    assert.equal(both.stdout, 'out\n');
    assert.equal(both.stderr, 'oops\n');
    const three = await k(['exec', 'talker', '-c', 'main', '--', 'sh', '-c', 'exit 3']);
    assert.equal(three.code, 3);
    assert.match(three.stderr, /command terminated with exit code 3/);
    const stdin = await k(['exec', '-i', 'talker', '-c', 'main', '--', 'sh', '-c', 'tr a-z A-Z; echo eof-seen'], 'hello stdin\n');
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.equal(stdin.stdout, 'HELLO STDIN\neof-seen\n');
    const big = 'x'.repeat(200_000);
    const wc = await k(['exec', '-i', 'talker', '-c', 'main', '--', 'wc', '-c'], big);
    assert.equal(wc.stdout.trim(), '200000');
    const nocmd = await k(['exec', 'talker', '-c', 'main', '--', 'no-such-binary']);
    assert.notEqual(nocmd.code, 0);
    const badc = await k(['exec', 'talker', '-c', 'nope', '--', 'true']);
    assert.notEqual(badc.code, 0);
    assert.match(badc.stderr, /container nope is not valid for pod talker/);
  });

  // (Docker engines before API 1.42 ignore exec ConsoleSize: the kubelet resizes right after the
  // start, so a command that asks for the size within microseconds may still see 0x0; hence the sleep.)
  test('exec -it: a TTY with the terminal size and the exit code', { skip: !hasScript ? '`script` (util-linux) not installed' : undefined }, async () => {
    const cmd = `stty cols 100 rows 30; kubectl --kubeconfig ${kc} --cache-dir ${cache} exec -it talker -c main -- sh -c 'tty; sleep 0.5; stty size; exit 7'`;
    const r = await new Promise<Run>((resolve) => {
      const p = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      p.stdout.on('data', (c) => (stdout += c));
      const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
      p.on('exit', (code) => {
        clearTimeout(t);
        resolve({ code, stdout, stderr: '' });
      });
    });
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assert.match(r.stdout, /30 100/);
    assert.equal(r.code, 7, r.stdout);
  });

  test('port-forward over WebSocket (client-node protocol v4.channel.k8s.io)', async () => {
    const kcText = await readFile(kc, 'utf8');
    const field = (name: string) => Buffer.from(new RegExp(`${name}: (\\S+)`).exec(kcText)![1], 'base64');
    const server = new RegExp('server: (\\S+)').exec(kcText)![1];
    const ws = new WebSocket(`${server.replace(/^https/, 'wss')}/api/v1/namespaces/default/pods/web/portforward?ports=8080`, ['v4.channel.k8s.io'], {
      ca: field('certificate-authority-data'), cert: field('client-certificate-data'), key: field('client-key-data'),
    });
    const frames: Buffer[] = [];
    ws.on('message', (d: Buffer) => frames.push(Buffer.from(d)));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    assert.equal(ws.protocol, 'v4.channel.k8s.io');
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('GET / HTTP/1.0\r\nHost: web\r\n\r\n')]));
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    await waitFor('the HTTP answer through the tunnel', () => Buffer.concat(frames.filter((f) => f[0] === 0).map((f) => f.subarray(1))).toString().includes('hello-from-web'), 20_000);
    // the first frame of each channel carries the port, little endian
    const firstData = frames.find((f) => f[0] === 0)!;
    const firstErr = frames.find((f) => f[0] === 1)!;
    assert.equal(firstData.readUInt16LE(1), 8080);
    assert.equal(firstErr.readUInt16LE(1), 8080);
    await closed; // httpd closes after the HTTP/1.0 answer; the tunnel closes with it
  });

  test('kubelet API: mutual TLS only for the cluster CA, only the apiserver identity, and Stats', async () => {
    const pki = path.join(cluster.home, 'pki');
    const ca = await readFile(path.join(pki, 'ca.crt'));
    const portOut = await k(['get', 'node', NODE, '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port} {.status.addresses[?(@.type=="InternalIP")].address}']);
    const [port, ip] = portOut.stdout.split(' ');
    const node = { metadata: { name: NODE }, status: { addresses: [{ type: 'InternalIP', address: ip }], daemonEndpoints: { kubeletEndpoint: { Port: Number(port) } } } };
    const stats = (pool: KubeletClientPool, name = 'talker') => new Promise<{ err?: grpc.ServiceError; res?: any }>((resolve) => {
      pool.forNode(node).Stats({ pod: { namespace: 'default', name } }, { deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, res: any) => resolve({ err: err ?? undefined, res }));
    });
    const apiserver = new KubeletClientPool({ ca, cert: await readFile(path.join(pki, 'apiserver-kubelet-client.crt')), key: await readFile(path.join(pki, 'apiserver-kubelet-client.key')) });
    const ok = await stats(apiserver);
    const web = await stats(apiserver, 'web');
    apiserver.close();
    assert.equal(ok.err, undefined, ok.err?.details);
    const pod = ok.res.pods.find((p: any) => p.pod.name === 'talker');
    assert.deepEqual(pod.containers.map((c: any) => c.name).sort(), ['main', 'side']);
    assert.ok(pod.cpu.usage_core_nano_seconds > 0);
    assert.ok(pod.memory.working_set_bytes > 0);
    // The web pod's eth0 (wired by the kubelet) carried the port-forwarded HTTP exchanges above.
    const webNet = web.res?.pods?.find((p: any) => p.pod.name === 'web')?.network;
    assert.ok(Number(webNet?.rx_bytes) > 0 && Number(webNet?.tx_bytes) > 0, JSON.stringify(webNet));

    const scheduler = new KubeletClientPool({ ca, cert: await readFile(path.join(pki, 'scheduler.crt')), key: await readFile(path.join(pki, 'scheduler.key')) });
    const denied = await stats(scheduler);
    scheduler.close();
    assert.equal(denied.err?.code, grpc.status.PERMISSION_DENIED);

    const otherCa = await createCA('someone-else');
    const stranger = await issueCert(otherCa, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], client: true });
    const foreign = new KubeletClientPool({ ca, cert: stranger.cert, key: stranger.key });
    const refused = await stats(foreign);
    foreign.close();
    assert.equal(refused.err?.code, grpc.status.UNAVAILABLE, `a certificate from another CA is refused at the handshake (${refused.err?.details})`);
  });
});
