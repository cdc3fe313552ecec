/**
 * Ingress throughput and latency: Coxswain's Ingress reverse proxy vs nginx (Debian's) as the
 * reverse proxy, in front of the same backends, with the same load generator, in the same run.
 *
 * - Backends: two Node http servers on loopback (a child process), each answering every
 *   request with a 64-byte body; pods would add Docker networking to both sides equally, and
 *   loopback keeps the run free of other helpers' clusters.
 * - Coxswain: the proxy's real Ingress code (IngressConfig, ReverseProxy, IngressListeners)
 *   in a child process of its own, fed one Ingress (host bench.test, Prefix /) and a fixed
 *   endpoint lookup instead of informers (the request path is the same).
 * - nginx: one worker (Node's proxy is one thread too), upstream keepalive 64, the same
 *   X-Forwarded-* headers, access log off; started with its own config on a loopback port.
 * - Load: a Node keep-alive client in this process, COXSWAIN_BENCH_INGRESS_CONCURRENCY
 *   (default 32) requests in flight for COXSWAIN_BENCH_INGRESS_SECONDS (default 10) per system,
 *   split into COXSWAIN_BENCH_INGRESS_ROUNDS (default 3) rounds that interleave the systems,
 *   after a 2 s warm-up of each. "direct" (client → backends, no proxy) is shown for reference.
 *
 *   npm run bench:ingress
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import pino from 'pino';
import { selfSignedCertificate } from '../proxy/ingress/certs';
import { IngressConfig } from '../proxy/ingress/config';
import { IngressListeners } from '../proxy/ingress/listeners';
import { ReverseProxy } from '../proxy/ingress/reverse-proxy';
import { closedLoop } from './lib/load';
import { emit, machineLoad, note, round, summarize, table } from './lib/report';

const SECONDS = Number(process.env.COXSWAIN_BENCH_INGRESS_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.COXSWAIN_BENCH_INGRESS_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.COXSWAIN_BENCH_INGRESS_ROUNDS ?? 3);
const HOST = 'bench.test';
const BODY = 'x'.repeat(63) + '\n';

/** Child role: the backends. Prints their ports as JSON on stdout. */
async function serveBackends(): Promise<void> {
  const ports: number[] = [];
  for (let i = 0; i < 2; i++) {
    const s = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': BODY.length });
        res.end(BODY);
      });
    });
    s.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    ports.push((s.address() as net.AddressInfo).port);
  }
  process.stdout.write(JSON.stringify({ ports }) + '\n');
}

/** Child role: Coxswain's Ingress server in front of the given backend ports. Prints its port. */
async function serveIngress(backendPorts: number[]): Promise<void> {
  const logger = pino({ level: 'warn' });
  const cert = await selfSignedCertificate();
  const config = new IngressConfig({ logger, defaultContext: tls.createSecureContext(cert) });
  config.upsertClass({ metadata: { name: 'coxswain', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'coxswain.io/ingress' } });
  config.upsertIngress({
    metadata: { name: 'bench', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { rules: [{ host: HOST, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  });
  const backends = backendPorts.map((port) => ({ ip: '127.0.0.1', port, ready: true, serving: true, terminating: false }));
  const proxy = new ReverseProxy({ logger, routes: () => config.routes(), lookup: () => ({ target: 'default/web:http', backends }) });
  const listeners = new IngressListeners({ logger, addresses: ['127.0.0.1'], httpPort: 0, httpsPort: 0, proxy, sni: (n) => config.sni(n), defaultCert: cert });
  await listeners.start();
  process.stdout.write(JSON.stringify({ port: listeners.boundPort('http') }) + '\n');
  // a clean exit on SIGINT, so `node --cpu-prof` writes its profile
  process.once('SIGINT', () => process.exit(0));
}

function startChild(args: string[]): Promise<{ child: ChildProcess; info: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (c) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, info: JSON.parse(out.slice(0, nl)) });
    });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited ${code}`)));
  });
}

function nginxConfig(dir: string, port: number, backends: number[]): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 100000;
  upstream backends {
${backends.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    server_name ${HOST};
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;
    }
  }
}
`;
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      http.get({ host: '127.0.0.1', port, path: '/', headers: { Host: HOST }, agent: false }, (res) => {
        res.resume();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing answers on 127.0.0.1:${port}`);
}

/** One closed-loop run of GETs against a port (with Host: bench.test) over keep-alive connections. */
async function load(port: number, seconds: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const op = () =>
    new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/item?id=1', headers: { Host: HOST }, agent }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
          res.resume();
          res.on('end', () => resolve());
        })
        .on('error', reject);
    });
  const r = await closedLoop(CONCURRENCY, Number.MAX_SAFE_INTEGER, seconds * 1000, op);
  agent.destroy();
  return r;
}

async function main(): Promise<void> {
  const role = process.argv[2];
  if (role === 'backends') return serveBackends();
  if (role === 'ingress') return serveIngress(process.argv.slice(3).map(Number));

  const children: ChildProcess[] = [];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-bench-ingress-'));
  let nginx: ChildProcess | undefined;
  try {
    const version = spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim().replace(/^nginx version: /, '') || 'nginx';
    const backends = await startChild(['backends']);
    children.push(backends.child);
    const ports = backends.info.ports as number[];
    const cox = await startChild(['ingress', ...ports.map(String)]);
    children.push(cox.child);
    const nginxPort = await freePort();
    await writeFile(path.join(dir, 'nginx.conf'), nginxConfig(dir, nginxPort, ports));
    nginx = spawn('nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir, '-e', path.join(dir, 'error.log')], { stdio: 'inherit' });
    await waitListening(nginxPort);
    note(`backends on ${ports.join(', ')}; coxswain ingress on ${cox.info.port}; nginx on ${nginxPort}; ${CONCURRENCY} concurrent, ${SECONDS} s each`);

    const systems: [string, number][] = [['direct', ports[0]!], ['coxswain', cox.info.port as number], ['nginx', nginxPort]];
    for (const [, port] of systems) await load(port, 2);
    // Rounds interleave the systems, so a burst of load from elsewhere hits all of them alike.
    const runs = new Map<string, { ops: number; seconds: number; errors: number; firstError?: string; latenciesMs: number[]; rps: number[] }>();
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      for (const [system, port] of systems) {
        const r = await load(port, SECONDS / ROUNDS);
        const acc = runs.get(system) ?? { ops: 0, seconds: 0, errors: 0, latenciesMs: [], rps: [] };
        acc.ops += r.ops;
        acc.seconds += r.seconds;
        acc.errors += r.errors;
        acc.firstError ??= r.firstError;
        for (const l of r.latenciesMs) acc.latenciesMs.push(l);
        acc.rps.push(r.ops / r.seconds);
        runs.set(system, acc);
      }
    }
    const rows: (string | number)[][] = [['system', 'req/s', 'p50 ms', 'p99 ms', 'errors']];
    const rps: Record<string, number> = {};
    const p99: Record<string, number> = {};
    for (const [system] of systems) {
      const r = runs.get(system)!;
      const s = summarize(r.latenciesMs);
      rps[system] = round(r.ops / r.seconds, 0);
      p99[system] = s.p99Ms;
      emit({ bench: 'ingress', scenario: 'get-64B', system, concurrency: CONCURRENCY, rounds: ROUNDS, seconds: round(r.seconds), ops: r.ops, errors: r.errors, firstError: r.firstError, rps: rps[system], rpsPerRound: r.rps.map((x) => round(x, 0)), ...s });
      rows.push([system, rps[system]!, s.p50Ms, s.p99Ms, r.errors]);
    }
    emit({ bench: 'ingress', kind: 'ratio', scenario: 'get-64B', of: 'coxswain/nginx', rps: round(rps.coxswain! / rps.nginx!, 2), p99: round(p99.coxswain! / p99.nginx!, 2) });
    emit({ bench: 'ingress', kind: 'machine', nginx: version, ...machineLoad() });
    table(`Ingress GET, 64-byte body, ${CONCURRENCY} concurrent keep-alive clients, ${SECONDS} s per system in ${ROUNDS} interleaved rounds (${version})`, rows);
  } finally {
    if (nginx && nginx.exitCode === null) {
      nginx.kill('SIGQUIT');
      await new Promise((r) => nginx!.once('exit', r));
    }
    for (const c of children) c.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
