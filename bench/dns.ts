/**
 * bench:dns — queries/s and latency of the proxy's cluster DNS server next to
 * dnsmasq (Debian) serving the same names, same load generator, same run.
 *
 *   - coxswain: the proxy's `ClusterDns` (proxy/dns) in a process of its own
 *     (this file run with `--serve`), fed S ClusterIP Services as its informers
 *     would feed it, listening on 127.54.0.1 (UDP);
 *   - dnsmasq: `dnsmasq` with the same S names → IPs in a hosts file
 *     (authoritative for cluster.local, no upstream), on 127.54.0.2.
 *
 * The load generator (this process, one UDP socket) keeps C queries
 * outstanding for D seconds after a 1 s warm-up, cycling over the S names
 * (A queries, fully qualified, no EDNS); latency is per query, send to answer.
 * Scenarios: C = 1 (latency) and C = 64 (throughput); the systems alternate.
 * S = COXSWAIN_BENCH_DNS_SERVICES (default 1000), D = COXSWAIN_BENCH_DNS_SECONDS
 * (default 5). Results: JSON lines on stdout, a table on stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as dnsPacket from 'dns-packet';
import type { Service } from 'kubernetes-types/core/v1';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ClusterDns } from '../proxy/dns/cluster-dns';
import { DnsMetrics } from '../proxy/dns/metrics';
import { freePort } from '../test/lib/util';
import { emit, envInt, machineLoad, note, round, sourceRevision, summarize, table } from './lib/report';

const COXSWAIN_IP = '127.54.0.1';
const DNSMASQ_IP = '127.54.0.2';

function services(n: number): { name: string; ip: string; svc: Service }[] {
  return Array.from({ length: n }, (_, i) => {
    const ns = `ns-${i % 10}`;
    const name = `svc-${i}`;
    const ip = `10.96.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
    return { name: `${name}.${ns}.svc.cluster.local`, ip, svc: { metadata: { namespace: ns, name }, spec: { clusterIP: ip, ports: [{ name: 'http', port: 80 }] } } };
  });
}

/** `--serve <port> <services>`: the child running cluster DNS. */
async function serve(port: number, n: number): Promise<void> {
  const dns = new ClusterDns({
    logger: pino({ level: 'warn' }),
    domain: 'cluster.local',
    upstreams: [],
    metrics: new DnsMetrics(new Registry()),
    service: { namespace: 'kube-system', name: 'kube-dns' },
    bindAddress: COXSWAIN_IP,
    port,
  });
  for (const s of services(n)) dns.upsertService(s.svc);
  while (!dns.listening) await new Promise((r) => setTimeout(r, 10));
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void dns.stop().then(() => process.exit(0)));
}

function waitLine(child: ChildProcess, re: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 15_000);
    const on = (c: Buffer) => {
      out += c;
      if (re.test(out)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.on('exit', (code) => reject(new Error(`${what} exited ${code}: ${out}`)));
  });
}

interface LoadResult {
  qps: number;
  answered: number;
  lost: number;
  wrong: number;
  latenciesMs: number[];
}

/** Keeps `concurrency` queries in flight against host:port for `seconds` (after a 1 s warm-up). */
function load(host: string, port: number, names: { name: string; ip: string }[], concurrency: number, seconds: number): Promise<LoadResult> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const queries = names.map((n) => ({ buf: dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: n.name, type: 'A', class: 'IN' }] }), ip: n.ip }));
    const inflight = new Map<number, { sent: bigint; ip: string; timer: NodeJS.Timeout }>();
    let next = 0;
    let id = 0;
    const t0 = Date.now();
    const warmEnd = t0 + 1_000;
    const end = warmEnd + seconds * 1_000;
    const res: LoadResult = { qps: 0, answered: 0, lost: 0, wrong: 0, latenciesMs: [] };
    let done = false;
    const send = () => {
      if (done) return;
      if (Date.now() >= end) {
        finish();
        return;
      }
      const q = queries[next++ % queries.length]!;
      id = (id + 1) & 0xffff;
      while (inflight.has(id)) id = (id + 1) & 0xffff;
      const qid = id;
      const buf = Buffer.from(q.buf);
      buf.writeUInt16BE(qid, 0);
      const timer = setTimeout(() => {
        inflight.delete(qid);
        if (Date.now() >= warmEnd) res.lost++;
        send();
      }, 1_000);
      inflight.set(qid, { sent: process.hrtime.bigint(), ip: q.ip, timer });
      sock.send(buf, port, host);
    };
    const finish = () => {
      if (done) return;
      done = true;
      for (const f of inflight.values()) clearTimeout(f.timer);
      sock.close();
      res.qps = res.answered / seconds;
      resolve(res);
    };
    sock.on('message', (msg) => {
      const f = inflight.get(msg.readUInt16BE(0));
      if (!f) return;
      const now = process.hrtime.bigint();
      clearTimeout(f.timer);
      inflight.delete(msg.readUInt16BE(0));
      if (Date.now() >= warmEnd && Date.now() < end) {
        res.answered++;
        res.latenciesMs.push(Number(now - f.sent) / 1e6);
        // spot-check the answer: the Service's IP
        if (res.answered % 97 === 0) {
          const p = dnsPacket.decode(msg);
          if (!(p.answers ?? []).some((a) => 'data' in a && a.data === f.ip)) res.wrong++;
        }
      }
      send();
    });
    sock.bind(0, () => {
      for (let i = 0; i < concurrency; i++) send();
    });
  });
}

async function main(): Promise<void> {
  if (process.argv[2] === '--serve') return serve(Number(process.argv[3]), Number(process.argv[4]));
  const n = envInt('COXSWAIN_BENCH_DNS_SERVICES', 1000);
  const seconds = envInt('COXSWAIN_BENCH_DNS_SECONDS', 5);
  const names = services(n).map(({ name, ip }) => ({ name, ip }));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-bench-dns-'));
  const children: ChildProcess[] = [];
  try {
    const cxPort = await freePort(COXSWAIN_IP);
    const cx = spawn(process.execPath, [__filename, '--serve', String(cxPort), String(n)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(cx);
    await waitLine(cx, /ready/, 'coxswain DNS');

    const hosts = path.join(dir, 'hosts');
    await writeFile(hosts, names.map((x) => `${x.ip} ${x.name}`).join('\n') + '\n', { mode: 0o644 });
    await chmod(dir, 0o755); // dnsmasq reads it after dropping to nobody
    const dmPort = await freePort(DNSMASQ_IP);
    const dm = spawn('dnsmasq', ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`, '--local=/cluster.local/', '--pid-file=', `--listen-address=${DNSMASQ_IP}`, '--bind-interfaces', `--port=${dmPort}`, '--log-facility=-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(dm);
    await waitLine(dm, /read .*hosts - \d+ (names|addresses)/, 'dnsmasq');

    const systems = [
      { system: 'coxswain', host: COXSWAIN_IP, port: cxPort },
      { system: 'dnsmasq', host: DNSMASQ_IP, port: dmPort },
    ];
    note(`bench:dns: ${n} Service names, ${seconds} s per run, A queries over UDP`);
    const rows: (string | number)[][] = [['scenario', 'system', 'queries/s', 'p50 ms', 'p99 ms', 'lost', 'wrong']];
    for (const concurrency of [1, 64]) {
      for (const s of systems) {
        const r = await load(s.host, s.port, names, concurrency, seconds);
        const sum = summarize(r.latenciesMs);
        emit({ bench: 'dns', scenario: `udp-a-c${concurrency}`, system: s.system, services: n, concurrency, seconds, qps: round(r.qps, 0), p50Ms: sum.p50Ms, p99Ms: sum.p99Ms, lost: r.lost, wrong: r.wrong });
        rows.push([`${concurrency} outstanding`, s.system, round(r.qps, 0), sum.p50Ms, sum.p99Ms, r.lost, r.wrong]);
      }
    }
    emit({ bench: 'dns', kind: 'machine', ...machineLoad(), node: process.version, revision: sourceRevision() });
    table(`cluster DNS: coxswain proxy vs dnsmasq, ${n} names, UDP A queries, Node load generator`, rows);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
