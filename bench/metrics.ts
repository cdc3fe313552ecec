/**
 * bench:metrics — what one Metrics API scrape of a node costs, next to Docker's own stats in
 * the same run.
 *
 * A `coxswain up` cluster (its apiserver's own collector at the default 15 s, as in use) with N
 * pods of one sleeping busybox container on its node. Then K
 * rounds of one scrape of that node by the apiserver's collector code (apiserver/metrics-api:
 * the kubelet Stats RPC over mutual TLS, decoding, recording in the sample store), run in this
 * process, measuring per scrape:
 *   - wall time;
 *   - the CPU time of this process (what the apiserver spends per scrape);
 *   - the CPU time of the kubelet process (what answering Stats costs the node);
 * and the serving cost: the wall time of a PodMetricsList of the N pods from the apiserver (once
 * its own collector has two samples of each). A scrape by the apiserver's collector may fall in a
 * round and count in that round's kubelet CPU; the p50 is the figure to read.
 * Baseline: `docker stats --no-stream` of the same N containers (K/4 rounds; Docker waits for
 * two readings per container, so it is slow by design), and one round of Docker's one-shot
 * stats API per container, which is what the kubelet calls.
 * N = COXSWAIN_BENCH_METRICS_PODS (default 30), K = COXSWAIN_BENCH_METRICS_ROUNDS (default 20).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import type { ApiClient } from '../lib/client';
import { createLogger } from '../lib/log';
import { pkiPaths } from '../lib/pki';
import { NODES, PODS } from '../lib/resources';
import { KubeletClientPool } from '../kubelet/api/client';
import { bridgeNameFor, removeBridge } from '../kubelet/pod-network';
import { MetricsStore } from '../apiserver/metrics-api/core';
import { MetricsCollector } from '../apiserver/metrics-api/collector';
import { waitFor } from '../test/lib/cluster';
import { sh } from '../test/lib/docker';
import { pidsMatching, startUp, tearDownUp, type UpCluster } from '../test/lib/up';
import { emit, envInt, machineLoad, note, round, sourceRevision, summarize, table, waitQuiet } from './lib/report';

const NODE = 'bench-mtr-node';
const SERVICE_CIDR = '10.179.0.0/16';
const CLUSTER_CIDR = '10.227.0.0/16';
const NS = 'default';
const LABEL = 'coxswain-bench-metrics';
const COMMAND = ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"];
const TICK_MS = 1000 / 100; // /proc/<pid>/stat counts USER_HZ ticks

/** utime + stime of a process, in ms (10 ms resolution). */
function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

function kubeletPid(home: string): number | undefined {
  return pidsMatching(home).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('kubelet');
    } catch {
      return false;
    }
  });
}

async function createPods(c: ApiClient, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await c.create(PODS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: `mbench-${i}`, namespace: NS, labels: { [LABEL]: 'yes' } },
      spec: { nodeName: NODE, terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox:1.36', imagePullPolicy: 'Never', command: COMMAND }] },
    } as Pod, NS);
  }
  await waitFor(`${n} pods Running`, async () => {
    const list = await c.list<Pod>(PODS, { namespace: NS, labelSelector: `${LABEL}=yes` });
    return list.items.filter((p) => p.status?.phase === 'Running').length === n;
  }, 120_000 + n * 3_000, 500);
}

export async function benchMetrics(): Promise<void> {
  const n = envInt('COXSWAIN_BENCH_METRICS_PODS', 30);
  const k = envInt('COXSWAIN_BENCH_METRICS_ROUNDS', 20);
  const home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-bench-mtr-'));
  let cluster: UpCluster | undefined;
  let pool: KubeletClientPool | undefined;
  try {
    emit({ bench: 'metrics', kind: 'machine', ...(await waitQuiet()), nproc: machineLoad().nproc, cpu: os.cpus()[0]?.model, node: process.version, revision: sourceRevision() });
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: '31150-31199', readyTimeoutMs: 120_000, extraArgs: ['--metric-resolution', '15s'] });
    const c = cluster.client();
    const node = await waitFor('the node Ready', async () => {
      const nd = await c.get<Node>(NODES, NODE);
      return nd.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ? nd : undefined;
    }, 60_000, 250);
    note(`metrics: ${n} pods on ${NODE}`);
    await createPods(c, n);

    const pki = pkiPaths(home);
    pool = new KubeletClientPool({ ca: await readFile(pki.ca.cert), cert: await readFile(pki.apiserverKubeletClient.cert), key: await readFile(pki.apiserverKubeletClient.key) });
    const store = new MetricsStore();
    const collector = new MetricsCollector({ store, kubelets: pool, log: createLogger('bench-metrics'), resolutionMs: 60_000, listNodes: async () => [node] });
    const kpid = kubeletPid(home);
    await collector.scrapeOnce(); // warm-up: the TLS channel, the first sample
    const wall: number[] = [];
    const selfCpu: number[] = [];
    const kubeletCpu: number[] = [];
    for (let i = 0; i < k; i++) {
      const kc0 = kpid ? procCpuMs(kpid) : NaN;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await collector.scrapeOnce();
      wall.push(performance.now() - t0);
      const cpu = process.cpuUsage(cpu0);
      selfCpu.push((cpu.user + cpu.system) / 1000);
      kubeletCpu.push(kpid ? procCpuMs(kpid) - kc0 : NaN);
    }
    const listed = await waitFor(`the apiserver to list PodMetrics of the ${n} pods`, async () => {
      const l = (await c.request<{ items: unknown[] }>('GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods?labelSelector=${LABEL}%3Dyes`)).items.length;
      return l === n ? l : undefined;
    }, 60_000, 1_000);
    const serve: number[] = [];
    for (let i = 0; i < k; i++) {
      const t0 = performance.now();
      await c.request('GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods?labelSelector=${LABEL}%3Dyes`);
      serve.push(performance.now() - t0);
    }

    const ids = (await sh('docker', ['ps', '-q', '--filter', `label=coxswain.node=${NODE}`, '--filter', `label=io.kubernetes.container.name=main`])).split('\n').filter(Boolean);
    const dockerStats: number[] = [];
    for (let i = 0; i < Math.max(2, Math.ceil(k / 4)); i++) {
      const t0 = performance.now();
      await sh('docker', ['stats', '--no-stream', '--format', '{{.ID}} {{.CPUPerc}} {{.MemUsage}}', ...ids], { timeoutMs: 120_000 });
      dockerStats.push(performance.now() - t0);
    }
    const oneShot: number[] = [];
    for (const id of ids) {
      const t0 = performance.now();
      await sh('curl', ['-s', '--unix-socket', '/var/run/docker.sock', `http://localhost/containers/${id}/stats?stream=false&one-shot=true`, '-o', '/dev/null']);
      oneShot.push(performance.now() - t0);
    }

    const s = { wall: summarize(wall), self: summarize(selfCpu), kubelet: summarize(kubeletCpu), serve: summarize(serve), docker: summarize(dockerStats), oneShot: summarize(oneShot) };
    emit({ bench: 'metrics', scenario: 'scrape', system: 'coxswain', pods: n, containers: ids.length, rounds: k, podsListed: listed, wall: s.wall, apiserverCpuMs: s.self, kubeletCpuMs: s.kubelet });
    emit({ bench: 'metrics', scenario: 'serve-podmetrics-list', system: 'coxswain', pods: n, latency: s.serve });
    emit({ bench: 'metrics', scenario: 'docker-stats-no-stream', system: 'docker', containers: ids.length, wall: s.docker });
    emit({ bench: 'metrics', scenario: 'docker-one-shot-per-container', system: 'docker', containers: ids.length, wall: s.oneShot, sumMs: round(oneShot.reduce((a, b) => a + b, 0)) });
    emit({ bench: 'metrics', kind: 'ratio', scenario: 'scrape-vs-docker-stats', ratio: round(s.wall.p50Ms / s.docker.p50Ms, 3) });
    table(`metrics: one scrape of a node with ${n} pods (${k} rounds; ms)`, [
      ['', 'p50', 'p90', 'max', 'mean'],
      ['scrape wall (Stats RPC + record)', s.wall.p50Ms, s.wall.p90Ms, s.wall.maxMs, s.wall.meanMs],
      ['apiserver CPU per scrape', s.self.p50Ms, s.self.p90Ms, s.self.maxMs, s.self.meanMs],
      ['kubelet CPU per scrape (10 ms ticks)', s.kubelet.p50Ms, s.kubelet.p90Ms, s.kubelet.maxMs, s.kubelet.meanMs],
      [`GET PodMetricsList (${listed} pods)`, s.serve.p50Ms, s.serve.p90Ms, s.serve.maxMs, s.serve.meanMs],
      [`docker stats --no-stream (${ids.length} containers)`, s.docker.p50Ms, s.docker.p90Ms, s.docker.maxMs, s.docker.meanMs],
      ['Docker one-shot stats, one container', s.oneShot.p50Ms, s.oneShot.p90Ms, s.oneShot.maxMs, s.oneShot.meanMs],
    ]);
  } finally {
    pool?.close();
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR).catch((err) => note(`cleanup: ${err}`));
    await removeBridge(bridgeNameFor(`coxswain-${NODE}`)).catch(() => undefined);
    await rm(home, { recursive: true, force: true }).catch(() => undefined);
  }
}

if (require.main === module) {
  benchMetrics().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
