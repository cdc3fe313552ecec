/**
 * bench:jobs — workload controllers against the same number of plain pods, on
 * one `coxswain up` cluster (test/lib/up.ts), same image:
 *
 *   - pods: N pods (busybox `true`, restartPolicy Never) created back to back;
 *     time from the first create to every pod Succeeded (polled every 250 ms);
 *   - job:  one Job of N completions, parallelism P; time from its create to
 *     its Complete condition (with status.succeeded = N);
 *   - statefulset: a 10-replica OrderedReady StatefulSet of a long-running
 *     busybox (no readiness probe) until status.readyReplicas is 10, next to 10
 *     plain pods of the same container created at once until all are Ready.
 *
 * N = COXSWAIN_BENCH_JOB_COMPLETIONS (default 100), P = COXSWAIN_BENCH_JOB_PARALLELISM
 * (default 10). Results: JSON lines on stdout, a table on stderr. The cluster
 * and everything in it is removed at the end.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import type { Job } from 'kubernetes-types/batch/v1';
import type { StatefulSet } from 'kubernetes-types/apps/v1';
import type { ApiClient, KubeObject } from '../lib/client';
import { JOBS, PODS, STATEFULSETS } from '../lib/resources';
import { startUp, tearDownUp, type UpCluster } from '../test/lib/up';
import { emit, envInt, machineLoad, note, round, sleep, sourceRevision, table } from './lib/report';

const NODE = 'bench-jobs-node';
const SERVICE_CIDR = '10.154.0.0/16';
const CLUSTER_CIDR = '10.254.0.0/16';
const NODE_PORTS = '31800-31899';
const NS = 'default';
const CONTAINER = { name: 'main', image: 'busybox:1.36', imagePullPolicy: 'Never', command: ['true'] };

async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

async function plainPods(client: ApiClient, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `plain-${i}`, namespace: NS, labels: { bench: 'plain' } }, spec: { restartPolicy: 'Never', containers: [CONTAINER] } };
    await client.create(PODS, pod as KubeObject, NS);
  }
  await until(`${n} plain pods Succeeded`, async () => (await client.list<Pod & KubeObject>(PODS, { namespace: NS, labelSelector: 'bench=plain' })).items.filter((p) => p.status?.phase === 'Succeeded').length >= n, 20 * 60_000);
  return (performance.now() - t0) / 1000;
}

async function job(client: ApiClient, n: number, p: number): Promise<number> {
  const t0 = performance.now();
  const j: Job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'bench', namespace: NS }, spec: { completions: n, parallelism: p, template: { spec: { restartPolicy: 'Never', containers: [CONTAINER] } } } };
  await client.create(JOBS, j as KubeObject, NS);
  await until(`job Complete with ${n} succeeded`, async () => {
    const s = (await client.get<Job & KubeObject>(JOBS, 'bench', NS)).status;
    return !!s?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True');
  }, 20 * 60_000);
  return (performance.now() - t0) / 1000;
}

const LONG_RUNNING = { name: 'main', image: 'busybox:1.36', imagePullPolicy: 'Never', command: ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"] };

const readyCount = (pods: Pod[]): number =>
  pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;

/** Seconds from the create of a 10-replica OrderedReady StatefulSet to 10 ready replicas. */
async function statefulSet(client: ApiClient, replicas: number): Promise<number> {
  const t0 = performance.now();
  const sts: StatefulSet = {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'bench', namespace: NS },
    spec: {
      replicas, serviceName: 'bench', selector: { matchLabels: { bench: 'sts' } },
      template: { metadata: { labels: { bench: 'sts' } }, spec: { terminationGracePeriodSeconds: 1, containers: [LONG_RUNNING] } },
    },
  };
  await client.create(STATEFULSETS, sts as KubeObject, NS);
  await until(`statefulset ${replicas} ready`, async () => (await client.get<StatefulSet & KubeObject>(STATEFULSETS, 'bench', NS)).status?.readyReplicas === replicas, 10 * 60_000);
  return (performance.now() - t0) / 1000;
}

/** Seconds from the first create of n long-running plain pods to all n Ready. */
async function readyPods(client: ApiClient, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `ready-${i}`, namespace: NS, labels: { bench: 'ready' } }, spec: { terminationGracePeriodSeconds: 1, containers: [LONG_RUNNING] } };
    await client.create(PODS, pod as KubeObject, NS);
  }
  await until(`${n} plain pods Ready`, async () => readyCount((await client.list<Pod & KubeObject>(PODS, { namespace: NS, labelSelector: 'bench=ready' })).items) >= n, 10 * 60_000);
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const n = envInt('COXSWAIN_BENCH_JOB_COMPLETIONS', 100);
  const p = envInt('COXSWAIN_BENCH_JOB_PARALLELISM', 10);
  const home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-bench-jobs-'));
  let cluster: UpCluster | undefined;
  try {
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    const client = cluster.client();
    note(`bench:jobs: ${n} plain pods, then a Job of ${n} completions, parallelism ${p}`);
    const podsS = await plainPods(client, n);
    await client.request('DELETE', `/api/v1/namespaces/${NS}/pods?labelSelector=bench%3Dplain`).catch(() => undefined);
    const jobS = await job(client, n, p);
    await client.request('DELETE', `/apis/batch/v1/namespaces/${NS}/jobs/bench?propagationPolicy=Background`).catch(() => undefined);
    note('bench:jobs: a 10-replica OrderedReady StatefulSet, then 10 plain pods at once');
    const stsS = await statefulSet(client, 10);
    const readyS = await readyPods(client, 10);
    emit({ bench: 'jobs', scenario: 'plain-pods', system: 'coxswain', pods: n, seconds: round(podsS) });
    emit({ bench: 'jobs', scenario: 'job', system: 'coxswain', completions: n, parallelism: p, seconds: round(jobS) });
    emit({ bench: 'jobs', scenario: 'statefulset-ordered-ready', system: 'coxswain', replicas: 10, seconds: round(stsS) });
    emit({ bench: 'jobs', scenario: 'ready-pods', system: 'coxswain', pods: 10, seconds: round(readyS) });
    emit({ bench: 'jobs', kind: 'machine', ...machineLoad(), node: process.version, revision: sourceRevision() });
    table(`Job of ${n} completions vs ${n} plain pods (busybox true, one node)`, [
      ['what', 'seconds to done'],
      [`${n} pods created at once, all Succeeded`, round(podsS, 1)],
      [`Job completions ${n}, parallelism ${p}, Complete`, round(jobS, 1)],
      ['10 long-running pods created at once, all Ready', round(readyS, 1)],
      ['StatefulSet 10 replicas, OrderedReady, 10 ready', round(stsS, 1)],
    ]);
    client.close();
  } finally {
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
