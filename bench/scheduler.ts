/**
 * bench:scheduler — the scheduler at scale, in the manner of Kubernetes'
 * scheduler_perf: a store (etcd 3.4 by default, or Coxswain's), the apiserver,
 * the scheduler, and N hollow nodes (`coxswain hollow-nodes`, one process, spread
 * over zones moon-1..3 with --zones; 4 CPU, 32Gi, 110 pods each), no controllers. Kubemark
 * runs a hollow kubelet per node, each watching only its node's pods; one process for all
 * nodes keeps that fan-out (each bound pod's events go to one hollow watcher).
 * Before the workloads, each process's background CPU is measured with the nodes idle
 * (COXSWAIN_BENCH_SCHED_IDLE_S, default 10 s: lease renewals, node status) and reported
 * per workload as CPU per pod less that background, with the pods/s those costs allow on
 * this machine's cores. Per
 * workload (bench/lib/scheduler-workloads.ts): init pods are created and bound
 * first, then the measured pods are created by C parallel clients while one
 * watch records when each pod is first seen bound. Reported per workload:
 * pods/s (bound measured pods ÷ time from the first create sent to the last
 * bind seen), the create → bound latencies (p50/p99), whether the workload's
 * rule held (a two-pod probe first asks whether the scheduler enforces it at all),
 * and kube-scheduler's CI threshold for the scheduler_perf test it
 * follows, and the CPU milliseconds per bound pod of the apiserver, the
 * scheduler, the hollow nodes and the store (/proc, from the first measured
 * create to the last bind seen: a number the machine's other load barely moves). Also: apiserver, scheduler and hollow-node RSS with the basic
 * workload's pods in place, and the time of `kubectl get pods -A` then.
 *
 * N = COXSWAIN_BENCH_SCHED_NODES (default 1000), P = COXSWAIN_BENCH_SCHED_PODS (default 5000),
 * C = COXSWAIN_BENCH_SCHED_CREATORS (default 50), workloads =
 * COXSWAIN_BENCH_SCHED_WORKLOADS (default basic,anti-affinity,topology-spread,preemption),
 * store = COXSWAIN_BENCH_STORE (etcd, the default, or coxswain with
 * COXSWAIN_BENCH_STORE_REPLICAS replicas, default 1). A workload whose
 * pods stop being bound for COXSWAIN_BENCH_SCHED_STALL_S seconds (default 30) is
 * reported as it stands (e.g. preemption before the scheduler preempts).
 * Everything started is stopped at the end. With COXSWAIN_TEST_CPU_PROF_DIR=DIR
 * every Coxswain process writes a V8 CPU profile into DIR when it stops.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { ApiClient, ApiError, type KubeObject, type WatchEvent } from '../lib/client';
import { NAMESPACES, NODES, PODS } from '../lib/resources';
import { startControlPlane, startProcess, stopProcess, freePort, type ControlPlane, type Proc } from '../test/lib/cluster';
import { probeAntiAffinity, probeSpread, type ProbeOutcome } from './lib/scheduler-probes';
import { throughput, workloads, ZONE_LABEL, ZONES, type PodBatch, type PriorityStyle, type Workload } from './lib/scheduler-workloads';
import { etcdPutFloor, floorPodsPerSecond, httpsFloor } from './lib/machine-floor';
import { pkiPaths } from '../lib/pki';
import { cpuMs, emit, envInt, machineLoad, note, round, rssKiB, sleep, sourceRevision, summarize, table, waitQuiet } from './lib/report';

const NODE_COUNT = envInt('COXSWAIN_BENCH_SCHED_NODES', 1000);
const POD_COUNT = envInt('COXSWAIN_BENCH_SCHED_PODS', 5000);
const CREATORS = envInt('COXSWAIN_BENCH_SCHED_CREATORS', 50);
const STALL_MS = envInt('COXSWAIN_BENCH_SCHED_STALL_S', 30) * 1000;
const REPLICAS = envInt('COXSWAIN_BENCH_STORE_REPLICAS', 1);
/** etcd, as scheduler_perf runs on: the bench measures the scheduler, not the store (with 5,000 pods a 1-replica Coxswain store stopped answering; docs/performance.md). */
const STORE = process.env.COXSWAIN_BENCH_STORE === 'coxswain' ? 'coxswain' : 'etcd';
/** Seconds with nodes registered and no pods moving, to measure each process's background CPU (lease renewals, node status, watches). */
const IDLE_S = envInt('COXSWAIN_BENCH_SCHED_IDLE_S', 10);
/** Hollow node names: `hollow-<index>`; node i is in zone ZONES[i % 3]. */
const HOLLOW_PREFIX = 'hollow-';
const WANTED = (process.env.COXSWAIN_BENCH_SCHED_WORKLOADS ?? 'basic,anti-affinity,topology-spread,preemption').split(',').map((s) => s.trim()).filter(Boolean);

/** Runs `task(i)` for i in [0, n) with at most `limit` at once. */
async function pool(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, n) }, async () => {
    for (let i = next++; i < n; i = next++) await task(i);
  }));
}

async function retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      // 409 AlreadyExists after a timed-out create that did land: the object is there.
      if (attempt >= 5 || (err instanceof ApiError && err.code < 500 && err.code !== 429)) throw err;
      note(`${what}: ${(err as Error).message}; retrying`);
      await sleep(200 * attempt);
    }
  }
}

/** Watches pods of some namespaces and records, per pod, when it was first seen bound; also any pod whose node changed. */
class BindWatch {
  readonly boundAt = new Map<string, number>();
  readonly nodeOf = new Map<string, string>();
  readonly rebound: string[] = [];
  lastBindAt = Date.now();
  private readonly stopper = new AbortController();
  private running?: Promise<void>;

  constructor(private readonly client: ApiClient, private readonly namespaces: Set<string>) {}

  async start(): Promise<void> {
    const list = await this.client.list<Pod & KubeObject>(PODS, {});
    let rv = list.metadata.resourceVersion ?? '';
    for (const p of list.items) this.see(p);
    this.running = (async () => {
      while (!this.stopper.signal.aborted) {
        try {
          await this.client.watch<Pod & KubeObject>(PODS, { resourceVersion: rv, signal: this.stopper.signal, timeoutSeconds: 3600, allowWatchBookmarks: true }, (ev: WatchEvent<Pod & KubeObject>) => {
            rv = ev.object.metadata?.resourceVersion ?? rv;
            if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.see(ev.object);
          });
        } catch (err) {
          if (this.stopper.signal.aborted) break;
          note(`pod watch ended: ${(err as Error).message}; watching again`);
          await sleep(200);
        }
      }
    })();
  }

  private see(p: Pod): void {
    const ns = p.metadata?.namespace ?? '';
    const node = p.spec?.nodeName;
    if (!node || !this.namespaces.has(ns)) return;
    const key = `${ns}/${p.metadata?.name}`;
    const before = this.nodeOf.get(key);
    if (before === undefined) {
      const now = Date.now();
      this.boundAt.set(key, now);
      this.nodeOf.set(key, node);
      this.lastBindAt = now;
    } else if (before !== node) this.rebound.push(`${key}: ${before} → ${node}`);
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    await this.running;
  }
}

/** Creates a batch's pods with `CREATORS` clients; returns when each create was sent, by namespace/name. */
async function createBatch(clients: ApiClient[], batch: PodBatch, prefix: string): Promise<Map<string, number>> {
  const sentAt = new Map<string, number>();
  await pool(batch.count, CREATORS, async (i) => {
    const name = `${prefix}-${i}`;
    const client = clients[i % clients.length]!;
    sentAt.set(`${batch.namespace}/${name}`, Date.now());
    await retrying(`create ${name}`, () => client.create(PODS, batch.pod(name) as Pod & KubeObject, batch.namespace)).catch((err: unknown) => {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    });
  });
  return sentAt;
}

/** Waits until every key in `keys` is bound, or nothing new was bound for STALL_MS. */
async function waitBound(watch: BindWatch, keys: Iterable<string>, what: string): Promise<boolean> {
  const want = [...keys];
  let lastReport = Date.now();
  for (;;) {
    const bound = want.filter((k) => watch.boundAt.has(k)).length;
    if (bound === want.length) return true;
    if (Date.now() - watch.lastBindAt > STALL_MS) {
      note(`${what}: ${bound} of ${want.length} bound; none more for ${STALL_MS / 1000} s: going on`);
      return false;
    }
    if (Date.now() - lastReport > 10_000) {
      note(`${what}: ${bound} of ${want.length} bound`);
      lastReport = Date.now();
    }
    await sleep(100);
  }
}

async function deleteAllPods(client: ApiClient, namespaces: string[]): Promise<void> {
  for (const ns of namespaces) {
    const { items } = await client.list<Pod & KubeObject>(PODS, { namespace: ns });
    await pool(items.length, CREATORS, async (i) => {
      await client.delete(PODS, items[i]!.metadata!.name!, { namespace: ns, gracePeriodSeconds: 0, ignoreNotFound: true }).catch(() => undefined);
    });
  }
  const deadline = Date.now() + 120_000;
  for (const ns of namespaces) {
    while ((await client.list(PODS, { namespace: ns })).items.length > 0) {
      if (Date.now() > deadline) throw new Error(`pods of ${ns} still there after 2 minutes`);
      await sleep(500);
    }
  }
}

function kubectlGetPodsAll(kubeconfig: string): Promise<{ ms: number; lines: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    execFile('kubectl', ['--kubeconfig', kubeconfig, 'get', 'pods', '-A', '--no-headers'], { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (err, stdout) => {
      if (err) return reject(err);
      resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, lines: stdout.split('\n').filter(Boolean).length });
    });
  });
}

/** Creates the bench's PriorityClasses when the API serves scheduling.k8s.io; else pods carry spec.priority. */
async function priorityStyle(client: ApiClient): Promise<PriorityStyle> {
  const path = '/apis/scheduling.k8s.io/v1/priorityclasses';
  try {
    for (const [name, value] of [['bench-low', 0], ['bench-high', 10]] as const) {
      await client.request('POST', path, { body: { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value } }).catch((err: unknown) => {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
      });
    }
    return { kind: 'class', low: 'bench-low', high: 'bench-high' };
  } catch (err) {
    note(`PriorityClasses not served (${(err as Error).message.slice(0, 80)}): pods carry spec.priority`);
    return { kind: 'field' };
  }
}

interface Result {
  workload: string;
  measured: number;
  bound: number;
  podsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  createSeconds: number;
  rule: string;
  held: boolean | undefined;
  /** The rule's plugin, and whether the running scheduler enforces its rule (a probe before the workload, or the workload's outcome). */
  plugin?: { name: string; enforced: ProbeOutcome };
  upstream: Workload['upstream'];
  /** CPU ms per measured pod, by process group, from the first measured create to the last bind seen. */
  cpuMsPerPod: Record<string, number>;
  /** The same less each group's background (idle) CPU over that time: what one more pod costs. */
  marginalCpuMsPerPod: Record<string, number>;
  /** Pods/s these marginal costs allow on this machine's cores once the background is paid (all processes on the same cores). */
  capacityPodsPerSecond: number;
}

/** CPU ms per second each group spends with nodes registered and no pods moving. */
type Background = Record<string, number>;

async function measureBackground(cpu: CpuGroups): Promise<Background> {
  const c0 = cpuNow(cpu);
  const t0 = Date.now();
  await sleep(IDLE_S * 1000);
  const c1 = cpuNow(cpu);
  const s = (Date.now() - t0) / 1000;
  const bg = Object.fromEntries(Object.keys(cpu).map((g) => [g, round((c1[g]! - c0[g]!) / s, 1)]));
  emit({ bench: 'scheduler', scenario: 'background', system: 'coxswain', nodes: NODE_COUNT, seconds: round(s, 1), cpuMsPerSecond: bg, ...machineLoad() });
  note(`background CPU ms per second over ${IDLE_S} s with ${NODE_COUNT} idle nodes: ${Object.entries(bg).map(([g, ms]) => `${g} ${ms}`).join(', ')}`);
  return bg;
}

/** Per-pod CPU less the background over `seconds`, and the pods/s that leaves room for on this machine's cores. */
function marginal(cpu0: Record<string, number>, cpu1: Record<string, number>, background: Background, seconds: number, pods: number): Pick<Result, 'marginalCpuMsPerPod' | 'capacityPodsPerSecond'> {
  const per = Object.fromEntries(Object.keys(cpu0).map((g) => [g, Math.max(0, (cpu1[g]! - cpu0[g]! - (background[g] ?? 0) * seconds) / Math.max(1, pods))]));
  const spare = os.cpus().length * 1000 - Object.values(background).reduce((a, b) => a + b, 0);
  const cost = Object.values(per).reduce((a, b) => a + b, 0);
  return { marginalCpuMsPerPod: Object.fromEntries(Object.entries(per).map(([g, v]) => [g, round(v, 2)])), capacityPodsPerSecond: round(cost > 0 ? spare / cost : NaN, 0) };
}

/** The processes whose CPU time is reported per pod, by group name. */
type CpuGroups = Record<string, () => Proc[]>;

/** CPU ms used so far by each group's processes. */
function cpuNow(groups: CpuGroups): Record<string, number> {
  return Object.fromEntries(Object.entries(groups).map(([g, procs]) => [g, procs().reduce((a, p) => a + ((p.child.pid ? cpuMs(p.child.pid) : undefined) ?? NaN), 0)]));
}

async function runWorkload(cp: ControlPlane, clients: ApiClient[], w: Workload, cpu: CpuGroups, background: Background, after?: () => Promise<void>): Promise<Result> {
  let enforced: ProbeOutcome | undefined;
  if (w.name === 'anti-affinity') enforced = await probeAntiAffinity(cp.client, `${HOLLOW_PREFIX}0`);
  if (w.name === 'topology-spread') enforced = await probeSpread(cp.client, ZONE_LABEL, ZONES[0]!);
  if (enforced) note(`${w.name}: probe says the rule is ${enforced}`);
  const namespaces = [...new Set([...w.init.map((b) => b.namespace), w.measure.namespace])];
  for (const ns of namespaces) {
    await cp.client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch((err: unknown) => {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    });
  }
  const watch = new BindWatch(cp.client, new Set(namespaces));
  await watch.start();
  const initKeys: string[] = [];
  for (const b of w.init) {
    note(`${w.name}: creating ${b.count} init pods in ${b.namespace}`);
    const sent = await createBatch(clients, b, 'init');
    initKeys.push(...sent.keys());
  }
  await waitBound(watch, initKeys, `${w.name} init`);
  note(`${w.name}: creating ${w.measure.count} measured pods in ${w.measure.namespace}`);
  const t0 = Date.now();
  const cpu0 = cpuNow(cpu);
  const sentAt = await createBatch(clients, w.measure, 'p');
  const createSeconds = (Date.now() - t0) / 1000;
  await waitBound(watch, sentAt.keys(), `${w.name} measured`);
  const cpu1 = cpuNow(cpu);
  const measuredS = (Date.now() - t0) / 1000;
  await watch.stop();
  if (watch.rebound.length > 0) note(`${w.name}: PODS BOUND TWICE: ${watch.rebound.slice(0, 5).join('; ')}`);
  const bound = new Map([...watch.boundAt].filter(([k]) => sentAt.has(k)));
  const t = throughput(sentAt, bound);
  const s = summarize(t.latenciesMs);
  const nodes = (await cp.client.list<Node & KubeObject>(NODES)).items;
  const zoneOf = new Map(nodes.map((n) => [n.metadata!.name!, n.metadata?.labels?.[ZONE_LABEL]]));
  const listPods = async (ns: string) => (await cp.client.list<Pod & KubeObject>(PODS, { namespace: ns })).items;
  const measuredPods = await listPods(w.measure.namespace);
  const initPods = (await Promise.all(w.init.map((b) => listPods(b.namespace)))).flat();
  const check = w.check(measuredPods, initPods, (n) => zoneOf.get(n));
  const r: Result = {
    workload: w.name, measured: w.measure.count, bound: t.bound, podsPerSecond: round(t.podsPerSecond, 1), p50Ms: s.p50Ms, p99Ms: s.p99Ms,
    createSeconds: round(createSeconds, 1), rule: check.detail, held: check.held, upstream: w.upstream,
    cpuMsPerPod: Object.fromEntries(Object.keys(cpu).map((g) => [g, round((cpu1[g]! - cpu0[g]!) / Math.max(1, t.bound), 2)])),
    ...marginal(cpu0, cpu1, background, measuredS, t.bound),
    // Preemption has no probe: all high-priority pods bound on full nodes is the proof.
    ...(w.plugin ? { plugin: { name: w.plugin, enforced: enforced ?? (check.held ? 'enforced' : 'not enforced') } } : {}),
  };
  emit({ bench: 'scheduler', scenario: w.name, system: 'coxswain', nodes: NODE_COUNT, ...r, latency: s, reboundPods: watch.rebound.length, ...machineLoad() });
  note(`${w.name}: ${r.bound}/${r.measured} bound, ${r.podsPerSecond} pods/s, p99 ${r.p99Ms} ms (creates took ${r.createSeconds} s); ${check.detail}${r.plugin && r.plugin.enforced !== 'enforced' ? ` (${r.plugin.name}: rule ${r.plugin.enforced}; plain scheduling)` : ''}`);
  note(`${w.name}: CPU ms per bound pod: ${Object.entries(r.cpuMsPerPod).map(([g, ms]) => `${g} ${ms}`).join(', ')}`);
  note(`${w.name}: less the background: ${Object.entries(r.marginalCpuMsPerPod).map(([g, ms]) => `${g} ${ms}`).join(', ')}; on ${os.cpus().length} cores that allows ${r.capacityPodsPerSecond} pods/s`);
  await after?.();
  note(`${w.name}: deleting its pods`);
  await deleteAllPods(cp.client, namespaces);
  return r;
}

async function measureFootprint(cp: ControlPlane, scheduler: Proc, hollow: Proc[]): Promise<void> {
  const kib = (p: Proc) => (p.child.pid ? rssKiB(p.child.pid) : undefined) ?? NaN;
  const pods = (await cp.client.list(PODS)).items.length;
  const runs: number[] = [];
  let lines = 0;
  for (let i = 0; i < 3; i++) {
    const r = await kubectlGetPodsAll(cp.kubeconfig).catch((err: Error) => {
      note(`kubectl get pods -A failed: ${err.message.split('\n').slice(0, 2).join(' ')}`);
      return { ms: NaN, lines: 0 };
    });
    runs.push(r.ms);
    lines = r.lines;
  }
  const rss = { apiserverMiB: round(kib(cp.apiserver) / 1024, 0), schedulerMiB: round(kib(scheduler) / 1024, 0), hollowNodesMiB: round(hollow.reduce((a, p) => a + kib(p), 0) / 1024, 0), storeMiB: round(cp.store.procs.reduce((a, p) => a + kib(p), 0) / 1024, 0) };
  emit({ bench: 'scheduler', scenario: 'footprint', system: 'coxswain', nodes: NODE_COUNT, pods, ...rss, kubectlGetPodsAllMs: runs.map((x) => round(x, 0)), kubectlLines: lines });
  table(`Footprint with ${NODE_COUNT} nodes and ${pods} pods`, [
    ['what', 'value'],
    ['apiserver RSS (MiB)', rss.apiserverMiB],
    ['scheduler RSS (MiB)', rss.schedulerMiB],
    ['store RSS (MiB, all replicas)', rss.storeMiB],
    ['hollow-nodes RSS (MiB)', rss.hollowNodesMiB],
    [`kubectl get pods -A (${lines} rows), ms, 3 runs`, runs.map((x) => Math.round(x)).join(' / ')],
  ]);
}

/**
 * API writes per pod on the way to Running: the create, the binding, the scheduler's Scheduled
 * event and the kubelet's status; kube-scheduler and a kubelet make the same ones.
 */
const WRITES_PER_POD = 4;

/** The machine's floor (bench/lib/machine-floor.ts), measured before anything else runs on the store. */
async function measureFloor(cp: ControlPlane): Promise<number> {
  const paths = pkiPaths(cp.dir);
  const req = await httpsFloor(cp.dir, paths.apiserver.cert, paths.apiserver.key, paths.ca.cert);
  const storePid = cp.store.procs[0]?.child.pid;
  const put = storePid ? await etcdPutFloor(cp.store.endpoints[0]!, storePid) : { serverMs: NaN, clientMs: NaN, perSecond: NaN };
  const podsPerSecond = round(floorPodsPerSecond(WRITES_PER_POD, req, put), 0);
  emit({ bench: 'scheduler', scenario: 'floor', system: 'machine', https: roundAll(req), storePut: roundAll(put), writesPerPod: WRITES_PER_POD, podsPerSecond, ...machineLoad() });
  note(`machine floor: an HTTPS hello request costs ${round(req.serverMs, 3)} ms CPU serving + ${round(req.clientMs, 3)} ms calling (${round(req.perSecond, 0)}/s at 32 in flight); a 2 KiB store Put ${round(put.serverMs, 3)} ms of the store's CPU; ${WRITES_PER_POD} writes per pod at that cost and nothing else: at most ${podsPerSecond} pods/s on ${os.cpus().length} cores`);
  return podsPerSecond;
}

const roundAll = (c: object) => Object.fromEntries(Object.entries(c as Record<string, number>).map(([k, v]) => [k, round(v, 3)]));

async function main(): Promise<void> {
  const quiet = await waitQuiet();
  emit({ bench: 'scheduler', kind: 'machine', ...machineLoad(), quiet, node: process.version, revision: sourceRevision(), nodes: NODE_COUNT, pods: POD_COUNT, store: STORE });
  note(`starting the store (${STORE === 'etcd' ? 'etcd' : `Coxswain, ${REPLICAS} replica(s)`}), the apiserver and the scheduler`);
  const cp = await startControlPlane({ store: STORE, replicas: REPLICAS, serviceCidr: '10.175.0.0/16' });
  const procs: Proc[] = [];
  try {
    const floor = await measureFloor(cp);
    const scheduler = cp.startComponent('scheduler', ['--port', String(await freePort())]);
    const t0 = Date.now();
    procs.push(startProcess('hollow-nodes', cp.dir, [
      'hollow-nodes', '--kubeconfig', cp.kubeconfig, '--count', String(NODE_COUNT), '--prefix', HOLLOW_PREFIX, '--zones', ZONES.join(','),
      '--cpu', '4', '--memory', '32Gi', '--pods', '110', '--lease-renew-interval', '10s', '--lease-duration-seconds', '40', '--node-status-interval', '60s',
    ], { env: { COXSWAIN_LOG_LEVEL: 'warn' } }));
    for (;;) {
      const ready = (await cp.client.list<Node & KubeObject>(NODES)).items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      if (ready >= NODE_COUNT) break;
      if (Date.now() - t0 > 300_000) throw new Error(`only ${ready} of ${NODE_COUNT} hollow nodes Ready after 5 minutes`);
      await sleep(500);
    }
    note(`${NODE_COUNT} hollow nodes Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const priority = await priorityStyle(cp.client);
    const clients = Array.from({ length: Math.ceil(CREATORS / 50) }, () => new ApiClient(cp.client.config));
    const all = workloads(NODE_COUNT, POD_COUNT, priority);
    const unknown = WANTED.filter((w) => !all.some((x) => x.name === w));
    if (unknown.length) throw new Error(`unknown workload ${unknown.join(', ')}; known: ${all.map((w) => w.name).join(', ')}`);
    const results: Result[] = [];
    const cpu: CpuGroups = { apiserver: () => [cp.apiserver], scheduler: () => [scheduler], 'hollow-nodes': () => procs, store: () => cp.store.procs };
    const background = await measureBackground(cpu);
    for (const w of all.filter((x) => WANTED.includes(x.name))) {
      try {
        results.push(await runWorkload(cp, clients, w, cpu, background, w.name === 'basic' ? () => measureFootprint(cp, scheduler, procs) : undefined));
      } catch (err) {
        note(`${w.name}: FAILED: ${(err as Error).message}`);
        emit({ bench: 'scheduler', scenario: w.name, system: 'coxswain', error: (err as Error).message });
      }
    }
    table(`Scheduler: ${NODE_COUNT} hollow nodes (revision ${sourceRevision()}); pods/s = bound ÷ (last bind − first create); kube-scheduler's CI thresholds are for 5,000 nodes; this machine's floor (${WRITES_PER_POD} writes per pod at the cost of an HTTPS hello request and a store Put each): ${floor} pods/s`, [
      ['workload', 'measured', 'bound', 'pods/s', 'p50 ms', 'p99 ms', 'creates s', 'CPU ms/pod: apiserver', 'scheduler', 'less background: apiserver / scheduler / hollow / store', 'pods/s these allow', 'upstream test (size)', 'CI threshold', 'plugin', 'rule held'],
      ...results.map((r) => [
        r.workload, r.measured, r.bound, r.podsPerSecond, r.p50Ms, r.p99Ms, r.createSeconds, r.cpuMsPerPod.apiserver ?? NaN, r.cpuMsPerPod.scheduler ?? NaN,
        ['apiserver', 'scheduler', 'hollow-nodes', 'store'].map((g) => r.marginalCpuMsPerPod[g] ?? NaN).join(' / '), r.capacityPodsPerSecond, `${r.upstream.test} (${r.upstream.size})`, r.upstream.threshold ?? '-',
        r.plugin ? `${r.plugin.name}: ${r.plugin.enforced === 'enforced' ? 'enforced' : r.plugin.enforced.toUpperCase()}` : '-', r.held === undefined ? '-' : `${r.held ? 'yes' : 'NO'}: ${r.rule}`,
      ]),
    ]);
    const missing = results.filter((r) => r.plugin && r.plugin.enforced !== 'enforced');
    if (missing.length) note(`Rules this scheduler does not enforce yet (issue 14): ${missing.map((r) => r.plugin!.name).join(', ')}. Those workloads' numbers are plain scheduling of the same pods (the pods carry the fields; nothing acts on them).`);
    for (const c of clients) c.close();
  } finally {
    for (const p of procs) await stopProcess(p);
    await cp.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
