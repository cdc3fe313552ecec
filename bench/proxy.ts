/**
 * bench:proxy — the Service proxy's data plane: a real `coxswain proxy` process
 * (against a real apiserver on etcd) forwarding a NodePort on 127.0.0.1 to
 * Node backends in a process of their own (bench/lib/proxy-backends.ts), next
 * to the baseline in the same run: the same client talking to the same
 * backend directly.
 *
 * Scenarios (each COXSWAIN_BENCH_PROXY_SECONDS, default 5 s, direct first, then through the proxy,
 * then, for TCP, through a bare Node relay — bench/lib/proxy-relay.ts, pipe() both ways and
 * nothing else — which shows how much of the cost is Node's data path rather than the proxy):
 *   tcp-bulk-cN     N parallel connections, each downloading 64 MiB then reconnecting: MB/s
 *   tcp-connect-c16 16 closed-loop clients: connect, 64-byte request, 64-byte answer, close: connections/s
 *   udp-echo-c16    16 closed-loop clients (own sockets, so 16 flows): 64-byte datagram and its echo: datagrams/s
 * N = COXSWAIN_BENCH_PROXY_BULK_CONNS (default 1,4). Each scenario runs COXSWAIN_BENCH_PROXY_ROUNDS
 * (default 2) rounds of direct-then-proxy, so drift in the machine's load hits both
 * columns; the rates are over all rounds. COXSWAIN_BENCH_PROXY_ONLY=tcp-connect,udp
 * picks scenarios by name prefix. The CPU time of the load generator, the proxy and
 * the backends per run (from /proc, in cores) is reported next to each result: with
 * two cores and three busy processes, CPU is usually what limits the proxied runs.
 * COXSWAIN_BENCH_PROXY_NODE_ARGS passes Node flags to the proxy (e.g. --cpu-prof).
 *
 * Output: JSON lines (result per scenario and system, a ratio line per scenario,
 * a machine line) on stdout; a table on stderr. Everything started is stopped.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Service } from 'kubernetes-types/core/v1';
import { ENDPOINTS, SERVICES } from '../lib/resources';
import { closedLoop } from './lib/load';
import { ENTRY, freePort, startControlPlane, startProcess, stopProcess, waitFor, type ControlPlane, type Proc } from '../test/lib/cluster';
import { emit, envInt, machineLoad, note, round, sourceRevision, summarize, table, waitQuiet } from './lib/report';

const SECONDS = envInt('COXSWAIN_BENCH_PROXY_SECONDS', 5);
const BULK_CONNS = (process.env.COXSWAIN_BENCH_PROXY_BULK_CONNS ?? '1,4').split(',').map(Number);
const ROUNDS = envInt('COXSWAIN_BENCH_PROXY_ROUNDS', 2);
const ONLY = process.env.COXSWAIN_BENCH_PROXY_ONLY?.split(',');
const REQ = Buffer.alloc(64, 'q');

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

interface Target {
  host: string;
  port: number;
}

interface Run {
  rate: number;
  unit: string;
  ops: number;
  errors: number;
  seconds: number;
  p50Ms?: number;
  p99Ms?: number;
  proxyCpu: number;
  backendCpu: number;
  /** The load generator (this process). */
  clientCpu: number;
  extra?: Record<string, number>;
}

type Measured = Omit<Run, 'proxyCpu' | 'backendCpu' | 'clientCpu'>;

async function measure(pids: { proxy?: number; backend?: number }, fn: () => Promise<Measured>): Promise<Run> {
  const p0 = cpuSeconds(pids.proxy);
  const b0 = cpuSeconds(pids.backend);
  const c0 = process.cpuUsage();
  const r = await fn();
  const c = process.cpuUsage(c0);
  return {
    ...r,
    proxyCpu: round((cpuSeconds(pids.proxy) - p0) / r.seconds),
    backendCpu: round((cpuSeconds(pids.backend) - b0) / r.seconds),
    clientCpu: round((c.user + c.system) / 1e6 / r.seconds),
  };
}

/** N connections, each reading a whole bulk download, reconnecting until the deadline. */
async function tcpBulk(t: Target, conns: number) {
  let bytes = 0;
  let downloads = 0;
  let errors = 0;
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      await new Promise<void>((resolve) => {
        const s = net.connect({ host: t.host, port: t.port });
        s.on('data', (c) => (bytes += c.length));
        s.on('end', () => {
          downloads++;
          s.destroy();
          resolve();
        });
        s.on('error', () => {
          errors++;
          resolve();
        });
      });
    }
  };
  await Promise.all(Array.from({ length: conns }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return { rate: round(bytes / seconds / 1e6), unit: 'MB/s', ops: downloads, errors, seconds: round(seconds), extra: { bytes } };
}

async function tcpConnect(t: Target, clients: number) {
  const r = await closedLoop(clients, Number.MAX_SAFE_INTEGER, SECONDS * 1000, () =>
    new Promise<void>((resolve, reject) => {
      const s = net.connect({ host: t.host, port: t.port, noDelay: true }, () => s.write(REQ));
      let got = 0;
      s.on('data', (c) => (got += c.length));
      s.on('end', () => {
        s.destroy();
        if (got === 64) resolve();
        else reject(new Error(`short answer: ${got} bytes`));
      });
      s.on('error', reject);
    }),
  );
  const sum = summarize(r.latenciesMs);
  return { rate: round(r.ops / r.seconds), unit: 'conn/s', ops: r.ops, errors: r.errors, seconds: round(r.seconds), p50Ms: sum.p50Ms, p99Ms: sum.p99Ms };
}

async function udpEcho(t: Target, clients: number) {
  const socks = await Promise.all(
    Array.from({ length: clients }, async () => {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
      s.connect(t.port, t.host);
      await new Promise<void>((r) => s.once('connect', r));
      return s;
    }),
  );
  let lost = 0;
  const r = await closedLoop(clients, Number.MAX_SAFE_INTEGER, SECONDS * 1000, (c) =>
    new Promise<void>((resolve) => {
      const s = socks[c]!;
      const timer = setTimeout(() => {
        s.removeListener('message', onMsg);
        lost++;
        resolve();
      }, 200);
      const onMsg = () => {
        clearTimeout(timer);
        resolve();
      };
      s.once('message', onMsg);
      s.send(REQ);
    }),
  );
  for (const s of socks) s.close();
  const sum = summarize(r.latenciesMs);
  return { rate: round((r.ops - lost) / r.seconds), unit: 'datagrams/s', ops: r.ops - lost, errors: lost, seconds: round(r.seconds), p50Ms: sum.p50Ms, p99Ms: sum.p99Ms };
}

/** Runs a helper script of bench/lib as a process; resolves with the JSON line it prints once ready. */
async function startHelper<T>(script: string, args: string[] = []): Promise<{ child: ChildProcess; ports: T }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'lib', script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise<T>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => {
      out += c;
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
  return { child, ports };
}

async function nodePortService(cp: ControlPlane, name: string, protocol: 'TCP' | 'UDP', backendPort: number): Promise<number> {
  const svc = (await cp.client.create(SERVICES, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type: 'NodePort', ports: [{ name: 'p', port: 7000, protocol }] },
  })) as Service;
  await cp.client.create(ENDPOINTS, {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace: 'default' },
    subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'p', port: backendPort, protocol }] }],
  });
  return svc.spec!.ports![0]!.nodePort!;
}

async function main(): Promise<void> {
  const quiet = await waitQuiet();
  const subnet = `10.111.${1 + Math.floor(Math.random() * 254)}`;
  const backends = await startHelper<{ bulk: number; rr: number; echo: number }>('proxy-backends.js');
  const relay = await startHelper<Record<string, number>>('proxy-relay.js', [String(backends.ports.bulk), String(backends.ports.rr)]);
  let cp: ControlPlane | undefined;
  let proxy: Proc | undefined;
  const stop = async () => {
    backends.child.kill('SIGTERM');
    relay.child.kill('SIGTERM');
    if (proxy) await stopProcess(proxy);
    await cp?.stop();
    for (const line of execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }).split('\n')) {
      const m = new RegExp(`inet (${subnet.replace(/\./g, '\\.')}\\.\\d+)/32`).exec(line);
      if (m) execFileSync('ip', ['addr', 'del', `${m[1]}/32`, 'dev', 'lo']);
    }
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    cp = await startControlPlane({ store: 'etcd', serviceCidr: `${subnet}.0/24` });
    const healthPort = await freePort();
    // Node flags for the proxy process, e.g. COXSWAIN_BENCH_PROXY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (written when it stops)
    const nodeArgs = (process.env.COXSWAIN_BENCH_PROXY_NODE_ARGS ?? '').split(' ').filter(Boolean);
    proxy = startProcess('proxy', cp.dir, [...nodeArgs, ENTRY, 'proxy', '--kubeconfig', cp.componentKubeconfig('proxy'), '--port', String(healthPort), '--nodeport-addresses', '127.0.0.1', '--node-name', 'bench-node', '--service-cidr', `${subnet}.0/24`], { command: process.execPath });
    const np = {
      bulk: await nodePortService(cp, 'bulk', 'TCP', backends.ports.bulk),
      rr: await nodePortService(cp, 'rr', 'TCP', backends.ports.rr),
      echo: await nodePortService(cp, 'echo', 'UDP', backends.ports.echo),
    };
    await waitFor('the proxy to forward the rr NodePort', () => tcpConnectOnce({ host: '127.0.0.1', port: np.rr }), 30_000, 100);
    const pids = { proxy: proxy.child.pid, backend: backends.child.pid };
    const relayPids = { proxy: relay.child.pid, backend: backends.child.pid };
    const lo = (port: number) => ({ host: '127.0.0.1', port });
    const scenarios: { name: string; direct: () => Promise<Measured>; proxied: () => Promise<Measured>; relay?: () => Promise<Measured> }[] = [
      ...BULK_CONNS.map((n) => ({
        name: `tcp-bulk-c${n}`,
        direct: () => tcpBulk(lo(backends.ports.bulk), n),
        proxied: () => tcpBulk(lo(np.bulk), n),
        relay: () => tcpBulk(lo(relay.ports[backends.ports.bulk]!), n),
      })),
      { name: 'tcp-connect-c16', direct: () => tcpConnect(lo(backends.ports.rr), 16), proxied: () => tcpConnect(lo(np.rr), 16), relay: () => tcpConnect(lo(relay.ports[backends.ports.rr]!), 16) },
      { name: 'udp-echo-c16', direct: () => udpEcho({ host: '127.0.0.1', port: backends.ports.echo }, 16), proxied: () => udpEcho({ host: '127.0.0.1', port: np.echo }, 16) },
    ];
    const rows: (string | number)[][] = [['scenario', 'direct', 'proxy', 'proxy ÷ direct', 'bare Node relay ÷ direct', 'unit', 'CPU ms per unit: direct / proxied', 'CPU direct: client + backend', 'CPU proxied: client + proxy + backend']];
    for (const s of scenarios.filter((x) => !ONLY || ONLY.some((o) => x.name.startsWith(o)))) {
      const runs: { direct: Run[]; proxied: Run[]; relay: Run[] } = { direct: [], proxied: [], relay: [] };
      for (let round = 1; round <= ROUNDS; round++) {
        note(`${s.name}: direct (round ${round}/${ROUNDS})`);
        runs.direct.push(await measure(pids, s.direct));
        note(`${s.name}: through the proxy (round ${round}/${ROUNDS})`);
        runs.proxied.push(await measure(pids, s.proxied));
        if (s.relay) {
          note(`${s.name}: through the bare Node relay (round ${round}/${ROUNDS})`);
          runs.relay.push(await measure(relayPids, s.relay));
        }
      }
      const relayed = runs.relay.length ? combine(runs.relay) : undefined;
      if (relayed) emit({ bench: 'proxy', scenario: s.name, system: 'bare-node-relay', ...relayed, rounds: runs.relay.map((r) => r.rate) });
      const direct = combine(runs.direct);
      const proxied = combine(runs.proxied);
      emit({ bench: 'proxy', scenario: s.name, system: 'direct', ...direct, rounds: runs.direct.map((r) => r.rate) });
      emit({ bench: 'proxy', scenario: s.name, system: 'coxswain-proxy', ...proxied, rounds: runs.proxied.map((r) => r.rate) });
      const ratio = round(proxied.rate / direct.rate, 3);
      emit({ bench: 'proxy', scenario: s.name, kind: 'ratio', ratio, goal: s.name.startsWith('tcp') ? 0.7 : undefined });
      const sum = (...x: number[]) => round(x.reduce((a, b) => a + b, 0));
      rows.push([
        s.name, direct.rate, proxied.rate, `${Math.round(ratio * 100)}%`, relayed ? `${Math.round((relayed.rate / direct.rate) * 100)}%` : '-', direct.unit,
        `${perUnit(direct)} / ${perUnit(proxied)}`,
        `${direct.clientCpu} + ${direct.backendCpu} = ${sum(direct.clientCpu, direct.backendCpu)}`,
        `${proxied.clientCpu} + ${proxied.proxyCpu} + ${proxied.backendCpu} = ${sum(proxied.clientCpu, proxied.proxyCpu, proxied.backendCpu)}`,
      ]);
    }
    table(`bench:proxy (${SECONDS} s per run; goal for TCP: proxy ≥ 70% of direct)`, rows);
    emit({ bench: 'proxy', kind: 'machine', ...machineLoad(), quiet, node: process.version, revision: sourceRevision() });
  } finally {
    await stop();
  }
}

/** CPU milliseconds all processes of a run spent per unit of its rate (per MB, connection or datagram). */
function perUnit(r: Run): number {
  return round(((r.clientCpu + r.proxyCpu + r.backendCpu) / r.rate) * 1000, 3);
}

/** Rounds of one system together: the rate over all rounds' time, CPU and latencies averaged per round. */
function combine(runs: Run[]): Run {
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  const avg = (f: (r: Run) => number | undefined) => round(runs.reduce((a, r) => a + (f(r) ?? NaN) * r.seconds, 0) / seconds);
  return {
    rate: avg((r) => r.rate),
    unit: runs[0]!.unit,
    ops: runs.reduce((a, r) => a + r.ops, 0),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    seconds: round(seconds),
    p50Ms: runs[0]!.p50Ms === undefined ? undefined : avg((r) => r.p50Ms),
    p99Ms: runs[0]!.p99Ms === undefined ? undefined : avg((r) => r.p99Ms),
    proxyCpu: avg((r) => r.proxyCpu),
    backendCpu: avg((r) => r.backendCpu),
    clientCpu: avg((r) => r.clientCpu),
  };
}

function tcpConnectOnce(t: Target): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(t, () => s.write(REQ));
    let got = 0;
    s.on('data', (c) => (got += c.length));
    s.on('end', () => {
      s.destroy();
      resolve(got === 64);
    });
    s.on('error', () => resolve(false));
  });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
