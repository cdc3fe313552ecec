/**
 * bench:failover — how fast a cluster of several hosts heals, on the multi-host
 * test bed (test/lib/bed.ts: network namespaces on a bridge, a dockerd each):
 * three `coxswain server` hosts and one `coxswain agent`.
 *
 *   - host cut → its node NotReady: the agent's link is cut (no packet in or
 *     out, as a pulled cable), the Node's Ready condition watched;
 *   - host cut → all its pods Running and Ready elsewhere: a Deployment of
 *     COXSWAIN_BENCH_FAILOVER_REPLICAS pods spread over the four hosts; the time
 *     until as many Ready pods, none Terminating, none on the cut host;
 *   - API unavailability after losing the store leader's host: writes (four
 *     writers, each a ConfigMap update every 50 ms with a 1 s timeout) through
 *     a surviving server's apiserver; the longest gap between two successful
 *     writes around the cut. Baseline: etcd on the same hosts, the same cut.
 * Each is the median of COXSWAIN_BENCH_FAILOVER_RUNS runs (default 5); after
 * each run the host's link is restored and the cluster let settle.
 * Reference (no run: the same machine cannot host it): Kubernetes' defaults
 * mark a node NotReady after 40 s (node-monitor-grace-period) and evict after
 * 300 s more (default tolerationSeconds).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { ApiClient } from '../lib/client';
import { loadKubeconfig } from '../lib/kubeconfig';
import { CONFIGMAPS, NODES, PODS } from '../lib/resources';
import { createBed, type Bed, type BedHost } from '../test/lib/bed';
import { kubectl, startNode, stopNode, waitReady, type HostNode } from '../test/lib/multihost';
import { waitFor } from '../test/lib/util';
import { EtcdConn, findLeader } from './lib/etcd-client';
import { emit, envInt, machineLoad, note, round, sourceRevision, table } from './lib/report';
import { ETCD_BIN } from './lib/store-clusters';

const run = promisify(execFile);
const RUNS = envInt('COXSWAIN_BENCH_FAILOVER_RUNS', 5);
const REPLICAS = envInt('COXSWAIN_BENCH_FAILOVER_REPLICAS', 8);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ready = (n: Node | undefined) => n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
const podReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

async function healedPods(client: ApiClient, victim: string): Promise<number> {
  const pods = (await client.list<Pod>(PODS, { namespace: 'default', labelSelector: 'app=failover' })).items;
  return pods.filter((p) => podReady(p) && !p.metadata?.deletionTimestamp && p.spec?.nodeName !== victim).length;
}

/** Polls `cond` every 50 ms; resolves with the ms from `t0` when it first holds. */
async function timeUntil(t0: number, what: string, cond: () => Promise<boolean>, timeoutMs = 120_000): Promise<number> {
  await waitFor(what, async () => (await cond().catch(() => false)) || undefined, timeoutMs, 50);
  return Date.now() - t0;
}

/**
 * The host of the store's Raft leader, asked with the real etcdctl over mutual TLS; undefined
 * until every member answers and exactly one says it leads (a member just back has not yet
 * heard from the leader). The simple output, since member IDs exceed JSON's safe integers.
 */
async function storeLeaderHost(servers: HostNode[]): Promise<HostNode | undefined> {
  const pki = path.join(servers[0].home, 'pki');
  const { stdout } = await run('etcdctl', ['--endpoints', servers.map((s) => `https://${s.host.ip}:2379`).join(','), '--cacert', `${pki}/store-ca.crt`, '--cert', `${pki}/store-client.crt`, '--key', `${pki}/store-client.key`, '--command-timeout=3s', 'endpoint', 'status', '-w', 'simple'], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 20_000 }).catch(() => ({ stdout: '' }));
  const rows = stdout.split('\n').filter(Boolean).map((l) => l.split(', '));
  const leaders = rows.filter((r) => r[4] === 'true');
  if (rows.length !== servers.length || leaders.length !== 1) return undefined;
  return servers.find((s) => leaders[0][0] === `https://${s.host.ip}:2379`);
}

/**
 * The baseline for the API's unavailability: a three-member etcd (etcd's defaults: 100 ms
 * heartbeat, 1 s election timeout) on the same three hosts, the same cut of its leader's host,
 * the same write loops (see writeGapAcrossCut) against a surviving member. What it
 * measures is the floor a Raft store sets; Coxswain's number adds the apiserver on top.
 */
async function etcdBaseline(bed: Bed, hosts: BedHost[], runs: number): Promise<number[]> {
  const procs = hosts.map((h, i) => bed.spawn(h, ETCD_BIN, [
    '--name', `e${i + 1}`, '--data-dir', path.join(h.dir, 'etcd'),
    '--listen-client-urls', `http://${h.ip}:12379`, '--advertise-client-urls', `http://${h.ip}:12379`,
    '--listen-peer-urls', `http://${h.ip}:12380`, '--initial-advertise-peer-urls', `http://${h.ip}:12380`,
    '--initial-cluster', hosts.map((x, j) => `e${j + 1}=http://${x.ip}:12380`).join(','), '--initial-cluster-state', 'new',
  ], { stdio: 'ignore' }));
  const endpoints = hosts.map((h) => `${h.ip}:12379`);
  const gaps: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const leader = await waitFor('an etcd leader every member agrees on', () => findLeader(endpoints).catch(() => undefined), 60_000, 200);
      const victim = hosts[endpoints.indexOf(leader.endpoint)];
      const conn = new EtcdConn(endpoints.find((e) => e !== leader.endpoint)!);
      gaps.push(await writeGapAcrossCut(bed, victim, (n) => conn.put(Buffer.from('probe'), Buffer.from(String(n)), 1_000)));
      conn.close();
      note(`etcd run ${i + 1}: leader on ${victim.name} cut; longest write gap ${gaps[i]} ms`);
      await bed.restore(victim);
    }
  } finally {
    for (const p of procs) p.kill('SIGKILL');
  }
  return gaps;
}

/**
 * Writes with `write` from four writers, each every 50 ms with its own 1 s timeout (one writer
 * would see a stalled request as a full timeout: the gap would come out in whole seconds), cuts
 * `victim` after a second of steady writes, and returns the longest gap between two successful
 * writes, once writes have gone on for 5 s past it.
 */
async function writeGapAcrossCut(bed: Bed, victim: BedHost, write: (n: number) => Promise<unknown>): Promise<number> {
  let lastOk = Date.now();
  let worstGap = 0;
  let n = 0;
  let stop = false;
  const writer = async (offsetMs: number) => {
    await new Promise((r) => setTimeout(r, offsetMs));
    while (!stop) {
      const t = Date.now();
      try {
        await write(++n);
        const now = Date.now();
        worstGap = Math.max(worstGap, now - lastOk);
        lastOk = Math.max(lastOk, now);
      } catch {
        // unavailable: counted in the gap
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 50 - (Date.now() - t))));
    }
  };
  const writers = Promise.all([0, 12, 25, 37].map(writer));
  await waitFor('a second of steady writes', () => (n > 40 && Date.now() - lastOk < 200) || undefined, 30_000, 50);
  worstGap = 0;
  const t0 = Date.now();
  await bed.cut(victim);
  await waitFor('writes back', () => (Date.now() - lastOk < 200 && Date.now() - t0 > 5_000 + worstGap) || undefined, 120_000, 50);
  stop = true;
  await writers;
  return worstGap;
}

async function main(): Promise<void> {
  note(`bench:failover: ${RUNS} runs each, ${REPLICAS} pods; load ${machineLoad().loadavg.join(' ')}`);
  const bed: Bed = await createBed({ prefix: 'cxf', hosts: 4 });
  const nodes: HostNode[] = [];
  try {
    const h = bed.hosts;
    const s1 = startNode(bed, h[0], 'server');
    nodes.push(s1);
    await waitReady(s1);
    const token = `${(await import('node:fs')).readFileSync(path.join(s1.home, 'token'), 'utf8').trim()}`;
    const join = ['--server', `https://${h[0].ip}:6443`, '--token', token];
    const rest = [startNode(bed, h[1], 'server', join), startNode(bed, h[2], 'server', join), startNode(bed, h[3], 'agent', join)];
    nodes.push(...rest);
    await Promise.all(rest.map((n) => waitReady(n)));
    const servers = nodes.filter((n) => n.role === 'server');
    const clientVia = (n: HostNode) => new ApiClient(loadKubeconfig(n.kubeconfig));
    // busybox's sleep as PID 1 ignores SIGTERM: a short grace keeps the rollouts between runs quick
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'failover' }, spec: { replicas: REPLICAS, selector: { matchLabels: { app: 'failover' } }, template: { metadata: { labels: { app: 'failover' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'sleep', image: 'busybox:1.36', command: ['sleep', '86400'] }] } } } };
    await kubectl(s1.kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(deployment) });

    const notReadyMs: number[] = [];
    const healedMs: number[] = [];
    const agent = nodes[3];
    const c1 = clientVia(s1);
    for (let i = 0; i < RUNS; i++) {
      await waitFor('all pods Ready, spread', async () => (await healedPods(c1, '')) === REPLICAS || undefined, 180_000, 200);
      const victim: BedHost = agent.host;
      const t0 = Date.now();
      await bed.cut(victim);
      const [nr, healed] = await Promise.all([
        timeUntil(t0, 'node NotReady', async () => !ready(await c1.tryGet<Node>(NODES, victim.name))),
        timeUntil(t0, 'pods Ready elsewhere', async () => (await healedPods(c1, victim.name)) === REPLICAS),
      ]);
      notReadyMs.push(nr);
      healedMs.push(healed);
      note(`run ${i + 1}: NotReady after ${(nr / 1000).toFixed(1)} s, pods Ready elsewhere after ${(healed / 1000).toFixed(1)} s`);
      await bed.restore(victim);
      await waitFor('node Ready again', async () => ready(await c1.tryGet<Node>(NODES, victim.name)) || undefined, 120_000, 200);
      // spread again: the Deployment is restarted so the agent gets pods for the next run
      await kubectl(s1.kubeconfig, ['rollout', 'restart', 'deployment/failover']);
      await kubectl(s1.kubeconfig, ['rollout', 'status', 'deployment/failover', '--timeout=180s'], { timeoutMs: 200_000 });
    }
    c1.close();

    const unavailableMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const leader = await waitFor('every store member answering, one leader', () => storeLeaderHost(servers), 120_000, 500);
      const other = servers.find((s) => s !== leader)!;
      const c = clientVia(other);
      await c.create(CONFIGMAPS, { metadata: { name: `probe-${i}` }, data: { n: '0' } }, 'default').catch(() => undefined);
      const worstGap = await writeGapAcrossCut(bed, leader.host, (n) =>
        c.request('PATCH', `/api/v1/namespaces/default/configmaps/probe-${i}`, { body: { data: { n: String(n) } }, contentType: 'application/merge-patch+json', timeoutMs: 1_000 }),
      );
      unavailableMs.push(worstGap);
      note(`run ${i + 1}: store leader on ${leader.host.name} cut; longest write gap ${worstGap} ms`);
      await bed.restore(leader.host);
      await waitFor('the cut server Ready again', async () => ready(await c.tryGet<Node>(NODES, leader.host.name)) || undefined, 120_000, 200);
      c.close();
    }

    const rev = sourceRevision();
    const rows: (string | number)[][] = [['measure', 'median (s)', 'runs (s)', 'goal']];
    const add = (scenario: string, xs: number[], goalS: number) => {
      emit({ bench: 'failover', scenario, system: 'coxswain', runs: xs.length, medianMs: median(xs), samplesMs: xs, goalMs: goalS * 1000, revision: rev });
      rows.push([scenario, round(median(xs) / 1000, 1), xs.map((x) => (x / 1000).toFixed(1)).join(' '), `< ${goalS}`]);
    };
    add('cut-to-notready', notReadyMs, 15);
    add('cut-to-pods-ready-elsewhere', healedMs, 15);
    add('api-unavailable-store-leader-cut', unavailableMs, 3);
    // the baseline on the same hosts, Coxswain stopped first so it does not load the machine
    await Promise.all(nodes.map((n) => stopNode(n)));
    const etcdGaps = await etcdBaseline(bed, servers.map((s) => s.host), RUNS);
    emit({ bench: 'failover', scenario: 'store-unavailable-leader-cut', system: 'etcd', runs: etcdGaps.length, medianMs: median(etcdGaps), samplesMs: etcdGaps, revision: rev });
    emit({ bench: 'failover', kind: 'ratio', scenario: 'api-unavailable-store-leader-cut', coxswainOverEtcd: round(median(unavailableMs) / median(etcdGaps), 2) });
    rows.push(['etcd 3.4, same cut (baseline)', round(median(etcdGaps) / 1000, 1), etcdGaps.map((x) => (x / 1000).toFixed(1)).join(' '), '–']);
    table('failover (4 hosts: 3 servers, 1 agent)', rows);
  } finally {
    await Promise.all(nodes.map((n) => stopNode(n).catch(() => undefined)));
    await bed.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
