/**
 * bench:portforward — bytes and connections through the real `kubectl port-forward` (1.32)
 * to a busybox httpd pod of a `coxswain up` cluster, both ways kubectl speaks it (SPDY in a
 * WebSocket, its default; plain SPDY, KUBECTL_PORT_FORWARD_WEBSOCKETS=false), next to the
 * baseline in the same run: the same client talking to the pod's IP directly.
 *
 * Path through port-forward: client → kubectl → TLS → apiserver (SPDY session) → gRPC with
 * mutual TLS → kubelet → TCP → pod.
 *
 * Scenarios, each COXSWAIN_BENCH_PF_ROUNDS rounds (default 2) of direct, websocket, spdy:
 *   download   COXSWAIN_BENCH_PF_MIB (default 32) MiB GETs, one at a time, for
 *              COXSWAIN_BENCH_PF_SECONDS (default 4) s: MB/s
 *   requests   one connection per small GET, one at a time (each a new stream pair
 *              through port-forward), for the same time: requests/s and p50/p99 ms
 *
 * Output: JSON lines on stdout; a table on stderr. Everything started is stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import { PODS } from '../lib/resources';
import type { KubeObject } from '../lib/client';
import { startUp, tearDownUp, type UpCluster } from '../test/lib/up';
import { waitFor } from '../test/lib/util';
import { emit, envInt, machineLoad, note, round, sourceRevision, summarize, table } from './lib/report';

const NODE = 'pfb-node';
const SERVICE_CIDR = '10.138.0.0/16';
const CLUSTER_CIDR = '10.238.0.0/16';
const MIB = envInt('COXSWAIN_BENCH_PF_MIB', 32);
const SECONDS = envInt('COXSWAIN_BENCH_PF_SECONDS', 4);
const ROUNDS = envInt('COXSWAIN_BENCH_PF_ROUNDS', 2);

type System = 'direct' | 'websocket' | 'spdy';

/** GETs `p` and counts the body's bytes. */
function download(host: string, port: number, p: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: p, agent: false, timeout: 60_000 }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`GET ${p}: ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${p} timed out`)));
    req.on('error', reject);
  });
}

function portForward(kubeconfig: string, cache: string, websockets: boolean): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cache, 'port-forward', 'pod/bench', ':80'], {
    env: { ...process.env, KUBECTL_PORT_FORWARD_WEBSOCKETS: websockets ? 'true' : 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c) => (out += c));
  proc.stderr!.on('data', (c) => (err += c));
  return waitFor('kubectl port-forward listening', () => {
    if (proc.exitCode !== null) throw new Error(`kubectl port-forward exited: ${err}`);
    const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
    return m ? { proc, port: Number(m[1]) } : undefined;
  }, 30_000, 50);
}

async function main(): Promise<void> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-bench-pf-'));
  const cache = path.join(home, 'kube-cache');
  const forwards: ChildProcess[] = [];
  let cluster: UpCluster | undefined;
  try {
    note(`starting a coxswain up cluster (${NODE})`);
    cluster = await startUp({ home: path.join(home, 'home'), nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: '30700-30749', readyTimeoutMs: 120_000 });
    const client = cluster.client();
    await client.create(PODS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bench', namespace: 'default' },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [{ name: 'httpd', image: 'busybox:1.36', command: ['sh', '-c', `mkdir -p /www && echo ok > /www/index.html && head -c ${MIB * 1024 * 1024} /dev/zero > /www/big && exec httpd -f -p 80 -h /www`] }],
      },
    } as KubeObject, 'default');
    const podIP = await waitFor('pod bench Ready', async () => {
      const p = (await client.get(PODS, 'bench', 'default')) as Pod;
      const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready && p.status?.podIP ? p.status.podIP : undefined;
    }, 90_000, 250);
    await waitFor('httpd answers', () => download(podIP, 80, '/index.html').then(() => true, () => false), 30_000, 200);

    const ws = await portForward(cluster.kubeconfig, cache, true);
    const spdy = await portForward(cluster.kubeconfig, cache, false);
    forwards.push(ws.proc, spdy.proc);
    const targets: Record<System, { host: string; port: number }> = {
      direct: { host: podIP, port: 80 },
      websocket: { host: '127.0.0.1', port: ws.port },
      spdy: { host: '127.0.0.1', port: spdy.port },
    };

    const bytes: Record<System, number> = { direct: 0, websocket: 0, spdy: 0 };
    const bulkSeconds: Record<System, number> = { direct: 0, websocket: 0, spdy: 0 };
    const reqs: Record<System, number[]> = { direct: [], websocket: [], spdy: [] };
    const reqSeconds: Record<System, number> = { direct: 0, websocket: 0, spdy: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      for (const sys of Object.keys(targets) as System[]) {
        const t = targets[sys];
        let t0 = Date.now();
        while (Date.now() - t0 < SECONDS * 1000) bytes[sys] += await download(t.host, t.port, '/big');
        bulkSeconds[sys] += (Date.now() - t0) / 1000;
        t0 = Date.now();
        while (Date.now() - t0 < SECONDS * 1000) {
          const s = process.hrtime.bigint();
          await download(t.host, t.port, '/index.html');
          reqs[sys].push(Number(process.hrtime.bigint() - s) / 1e6);
        }
        reqSeconds[sys] += (Date.now() - t0) / 1000;
        note(`round ${r + 1}/${ROUNDS} ${sys}: done`);
      }
    }

    const rows: (string | number)[][] = [['system', 'download MB/s', 'requests/s', 'request p50 ms', 'request p99 ms']];
    for (const sys of Object.keys(targets) as System[]) {
      const mbps = bytes[sys] / 1e6 / bulkSeconds[sys];
      const s = summarize(reqs[sys]);
      const rps = reqs[sys].length / reqSeconds[sys];
      emit({ bench: 'portforward', system: sys, downloadMBps: round(mbps, 1), requestsPerSecond: round(rps, 1), requestP50Ms: round(s.p50Ms), requestP99Ms: round(s.p99Ms), payloadMiB: MIB, seconds: SECONDS, rounds: ROUNDS });
      rows.push([sys, round(mbps, 1), round(rps, 1), round(s.p50Ms), round(s.p99Ms)]);
    }
    emit({ bench: 'portforward', kind: 'machine', revision: sourceRevision(), ...machineLoad() });
    table(`bench:portforward — kubectl port-forward vs direct (${MIB} MiB downloads; small GETs, one connection each)`, rows);
  } finally {
    for (const p of forwards) p.kill('SIGINT');
    await tearDownUp(cluster, path.join(home, 'home'), NODE, SERVICE_CIDR);
    await rm(home, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
