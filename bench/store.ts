/**
 * bench:store — Coxswain's 3-replica store against a 3-member etcd 3.4, side by
 * side in the same run, driven by the same TypeScript load generator over the
 * etcd v3 gRPC API (bench/lib/etcd-client.ts).
 *
 * Scenarios (each bounded by an op count and COXSWAIN_BENCH_SECONDS, default 10 s):
 * puts (1, 50, 200 clients), linearizable and serializable single-key ranges,
 * compare-and-put Txns (mod_revision), and watch latency (put start → event
 * received). 256-byte values. Writes go to the leader, found via
 * Maintenance.Status + Cluster.MemberList. For each scenario etcd runs first,
 * then Coxswain, with the same keys, values and client count.
 *
 * CPU per operation (utime + stime of the members from /proc, all members and the
 * leader alone) is recorded next to throughput and latency: on a shared machine it is
 * the steadier measure of how much work each system does per request.
 *
 * Output: one JSON line per (scenario, system) and one `kind: "ratio"` line per
 * scenario on stdout; a table on stderr.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EtcdConn } from './lib/etcd-client';
import { closedLoop, type LoadResult } from './lib/load';
import { emit, envInt, machineLoad, note, round, rssKiB, sleep, summarize, sourceRevision, table, waitQuiet, type Summary } from './lib/report';
import { startCoxswainCluster, startEtcdCluster, type BenchCluster } from './lib/store-clusters';

const VALUE_SIZE = 256;
const KEYSPACE = 10_000;


interface Scenario {
  name: string;
  what: string;
  clients: number;
  maxOps: number;
  run(c: BenchCluster, s: Scenario, maxMs: number): Promise<LoadResult>;
}

const value = randomBytes(VALUE_SIZE);

/** Connections for `clients` concurrent clients: one HTTP/2 connection per 50 clients. */
function connect(endpoint: string, clients: number): EtcdConn[] {
  return Array.from({ length: Math.max(1, Math.ceil(clients / 50)) }, () => new EtcdConn(endpoint));
}


function putScenario(name: string, clients: number, maxOps: number): Scenario {
  return {
    name, clients, maxOps, what: `Put, ${clients} client${clients > 1 ? 's' : ''}, to the leader`,
    async run(c, s, maxMs) {
      const conns = connect(c.leader, clients);
      try {
        return await closedLoop(clients, maxOps, maxMs, (i, seq) => conns[i % conns.length].put(Buffer.from(`/bench/${s.name}/${seq % KEYSPACE}`), value));
      } finally {
        conns.forEach((x) => x.close());
      }
    },
  };
}

function rangeScenario(name: string, clients: number, maxOps: number, serializable: boolean): Scenario {
  return {
    name, clients, maxOps, what: `Range of one key, ${serializable ? 'serializable' : 'linearizable'}, ${clients} client${clients > 1 ? 's' : ''}, on the leader`,
    async run(c, s, maxMs) {
      const conns = connect(c.leader, clients);
      const key = Buffer.from('/bench/range/key');
      try {
        await conns[0].put(key, value);
        return await closedLoop(clients, maxOps, maxMs, async (i) => {
          const r = await conns[i % conns.length].range(key, serializable);
          if (r.kvs.length !== 1 || r.kvs[0].value.length !== VALUE_SIZE) throw new Error('range returned the wrong value');
        });
      } finally {
        conns.forEach((x) => x.close());
      }
    },
  };
}

function txnScenario(name: string, clients: number, maxOps: number): Scenario {
  return {
    name, clients, maxOps, what: `Txn: if mod_revision(key) = last seen then put, ${clients} clients, one key each`,
    async run(c, _s, maxMs) {
      const conns = connect(c.leader, clients);
      const keys = Array.from({ length: clients }, (_, i) => Buffer.from(`/bench/${name}/${i}`));
      const modRev: string[] = [];
      let conflicts = 0;
      try {
        for (let i = 0; i < clients; i++) modRev[i] = String((await conns[i % conns.length].put(keys[i], value)).header.revision);
        const r = await closedLoop(clients, maxOps, maxMs, async (i) => {
          const resp = await conns[i % conns.length].casPut(keys[i], value, modRev[i]);
          if (resp.succeeded) {
            modRev[i] = String(resp.header.revision);
          } else {
            conflicts++;
            modRev[i] = String(resp.responses[0]?.response_range?.kvs?.[0]?.mod_revision ?? modRev[i]);
          }
        });
        return { ...r, extra: { conflicts } };
      } finally {
        conns.forEach((x) => x.close());
      }
    },
  };
}

/** Puts on the leader, a watch on `on` (leader or a follower); latency = put sent → event received. */
function watchScenario(name: string, clients: number, maxOps: number, on: 'leader' | 'follower'): Scenario {
  return {
    name, clients, maxOps, what: `Watch latency (put sent → event received), ${clients} putter${clients > 1 ? 's' : ''} on the leader, watcher on the ${on}`,
    async run(c, s, maxMs) {
      const conns = connect(c.leader, clients);
      const wconn = new EtcdConn(on === 'leader' ? c.leader : c.follower);
      const prefix = `/bench/${s.name}-${Date.now()}/`;
      const sent = new Map<string, number>();
      const latencies: number[] = [];
      let unexpected = 0;
      const w = await wconn.watchPrefix(Buffer.from(prefix), (events, at) => {
        for (const e of events) {
          const k = e.kv.key.toString();
          const t = sent.get(k);
          if (t === undefined) { unexpected++; continue; }
          sent.delete(k);
          latencies.push(at - t);
        }
      });
      try {
        const r = await closedLoop(clients, maxOps, maxMs, async (i, seq) => {
          const k = `${prefix}${seq}`;
          sent.set(k, performance.now());
          try {
            await conns[i % conns.length].put(Buffer.from(k), value);
          } catch (err) {
            sent.delete(k);
            throw err;
          }
        });
        const deadline = Date.now() + 10_000;
        while (sent.size > 0 && Date.now() < deadline) await sleep(20);
        return { ...r, ops: latencies.length, latenciesMs: latencies, extra: { missingEvents: sent.size, unexpectedEvents: unexpected, putsAcked: r.ops } };
      } finally {
        w.cancel();
        wconn.close();
        conns.forEach((x) => x.close());
      }
    },
  };
}

export const SCENARIOS: Scenario[] = [
  putScenario('put-seq', 1, 2000),
  putScenario('put-50', 50, 5000),
  putScenario('put-200', 200, 5000),
  rangeScenario('range-lin-seq', 1, 3000, false),
  rangeScenario('range-lin-50', 50, 5000, false),
  rangeScenario('range-ser-50', 50, 5000, true),
  txnScenario('txn-50', 50, 5000),
  watchScenario('watch-seq-leader', 1, 1000, 'leader'),
  watchScenario('watch-seq-follower', 1, 1000, 'follower'),
  watchScenario('watch-50-follower', 50, 3000, 'follower'),
];

interface Row {
  scenario: string;
  system: string;
  ops: number;
  opsPerSec: number;
  lat: Summary;
  /** CPU (user + system) of all members per operation, and of the leader alone, in µs. */
  cpuUsPerOp: number;
  leaderCpuUsPerOp: number;
}

/** utime + stime of a process in ms (/proc/<pid>/stat, clock ticks of 10 ms), 0 if gone. */
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

export async function benchStore(): Promise<void> {
  const maxMs = envInt('COXSWAIN_BENCH_SECONDS', 10) * 1000;
  const only = (process.env.COXSWAIN_BENCH_SCENARIOS ?? '').split(',').filter(Boolean);
  const scenarios = only.length ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS;
  const runId = new Date().toISOString();
  emit({ bench: 'store', kind: 'machine', runId, ...(await waitQuiet()), nproc: machineLoad().nproc, node: process.version, revision: sourceRevision() });
  note(`store: starting a 3-member etcd and a 3-replica Coxswain store (load ${machineLoad().loadavg.join(' ')})`);
  const clusters: BenchCluster[] = [];
  try {
    clusters.push(await startEtcdCluster(3));
    clusters.push(await startCoxswainCluster(3));
    for (const c of clusters) {
      note(`${c.system}: leader ${c.leader}, follower ${c.follower}, members ${c.endpoints.join(',')}, version ${c.version}`);
      emit({ bench: 'store', kind: 'cluster', runId, system: c.system, members: c.endpoints.length, leader: c.leader, version: c.version, ...machineLoad() });
    }
    // Warm-up (JIT on both the client and Coxswain's servers, connections, etcd's first bbolt pages); not recorded.
    for (const c of clusters) {
      await putScenario('warmup-seq', 1, 300).run(c, { name: 'warmup' } as Scenario, 5_000);
      await putScenario('warmup-50', 50, 1000).run(c, { name: 'warmup' } as Scenario, 5_000);
      await rangeScenario('warmup-range', 50, 1000, false).run(c, { name: 'warmup' } as Scenario, 5_000);
    }
    const rows: Row[] = [];
    for (const s of scenarios) {
      const bySystem: Record<string, Row> = {};
      for (const c of clusters) {
        await sleep(500);
        const leaderPid = c.pids[c.endpoints.indexOf(c.leader)];
        const cpu0 = c.pids.map(cpuMs);
        const r = await s.run(c, s, maxMs);
        const cpu1 = c.pids.map(cpuMs);
        const lat = summarize(r.latenciesMs);
        const opsPerSec = round(r.ops / r.seconds, 1);
        const cpuUsPerOp = round((cpu1.reduce((a, b) => a + b, 0) - cpu0.reduce((a, b) => a + b, 0)) * 1000 / Math.max(1, r.ops), 0);
        const li = c.pids.indexOf(leaderPid);
        const leaderCpuUsPerOp = li >= 0 ? round(((cpu1[li] - cpu0[li]) * 1000) / Math.max(1, r.ops), 0) : 0;
        const row: Row = { scenario: s.name, system: c.system, ops: r.ops, opsPerSec, lat, cpuUsPerOp, leaderCpuUsPerOp };
        rows.push(row);
        bySystem[c.system] = row;
        emit({
          bench: 'store', runId, scenario: s.name, system: c.system, description: s.what, clients: s.clients, valueBytes: VALUE_SIZE,
          ops: r.ops, errors: r.errors, ...(r.firstError ? { firstError: r.firstError } : {}), seconds: round(r.seconds, 3), opsPerSec, ...lat, cpuUsPerOp, leaderCpuUsPerOp, ...r.extra, ...machineLoad(),
        });
        note(`${s.name} ${c.system}: ${r.ops} ops in ${r.seconds.toFixed(2)} s = ${opsPerSec}/s, p50 ${lat.p50Ms} ms, p99 ${lat.p99Ms} ms${r.errors ? `, ${r.errors} errors (${r.firstError})` : ''}${r.extra ? ` ${JSON.stringify(r.extra)}` : ''}`);
      }
      const e = bySystem.etcd;
      const x = bySystem.coxswain;
      if (e && x) {
        emit({
          bench: 'store', runId, kind: 'ratio', scenario: s.name, of: 'coxswain/etcd',
          throughput: round(x.opsPerSec / e.opsPerSec, 3), p50: round(x.lat.p50Ms / e.lat.p50Ms, 3), p99: round(x.lat.p99Ms / e.lat.p99Ms, 3),
          cpuPerOp: round(x.cpuUsPerOp / Math.max(1, e.cpuUsPerOp), 3),
        });
      }
    }
    for (const c of clusters) {
      const rss = c.pids.map((p) => rssKiB(p) ?? 0);
      emit({ bench: 'store', runId, kind: 'rss', system: c.system, rssKiB: rss, totalMiB: round(rss.reduce((a, b) => a + b, 0) / 1024, 1) });
    }
    const header = ['scenario', 'etcd ops/s', 'etcd p50 ms', 'etcd p99 ms', 'cox ops/s', 'cox p50 ms', 'cox p99 ms', 'thru cox/etcd', 'p50 cox/etcd', 'p99 cox/etcd'];
    const body = scenarios.map((s) => {
      const e = rows.find((r) => r.scenario === s.name && r.system === 'etcd')!;
      const x = rows.find((r) => r.scenario === s.name && r.system === 'coxswain')!;
      return [s.name, e.opsPerSec, e.lat.p50Ms, e.lat.p99Ms, x.opsPerSec, x.lat.p50Ms, x.lat.p99Ms, x.opsPerSec / e.opsPerSec, x.lat.p50Ms / e.lat.p50Ms, x.lat.p99Ms / e.lat.p99Ms];
    });
    table(`store: 3-member etcd ${clusters[0].version} vs 3-replica Coxswain store (256-byte values; load avg ${machineLoad().loadavg.join(' ')})`, [header, ...body]);
    const rssRows = clusters.map((c) => {
      const rss = c.pids.map((p) => (rssKiB(p) ?? 0) / 1024);
      return [c.system, ...rss, rss.reduce((a, b) => a + b, 0)];
    });
    // CPU per operation is the steadier number on a shared machine: throughput and latency
    // move with whatever else runs, the work each system does per request much less.
    const cpuBody = scenarios.map((s) => {
      const e = rows.find((r) => r.scenario === s.name && r.system === 'etcd')!;
      const x = rows.find((r) => r.scenario === s.name && r.system === 'coxswain')!;
      return [s.name, e.cpuUsPerOp, e.leaderCpuUsPerOp, x.cpuUsPerOp, x.leaderCpuUsPerOp, x.cpuUsPerOp / Math.max(1, e.cpuUsPerOp), x.leaderCpuUsPerOp / Math.max(1, e.leaderCpuUsPerOp)];
    });
    table('store: CPU per operation (µs, user+system; all 3 members / the leader)', [['scenario', 'etcd all', 'etcd leader', 'cox all', 'cox leader', 'all cox/etcd', 'leader cox/etcd'], ...cpuBody]);
    table('store: RSS after the run (MiB)', [['system', 'member 1', 'member 2', 'member 3', 'total'], ...rssRows]);
  } finally {
    for (const c of clusters.reverse()) await c.stop().catch((err) => note(`stopping ${c.system}: ${err}`));
  }
}

if (require.main === module) {
  benchStore().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
