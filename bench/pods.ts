/**
 * bench:pods — pod start-up through Coxswain against plain `docker run -d`,
 * side by side in the same run.
 *
 * Coxswain side: a whole cluster from `coxswain up` (test/lib/up.ts, on its own
 * ports and address ranges), then
 *   - burst:  N pods created one after another as fast as the API accepts them
 *             (what `coxctl apply` of N pods does); per pod, create request sent →
 *             phase Running seen on a watch (ApiClient.watch on pods);
 *   - serial: M pods, each created only after the previous one is Running;
 *   - paced:  N pods created at a fixed rate R per second, each create sent at
 *             its slot whatever the others do (Kubernetes' density-test style).
 *             This is the fair measure of the start-up latency SLO; the burst
 *             measures queueing throughput.
 * Baselines: `docker run -d` of the same image and command, N times
 *   - docker serial: in a loop (each returns once its container started);
 *   - docker burst:  all N at once (concurrent `docker run -d` processes);
 *   - docker paced:  N `docker run -d` started at the same rate R;
 * per container, command started → `start` event seen on `docker events`
 * (and → `docker run -d` returned). Ratios: burst/burst and serial/serial.
 *
 * Also the RSS (VmRSS) of every Coxswain process with 0 pods and with N pods.
 * N = COXSWAIN_BENCH_PODS (default 100), M = COXSWAIN_BENCH_PODS_SERIAL (default 20),
 * R = COXSWAIN_BENCH_PODS_RATE (default 2: the node keeps up, two containers per pod; see docs/performance.md).
 * Everything created is deleted at the end (pods through the API, then any
 * leftover container, the node's pod bridge and the proxy's loopback IPs).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import type { ApiClient, WatchEvent } from '../lib/client';
import { bridgeNameFor, removeBridge } from '../kubelet/pod-network';
import { NODES, PODS } from '../lib/resources';
import { waitFor } from '../test/lib/cluster';
import { sh } from '../test/lib/docker';
import { pidsMatching, startUp, type UpCluster } from '../test/lib/up';
import { emit, envInt, machineLoad, note, round, rssKiB, sleep, summarize, sourceRevision, table, waitQuiet, type Summary } from './lib/report';

const NODE = 'bench-node';
const SERVICE_CIDR = '10.114.0.0/16';
const CLUSTER_CIDR = '10.247.0.0/16';
const NS = 'default';
const IMAGE = 'busybox:1.36';
/** A shell that sleeps and exits at once on SIGTERM (sleep in the background, `wait` is interruptible). */
const COMMAND = ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"];
const POD_PREFIX = 'cbench-';
const LABEL = 'coxswain-bench';

function podManifest(name: string, runId: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { [LABEL]: runId } },
    spec: { containers: [{ name: 'main', image: IMAGE, imagePullPolicy: 'Never', command: COMMAND }] },
  };
}

/** Watches pods with our label and records the first time each is seen Running. */
class RunningWatch {
  readonly runningAt = new Map<string, number>();
  readonly seen = new Set<string>();
  private readonly ac = new AbortController();
  private done: Promise<void> = Promise.resolve();
  error: unknown;

  constructor(private readonly client: ApiClient, private readonly selector: string) {}

  async start(): Promise<void> {
    const list = await this.client.list<Pod & { metadata: { name: string } }>(PODS, { namespace: NS, labelSelector: this.selector });
    for (const p of list.items) if (p.status?.phase === 'Running') this.runningAt.set(p.metadata!.name!, performance.now());
    this.done = this.client
      .watch<Pod & { metadata: { name: string } }>(PODS, { namespace: NS, labelSelector: this.selector, resourceVersion: list.metadata?.resourceVersion, signal: this.ac.signal }, (ev: WatchEvent<Pod & { metadata: { name: string } }>) => {
        const at = performance.now();
        const name: string | undefined = ev.object?.metadata?.name;
        if (!name) return;
        this.seen.add(name);
        if ((ev.type === 'ADDED' || ev.type === 'MODIFIED') && ev.object.status?.phase === 'Running' && !this.runningAt.has(name)) this.runningAt.set(name, at);
      })
      .catch((err) => { this.error = err; });
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.done;
  }
}

interface Side {
  latenciesMs: number[];
  makespanS: number;
  extra?: Record<string, unknown>;
}

/** `serial`: wait for each pod to run before the next; a number: send creates at that rate per second, not waiting for each other. */
async function coxswainBurst(client: ApiClient, n: number, runId: string, tag: string, serial: boolean | number, timeoutMs: number): Promise<Side> {
  const selector = `${LABEL}=${runId}-${tag}`;
  const w = new RunningWatch(client, selector);
  await w.start();
  const created = new Map<string, number>();
  const t0 = performance.now();
  let createErrors = 0;
  const createOne = async (name: string): Promise<boolean> => {
    created.set(name, performance.now());
    try {
      await client.create(PODS, podManifest(name, `${runId}-${tag}`), NS);
      return true;
    } catch (err) {
      createErrors++;
      created.delete(name);
      note(`create ${name}: ${err}`);
      return false;
    }
  };
  const inFlight: Promise<boolean>[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${POD_PREFIX}${tag}-${i}`;
    if (typeof serial === 'number') {
      await sleep(Math.max(0, t0 + (i * 1000) / serial - performance.now()));
      inFlight.push(createOne(name));
      continue;
    }
    if (!(await createOne(name))) continue;
    if (serial) await waitFor(`${name} Running`, () => w.runningAt.has(name), timeoutMs, 5);
  }
  await Promise.all(inFlight);
  const createsS = (performance.now() - t0) / 1000;
  await waitFor(`${created.size} pods Running`, () => [...created.keys()].every((k) => w.runningAt.has(k)), timeoutMs, 50).catch((err) => note(String(err)));
  await w.stop();
  const lat = [...created].filter(([k]) => w.runningAt.has(k)).map(([k, t]) => w.runningAt.get(k)! - t);
  const last = Math.max(...[...created.keys()].map((k) => w.runningAt.get(k) ?? 0));
  return { latenciesMs: lat, makespanS: (last - t0) / 1000, extra: { createErrors, notRunning: created.size - lat.length, createLoopS: round(createsS, 3) } };
}

async function deleteAllPods(client: ApiClient, selector: string, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const list = await client.list<Pod>(PODS, { namespace: NS, labelSelector: selector });
  await Promise.all(list.items.map((p) => client.delete(PODS, p.metadata!.name!, { namespace: NS, ignoreNotFound: true })));
  await waitFor('all bench pods deleted', async () => (await client.list(PODS, { namespace: NS, labelSelector: selector })).items.length === 0, timeoutMs, 250);
  return (performance.now() - t0) / 1000;
}

/**
 * `docker run -d` N times, either in a loop (serial: each returns once its
 * container started) or all at once (burst: N concurrent `docker run -d`, like
 * `for i in ...; do docker run -d ... & done`). Start times from `docker events`.
 */
async function dockerRuns(n: number, runId: string, tag: string, burst: boolean | number): Promise<Side & { cliLatenciesMs: number[] }> {
  const label = `${LABEL}=${runId}`;
  const startedAt = new Map<string, number>();
  const ev = spawn('docker', ['events', '--filter', 'type=container', '--filter', 'event=start', '--filter', `label=${label}`, '--format', '{{json .}}'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let buf = '';
  ev.stdout.on('data', (c: Buffer) => {
    const at = performance.now();
    buf += c.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const e = JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } };
        const name = e.Actor?.Attributes?.name;
        if (name && !startedAt.has(name)) startedAt.set(name, at);
      } catch {
        // not JSON
      }
    }
  });
  try {
    await sleep(500); // let `docker events` subscribe
    const sent = new Map<string, number>();
    const cli: number[] = [];
    let runErrors = 0;
    const t0 = performance.now();
    const one = async (i: number) => {
      const name = `${POD_PREFIX}docker-${tag}-${runId}-${i}`;
      const s = performance.now();
      sent.set(name, s);
      try {
        await sh('docker', ['run', '-d', '--name', name, '--label', label, IMAGE, ...COMMAND], { timeoutMs: 300_000 });
        cli.push(performance.now() - s);
      } catch (err) {
        runErrors++;
        sent.delete(name);
        note(String(err));
      }
    };
    if (typeof burst === 'number') {
      // Paced: run i starts at t0 + i/rate seconds, whether or not the earlier ones returned.
      const runs: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        await sleep(Math.max(0, t0 + (i * 1000) / burst - performance.now()));
        runs.push(one(i));
      }
      await Promise.all(runs);
    } else if (burst) await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
    else for (let i = 0; i < n; i++) await one(i);
    await waitFor('docker start events for every container', () => [...sent.keys()].every((k) => startedAt.has(k)), 30_000, 50).catch((err) => note(String(err)));
    const lat = [...sent].filter(([k]) => startedAt.has(k)).map(([k, t]) => startedAt.get(k)! - t);
    const last = Math.max(...[...sent.keys()].map((k) => startedAt.get(k) ?? 0));
    return { latenciesMs: lat, cliLatenciesMs: cli, makespanS: (last - t0) / 1000, extra: { runErrors, missingEvents: sent.size - lat.length } };
  } finally {
    ev.kill('SIGTERM');
  }
}

async function dockerRemove(runId: string): Promise<number> {
  const t0 = performance.now();
  const ids = (await sh('docker', ['ps', '-aq', '--filter', `label=${LABEL}=${runId}`])).split('\n').filter(Boolean);
  if (ids.length) await sh('docker', ['rm', '-f', ...ids], { timeoutMs: 300_000 });
  return (performance.now() - t0) / 1000;
}

interface Procs { [name: string]: number | undefined }

function findProcs(home: string): Procs {
  const mine = (needle: string) => pidsMatching(needle).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(home);
    } catch {
      return false;
    }
  });
  const out: Procs = {};
  for (const s of ['s1', 's2', 's3']) out[`store-${s}`] = mine(`${path.join(home, 'store', s)} `) ?? mine(path.join(home, 'store', s));
  for (const c of ['apiserver', 'scheduler', 'controllers', 'kubelet', 'proxy']) out[c] = mine(`coxswain.js ${c} `);
  return out;
}

function rssMiB(procs: Procs): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, pid] of Object.entries(procs)) out[k] = pid ? round((rssKiB(pid) ?? NaN) / 1024, 1) : NaN;
  return out;
}

async function cleanupHost(home: string, runId: string): Promise<void> {
  // Containers the kubelet left behind (pods of this bench) and the docker baseline's.
  const rows = (await sh('docker', ['ps', '-a', '--filter', `label=io.kubernetes.pod.namespace=${NS}`, '--format', '{{.ID}} {{.Label "io.kubernetes.pod.name"}}']).catch(() => '')).split('\n');
  const ids = rows.map((r) => r.split(' ')).filter(([, name]) => name?.startsWith(POD_PREFIX)).map(([id]) => id);
  if (ids.length) {
    note(`removing ${ids.length} leftover pod containers`);
    await sh('docker', ['rm', '-f', ...ids], { timeoutMs: 300_000 }).catch((err) => note(String(err)));
  }
  await dockerRemove(runId).catch(() => undefined);
  await removeBridge(bridgeNameFor(`coxswain-${NODE}`));
  for (const line of (await sh('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo']).catch(() => '')).split('\n')) {
    const m = /inet (10\.114\.\d+\.\d+)\/32/.exec(line);
    if (m) await sh('ip', ['addr', 'del', `${m[1]}/32`, 'dev', 'lo']).catch(() => undefined);
  }
  for (const pid of pidsMatching(home)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export async function benchPods(): Promise<void> {
  const n = envInt('COXSWAIN_BENCH_PODS', 100);
  const m = envInt('COXSWAIN_BENCH_PODS_SERIAL', 20);
  const rate = envInt('COXSWAIN_BENCH_PODS_RATE', 2);
  const runId = `r${Date.now()}`;
  const podTimeoutMs = 120_000 + n * 3_000;
  const home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-bench-pods-'));
  let cluster: UpCluster | undefined;
  let client: ApiClient | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = () => (cleaned ??= (async () => {
    if (client) {
      for (const tag of ['warm', 'burst', 'serial', 'paced']) await deleteAllPods(client, `${LABEL}=${runId}-${tag}`, 180_000).catch((err) => note(`deleting pods: ${err}`));
      client.close();
    }
    await cluster?.interrupt().catch(() => undefined);
    await cleanupHost(home, runId);
    if (!process.env.COXSWAIN_KEEP_TEST_DIRS) await rm(home, { recursive: true, force: true });
  })());
  const onSignal = (sig: NodeJS.Signals) => {
    note(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    emit({ bench: 'pods', kind: 'machine', runId, ...(await waitQuiet()), nproc: machineLoad().nproc, node: process.version, revision: sourceRevision() });
    note(`pods: coxswain up in ${home} (load ${machineLoad().loadavg.join(' ')})`);
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: '32000-32767', readyTimeoutMs: 120_000 });
    client = cluster.client();
    const c = client;
    await waitFor('the node to be Ready with a podCIDR', async () => {
      const node = await c.get<Node & { metadata: { name: string } }>(NODES, NODE);
      return node.spec?.podCIDR && node.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
    }, 60_000, 250);
    const procs = findProcs(home);
    note(`processes: ${JSON.stringify(procs)}`);

    // Warm-up, both sides: one pod through Coxswain, one docker run; not recorded.
    await coxswainBurst(c, 1, runId, 'warm', true, 60_000);
    await deleteAllPods(c, `${LABEL}=${runId}-warm`, 60_000);
    await sh('docker', ['run', '-d', '--name', `${POD_PREFIX}docker-warm-${runId}`, '--label', `${LABEL}=${runId}`, IMAGE, ...COMMAND]);
    await dockerRemove(runId);
    await sleep(2_000);

    const rss0 = rssMiB(procs);
    const load0 = machineLoad();
    note(`RSS with 0 pods (MiB): ${JSON.stringify(rss0)}`);

    note(`coxswain: creating ${n} pods (burst)`);
    const burst = await coxswainBurst(c, n, runId, 'burst', false, podTimeoutMs);
    await sleep(2_000);
    const rssN = rssMiB(procs);
    note(`RSS with ${n} pods (MiB): ${JSON.stringify(rssN)}`);
    const delBurstS = await deleteAllPods(c, `${LABEL}=${runId}-burst`, podTimeoutMs);

    note(`coxswain: creating ${m} pods one at a time (serial)`);
    const serial = await coxswainBurst(c, m, runId, 'serial', true, 60_000);
    const delSerialS = await deleteAllPods(c, `${LABEL}=${runId}-serial`, 120_000);

    let paced: Side | undefined;
    if (rate > 0) {
      await sleep(2_000);
      note(`coxswain: creating ${n} pods at ${rate}/s (paced)`);
      paced = await coxswainBurst(c, n, runId, 'paced', rate, podTimeoutMs);
      await deleteAllPods(c, `${LABEL}=${runId}-paced`, podTimeoutMs);
    }

    note(`docker: docker run -d x ${n} in a loop (serial)`);
    const dSerial = await dockerRuns(n, runId, 'serial', false);
    const dockerRmSerialS = await dockerRemove(runId);
    await sleep(2_000);
    note(`docker: docker run -d x ${n} all at once (burst)`);
    const dBurst = await dockerRuns(n, runId, 'burst', true);
    const dockerRmBurstS = await dockerRemove(runId);
    let dPaced: (Side & { cliLatenciesMs: number[] }) | undefined;
    if (rate > 0) {
      await sleep(2_000);
      note(`docker: docker run -d x ${n} at ${rate}/s (paced)`);
      dPaced = await dockerRuns(n, runId, 'paced', rate);
      await dockerRemove(runId);
    }

    const bs = summarize(burst.latenciesMs);
    const ss = summarize(serial.latenciesMs);
    const dss = summarize(dSerial.latenciesMs);
    const dbs = summarize(dBurst.latenciesMs);
    const base = { bench: 'pods', runId, image: IMAGE };
    emit({ ...base, scenario: 'burst', system: 'coxswain', description: `${n} pods created back to back; create sent → Running seen on a watch`, pods: n, makespanS: round(burst.makespanS, 3), podsPerSec: round(n / burst.makespanS, 2), ...bs, ...burst.extra, deleteAllS: round(delBurstS, 2), ...load0 });
    emit({ ...base, scenario: 'serial', system: 'coxswain', description: `${m} pods, each created after the previous is Running`, pods: m, makespanS: round(serial.makespanS, 3), ...ss, ...serial.extra, deleteAllS: round(delSerialS, 2), ...machineLoad() });
    emit({ ...base, scenario: 'serial', system: 'docker', description: `docker run -d x ${n} in a loop; command started → start event`, pods: n, makespanS: round(dSerial.makespanS, 3), podsPerSec: round(n / dSerial.makespanS, 2), ...dss, cli: summarize(dSerial.cliLatenciesMs), ...dSerial.extra, removeAllS: round(dockerRmSerialS, 2), ...machineLoad() });
    emit({ ...base, scenario: 'burst', system: 'docker', description: `docker run -d x ${n} all at once; command started → start event`, pods: n, makespanS: round(dBurst.makespanS, 3), podsPerSec: round(n / dBurst.makespanS, 2), ...dbs, cli: summarize(dBurst.cliLatenciesMs), ...dBurst.extra, removeAllS: round(dockerRmBurstS, 2), ...machineLoad() });
    emit({ ...base, kind: 'ratio', scenario: 'burst', of: 'coxswain/docker', p50: round(bs.p50Ms / dbs.p50Ms, 3), p99: round(bs.p99Ms / dbs.p99Ms, 3), makespan: round(burst.makespanS / dBurst.makespanS, 3) });
    emit({ ...base, kind: 'ratio', scenario: 'serial', of: 'coxswain/docker', p50: round(ss.p50Ms / dss.p50Ms, 3), p99: round(ss.p99Ms / dss.p99Ms, 3), perPodMakespan: round((serial.makespanS / m) / (dSerial.makespanS / n), 3) });
    const ps = paced && summarize(paced.latenciesMs);
    const dps = dPaced && summarize(dPaced.latenciesMs);
    if (paced && dPaced && ps && dps) {
      emit({ ...base, scenario: 'paced', system: 'coxswain', description: `${n} pods created at ${rate}/s; create sent → Running seen on a watch`, pods: n, ratePerS: rate, makespanS: round(paced.makespanS, 3), ...ps, ...paced.extra, ...machineLoad() });
      emit({ ...base, scenario: 'paced', system: 'docker', description: `docker run -d x ${n} at ${rate}/s; command started → start event`, pods: n, ratePerS: rate, makespanS: round(dPaced.makespanS, 3), ...dps, cli: summarize(dPaced.cliLatenciesMs), ...dPaced.extra, ...machineLoad() });
      emit({ ...base, kind: 'ratio', scenario: 'paced', of: 'coxswain/docker', p50: round(ps.p50Ms / dps.p50Ms, 3), p99: round(ps.p99Ms / dps.p99Ms, 3) });
    }
    emit({ ...base, kind: 'rss', pods: 0, rssMiB: rss0 });
    emit({ ...base, kind: 'rss', pods: n, rssMiB: rssN });

    const row = (label: string, s: Summary, makespan: number) => [label, s.count, s.p50Ms, s.p99Ms, s.maxMs, round(makespan, 2), round(s.count / makespan, 2)];
    table(`pods: start-up latency, ${IMAGE} (load avg ${machineLoad().loadavg.join(' ')})`, [
      ['run', 'count', 'p50 ms', 'p99 ms', 'max ms', 'makespan s', 'per s'],
      row('coxswain burst (create sent → Running on watch)', bs, burst.makespanS),
      row('docker burst (N x docker run -d at once → start event)', dbs, dBurst.makespanS),
      ['ratio burst coxswain/docker', '', bs.p50Ms / dbs.p50Ms, bs.p99Ms / dbs.p99Ms, '', burst.makespanS / dBurst.makespanS, ''],
      row('coxswain serial (next create once Running)', ss, serial.makespanS),
      row('docker serial (docker run -d loop → start event)', dss, dSerial.makespanS),
      ['ratio serial coxswain/docker', '', ss.p50Ms / dss.p50Ms, ss.p99Ms / dss.p99Ms, '', '', ''],
      ...(paced && dPaced && ps && dps
        ? [
            row(`coxswain paced (${rate}/s, create sent → Running on watch)`, ps, paced.makespanS),
            row(`docker paced (docker run -d at ${rate}/s → start event)`, dps, dPaced.makespanS),
            ['ratio paced coxswain/docker', '', ps.p50Ms / dps.p50Ms, ps.p99Ms / dps.p99Ms, '', '', ''],
          ]
        : []),
    ]);
    table('pods: RSS (MiB)', [
      ['process', '0 pods', `${n} pods`],
      ...Object.keys(procs).map((k) => [k, rss0[k], rssN[k]]),
      ['total', Object.values(rss0).reduce((a, b) => a + b, 0), Object.values(rssN).reduce((a, b) => a + b, 0)],
    ]);
  } finally {
    await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

if (require.main === module) {
  benchPods().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
