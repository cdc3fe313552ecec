/**
 * bench:api — the apiserver over HTTPS on a 3-replica Coxswain store, with a
 * baseline in the same run: the raw etcd v3 operation underneath, sent straight
 * to the store leader with the same object bytes (bench/lib/etcd-client.ts), so
 * the apiserver's own cost (TLS, HTTP, JSON, admission, watch fan-out) is the
 * difference between the two columns.
 *
 * Scenarios (each bounded by an op count and COXSWAIN_BENCH_SECONDS, default 15 s):
 *   create-cN  POST a ConfigMap (256-byte value), N closed-loop clients   | store: Put of the same JSON
 *   get-cN     GET one ConfigMap, N clients                               | store: linearizable Range of its key
 *   list-1k / list-10k  GET all pods of a namespace of 1,000 / 10,000 pods | store: Range of the namespace prefix
 *   watch-wN   one ConfigMap create → time until each of N watchers has it | store: Put → each of N etcd watches
 * N = COXSWAIN_BENCH_API_CLIENTS (default 1,10,100) and COXSWAIN_BENCH_API_WATCHERS
 * (default 1,100,1000); pods = COXSWAIN_BENCH_API_PODS (default 10000; lists are
 * taken at min(1000, pods) and at pods), created with 50 parallel clients;
 * changes per watch scenario = COXSWAIN_BENCH_API_CHANGES (default 20);
 * COXSWAIN_BENCH_API_ONLY=create,get,list,watch picks scenario families (default all).
 * A warm-up (2,000 ops, as many clients as the largest scenario) opens every connection and
 * lets V8 optimise the apiserver first: steady state is what is measured.
 *
 * Output: one JSON line per (scenario, system), a `kind: "ratio"` line per
 * scenario (apiserver ÷ store) and a machine line on stdout; a table with the
 * goals next to the results on stderr. Everything started is stopped at the end.
 */
import { randomBytes } from 'node:crypto';
import { ApiClient, ApiError, type KubeObject, type WatchEvent } from '../lib/client';
import { CONFIGMAPS, NAMESPACES, PODS } from '../lib/resources';
import { closedLoop, type LoadResult } from './lib/load';
import { startControlPlane, waitFor, type ControlPlane } from '../test/lib/cluster';
import { EtcdConn, findLeader } from './lib/etcd-client';
import { emit, envInt, machineLoad, note, round, sleep, summarize, sourceRevision, table, waitQuiet } from './lib/report';

const NS = 'bench-api';
const WATCH_NS = 'bench-watch';
const PER_CONN = 50;
const VALUE = randomBytes(128).toString('hex'); // 256 characters

function envList(name: string, dflt: number[]): number[] {
  const v = process.env[name];
  if (!v) return dflt;
  const out = v.split(',').map((x) => Number(x.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${name} must be a comma-separated list of positive integers, got ${JSON.stringify(v)}`);
  return out;
}



function rawUnary<T>(conn: EtcdConn, method: string, req: unknown, timeoutMs = 30_000): Promise<T> {
  return conn.unary<T>(conn.kv, method, req, timeoutMs);
}

function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  end[end.length - 1]++;
  return end;
}

function configMap(name: string, ns: string): KubeObject & { data: Record<string, string> } {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels: { app: 'bench' } }, data: { value: VALUE } };
}

function pod(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'bench' } },
    spec: { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
  } as KubeObject;
}

/** Clients for N concurrent users: one ApiClient (keep-alive pool, ≤64 sockets) per 50. */
function apiClients(cp: ControlPlane, n: number): ApiClient[] {
  return Array.from({ length: Math.ceil(n / PER_CONN) }, () => new ApiClient(cp.client.config));
}

function etcdConns(leader: string, n: number): EtcdConn[] {
  return Array.from({ length: Math.ceil(n / PER_CONN) }, () => new EtcdConn(leader));
}

const SCENARIOS = ['create', 'get', 'list', 'watch'] as const;

/** COXSWAIN_BENCH_API_ONLY: a comma-separated subset of the scenario families (default all). */
function scenarioFilter(): Set<string> {
  const v = process.env.COXSWAIN_BENCH_API_ONLY;
  if (!v) return new Set(SCENARIOS);
  const out = v.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = out.filter((x) => !(SCENARIOS as readonly string[]).includes(x));
  if (bad.length || !out.length) throw new Error(`COXSWAIN_BENCH_API_ONLY must be a comma-separated subset of ${SCENARIOS.join(',')}, got ${JSON.stringify(v)}`);
  return new Set(out);
}

interface Row {
  scenario: string;
  what: string;
  goal?: { p99Ms: number; text: string; on: 'p99' | 'all-p99' };
  store: LoadResult;
  api: LoadResult;
}

/** Watch delivery: N watchers, `changes` sequential changes; per change, the latency to each watcher and to the last one. */
async function watchDelivery(
  n: number,
  changes: number,
  open: (onName: (name: string, at: number) => void, i: number) => Promise<() => void>,
  change: (name: string) => Promise<unknown>,
  tag: string,
): Promise<LoadResult> {
  const seen: Map<string, number>[] = Array.from({ length: n }, () => new Map());
  const cancels: (() => void)[] = [];
  try {
    for (let b = 0; b < n; b += PER_CONN) {
      const batch = await Promise.all(Array.from({ length: Math.min(PER_CONN, n - b) }, (_, k) => open((name, at) => { if (!seen[b + k].has(name)) seen[b + k].set(name, at); }, b + k)));
      cancels.push(...batch);
    }
    // Warm-up change: proves every watch is established before measuring.
    const warm = `${tag}-warm`;
    await change(warm);
    await waitFor(`all ${n} watchers to see the warm-up change`, () => seen.every((m) => m.has(warm)), 60_000, 20);
    const lat: number[] = [];
    const all: number[] = [];
    let missing = 0;
    let errors = 0;
    const t0 = performance.now();
    for (let c = 0; c < changes; c++) {
      const name = `${tag}-${c}`;
      const s = performance.now();
      try {
        await change(name);
      } catch (err) {
        errors++;
        note(`change ${name}: ${err}`);
        continue;
      }
      await waitFor(`${name} at all watchers`, () => seen.every((m) => m.has(name)), 10_000, 1).catch(() => undefined);
      let worst = 0;
      for (const m of seen) {
        const at = m.get(name);
        if (at === undefined) { missing++; continue; }
        lat.push(at - s);
        worst = Math.max(worst, at - s);
      }
      all.push(worst);
      await sleep(20);
    }
    const sAll = summarize(all);
    return { ops: lat.length, errors, seconds: (performance.now() - t0) / 1000, latenciesMs: lat, extra: { missing, changes, allP50Ms: sAll.p50Ms, allP99Ms: sAll.p99Ms, allMaxMs: sAll.maxMs } };
  } finally {
    for (const c of cancels) c();
  }
}

export async function benchApi(): Promise<void> {
  const clientsList = envList('COXSWAIN_BENCH_API_CLIENTS', [1, 10, 100]);
  const watchersList = envList('COXSWAIN_BENCH_API_WATCHERS', [1, 100, 1000]);
  const pods = envInt('COXSWAIN_BENCH_API_PODS', 10_000);
  const changes = envInt('COXSWAIN_BENCH_API_CHANGES', 20);
  const maxMs = envInt('COXSWAIN_BENCH_SECONDS', 15) * 1000;
  const only = scenarioFilter();
  let cp: ControlPlane | undefined;
  const toClose: { close(): void }[] = [];
  let cleaned: Promise<void> | undefined;
  const cleanup = () => (cleaned ??= (async () => {
    for (const c of toClose) { try { c.close(); } catch { /* closed */ } }
    await cp?.stop().catch((err) => note(`stopping the control plane: ${err}`));
  })());
  const onSignal = (sig: NodeJS.Signals) => {
    note(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rows: Row[] = [];
  try {
    emit({ bench: 'api', kind: 'machine', ...(await waitQuiet()), nproc: machineLoad().nproc, node: process.version, revision: sourceRevision() });
    note(`api: starting a control plane on a 3-replica Coxswain store (load ${machineLoad().loadavg.join(' ')})`);
    cp = await startControlPlane({ store: 'coxswain', replicas: 3 });
    const c0 = cp.client;
    const endpoints = cp.store.endpoints.map((e) => e.replace(/^https?:\/\//, ''));
    let leader: string | undefined;
    await waitFor('a store leader', async () => (leader = (await findLeader(endpoints))?.endpoint) !== undefined, 30_000, 200);
    note(`store leader ${leader} (members ${endpoints.join(', ')}); apiserver ${cp.server}`);
    for (const ns of [NS, WATCH_NS]) {
      await c0.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch((err) => { if (!(err instanceof ApiError && err.conflict)) throw err; });
    }
    const maxClients = Math.max(...clientsList, PER_CONN);
    const clients = apiClients(cp, maxClients);
    const conns = etcdConns(leader!, maxClients);
    toClose.push(...clients, ...conns);
    const api = (c: number) => clients[Math.floor(c / PER_CONN)];
    const kv = (c: number) => conns[Math.floor(c / PER_CONN)];

    // Warm-up, both sides, not recorded. With as many clients as the largest scenario, so every
    // TLS connection (one per concurrent client) and gRPC connection is open before measuring: a
    // cold start put ~90 TLS handshakes into create-c100's latencies, its p99 was 700-1,500 ms
    // where the steady state is 200-300 ms. Clients (kubectl, informers) keep their connections.
    // 2,000 creates: a fresh apiserver spends about twice the CPU per create until V8 has
    // optimised the path (measured: 1.2-1.7 ms in its first 2,000 creates, 0.6 ms after).
    const warmOps = Math.max(2_000, 4 * maxClients);
    await closedLoop(maxClients, warmOps, maxMs, (c, i) => api(c).create(CONFIGMAPS, configMap(`warm-${i}`, NS)));
    await closedLoop(maxClients, warmOps, maxMs, (c, i) => api(c).get(CONFIGMAPS, `warm-${i}`, NS));
    await closedLoop(maxClients, warmOps, maxMs, (c, i) => kv(c).put(Buffer.from(`/bench/warm/${i}`), Buffer.from(VALUE)));

    // The stored form of a ConfigMap, for the store side's Put.
    const sample = await c0.get(CONFIGMAPS, 'warm-0', NS);
    const stored = (name: string) => Buffer.from(JSON.stringify({ ...sample, metadata: { ...sample.metadata, name } }));

    for (const n of only.has('create') ? clientsList : []) {
      const ops = Math.min(2_000, Math.max(300, n * 20));
      note(`create-c${n}: ${ops} ops`);
      const store = await closedLoop(n, ops, maxMs, (c, i) => kv(c).put(Buffer.from(`/bench/configmaps/${NS}/c${n}-${i}`), stored(`c${n}-${i}`)));
      await sleep(500);
      const apiR = await closedLoop(n, ops, maxMs, (c, i) => api(c).create(CONFIGMAPS, configMap(`c${n}-${i}`, NS)));
      rows.push({ scenario: `create-c${n}`, what: `POST ConfigMap, ${n} client(s) | store: Put of the same JSON`, store, api: apiR, goal: n >= 100 ? { p99Ms: 50, text: 'p99 < 50 ms at 100 clients', on: 'p99' } : undefined });
      await sleep(500);
    }
    const getName = only.has('create') ? `c${clientsList[0]}-0` : 'warm-0';
    for (const n of only.has('get') ? clientsList : []) {
      const ops = Math.min(5_000, Math.max(500, n * 30));
      note(`get-c${n}: ${ops} ops`);
      const key = Buffer.from(`/registry/core/configmaps/${NS}/${getName}`);
      const store = await closedLoop(n, ops, maxMs, (c) => kv(c).range(key, false));
      await sleep(500);
      const apiR = await closedLoop(n, ops, maxMs, (c) => api(c).get(CONFIGMAPS, getName, NS));
      rows.push({ scenario: `get-c${n}`, what: `GET one ConfigMap, ${n} client(s) | store: linearizable Range of its key`, store, api: apiR, goal: n >= 100 ? { p99Ms: 50, text: 'p99 < 50 ms at 100 clients', on: 'p99' } : undefined });
      await sleep(500);
    }

    // Lists of pods.
    const listPoints = only.has('list') ? [...new Set([Math.min(1_000, pods), pods])] : [];
    let created = 0;
    for (const target of listPoints) {
      note(`creating pods ${created}..${target} (50 parallel clients)`);
      const from = created;
      const cr = await closedLoop(PER_CONN, target - from, 30 * 60_000, (c, i) => api(c).create(PODS, pod(`p-${from + i}`), NS));
      created = target - cr.errors;
      emit({ bench: 'api', kind: 'setup', what: `create pods ${from}..${target}`, podsPerSec: round(cr.ops / cr.seconds, 1), errors: cr.errors, firstError: cr.firstError, ...summarize(cr.latenciesMs) });
      note(`  ${cr.ops} pods in ${cr.seconds.toFixed(1)} s (${(cr.ops / cr.seconds).toFixed(0)}/s), ${cr.errors} errors${cr.firstError ? `: ${cr.firstError}` : ''}`);
      const reps = target >= 10_000 ? 10 : 30;
      const prefix = `/registry/core/pods/${NS}/`;
      let storeCount = 0;
      let apiCount = 0;
      const store = await closedLoop(1, reps, maxMs * 4, async () => { const r = await rawUnary<{ count: string }>(kv(0), 'Range', { key: Buffer.from(prefix), range_end: prefixEnd(prefix) }); storeCount = Number(r.count); });
      await sleep(500);
      const apiR = await closedLoop(1, reps, maxMs * 4, async () => { apiCount = (await api(0).list(PODS, { namespace: NS })).items.length; });
      const label = target >= 1_000 && target % 1_000 === 0 ? `${target / 1_000}k` : String(target);
      store.extra = { items: storeCount };
      apiR.extra = { items: apiCount };
      rows.push({ scenario: `list-${label}`, what: `GET all ${target} pods of a namespace | store: Range of the prefix`, store, api: apiR, goal: target >= 10_000 ? { p99Ms: 1_000, text: 'list of 10,000 pods < 1 s', on: 'p99' } : undefined });
    }

    // Watch delivery.
    for (const n of only.has('watch') ? watchersList : []) {
      const k = n >= 1_000 ? Math.min(changes, 20) : changes;
      note(`watch-w${n}: ${n} watchers, ${k} changes`);
      const wConns: EtcdConn[] = [];
      const store = await watchDelivery(n, k, async (onName, i) => {
        if (i % PER_CONN === 0) wConns.push(new EtcdConn(leader!));
        const w = await wConns[wConns.length - 1].watchPrefix(Buffer.from(`/bench/watch/w${n}/`), (events, at) => { for (const e of events) onName(String(e.kv.key).slice(`/bench/watch/w${n}/`.length), at); });
        return () => w.cancel();
      }, (name) => kv(0).put(Buffer.from(`/bench/watch/w${n}/${name}`), stored(name)), `s${n}`).finally(() => { for (const c of wConns) c.close(); });
      await sleep(500);
      const wClients: ApiClient[] = [];
      const list = await c0.list(CONFIGMAPS, { namespace: WATCH_NS });
      const apiR = await watchDelivery(n, k, async (onName, i) => {
        if (i % PER_CONN === 0) wClients.push(new ApiClient(cp!.client.config));
        const ac = new AbortController();
        const done = wClients[wClients.length - 1].watch(CONFIGMAPS, { namespace: WATCH_NS, resourceVersion: list.metadata?.resourceVersion, signal: ac.signal }, (ev: WatchEvent) => {
          const at = performance.now();
          const name = ev.object?.metadata?.name;
          if (ev.type === 'ADDED' && name) onName(name, at);
        }).catch((err) => note(`watcher ${i}: ${err}`));
        void done;
        return () => ac.abort();
      }, (name) => c0.create(CONFIGMAPS, configMap(name, WATCH_NS)), `a${n}`).finally(() => { for (const c of wClients) c.close(); });
      rows.push({ scenario: `watch-w${n}`, what: `one change → each of ${n} watcher(s) | store: Put → ${n} etcd watch(es) on the leader`, store, api: apiR, goal: n >= 1_000 ? { p99Ms: 100, text: 'one change to 1,000 watchers < 100 ms (p99 of the last watcher)', on: 'all-p99' } : undefined });
      await sleep(1_000);
    }

    // Report.
    const load = machineLoad();
    const out: (string | number)[][] = [['scenario', 'store ops/s', 'store p50 ms', 'store p99 ms', 'api ops/s', 'api p50 ms', 'api p99 ms', 'p99 api/store', 'errors', 'goal', 'met']];
    for (const r of rows) {
      const ss = summarize(r.store.latenciesMs);
      const as = summarize(r.api.latenciesMs);
      const isWatch = r.scenario.startsWith('watch');
      for (const [system, lr, s] of [['store', r.store, ss], ['coxswain', r.api, as]] as const) {
        emit({ bench: 'api', scenario: r.scenario, system, what: r.what, ops: lr.ops, errors: lr.errors, firstError: lr.firstError, seconds: round(lr.seconds, 3), opsPerSec: isWatch ? undefined : round(lr.ops / lr.seconds, 1), ...s, ...lr.extra });
      }
      emit({ bench: 'api', kind: 'ratio', scenario: r.scenario, of: 'coxswain/store', p50: round(as.p50Ms / ss.p50Ms, 3), p99: round(as.p99Ms / ss.p99Ms, 3) });
      const measured = r.goal ? (r.goal.on === 'all-p99' ? Number(r.api.extra?.allP99Ms) : as.p99Ms) : NaN;
      const met = r.goal ? (measured < r.goal.p99Ms ? 'yes' : 'NO') : '';
      if (r.goal) emit({ bench: 'api', kind: 'goal', scenario: r.scenario, goal: r.goal.text, limitMs: r.goal.p99Ms, measuredMs: measured, met: met === 'yes' });
      out.push([r.scenario, isWatch ? '' : r.store.ops / r.store.seconds, ss.p50Ms, ss.p99Ms, isWatch ? '' : r.api.ops / r.api.seconds, as.p50Ms, as.p99Ms, as.p99Ms / ss.p99Ms, `${r.store.errors}/${r.api.errors}${isWatch ? ` miss ${r.store.extra?.missing}/${r.api.extra?.missing}` : ''}`, r.goal?.text ?? '', met ? `${met} (${round(measured, 1)} ms)` : '']);
      if (isWatch) out.push([`  ${r.scenario} last watcher`, '', Number(r.store.extra?.allP50Ms), Number(r.store.extra?.allP99Ms), '', Number(r.api.extra?.allP50Ms), Number(r.api.extra?.allP99Ms), Number(r.api.extra?.allP99Ms) / Number(r.store.extra?.allP99Ms), '', '', '']);
    }
    table(`api: apiserver (HTTPS, 3-replica Coxswain store) vs the raw store op on the leader (load avg ${load.loadavg.join(' ')})`, out);
  } finally {
    await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

if (require.main === module) {
  benchApi().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}


