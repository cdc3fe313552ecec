/**
 * Issue 15, the Metrics API as a user meets it: a `coxswain up` cluster scraping every 2 s
 * (--metric-resolution), a busy pod (a shell spinning) and an idle one (sleep). `kubectl top`
 * (the real kubectl 1.32) shows real numbers with the busy pod higher, shows the node with
 * its percentages and a hollow node as <unknown>; `coxctl top` prints exactly what kubectl
 * prints; the API is read-only and authorized by RBAC like metrics-server's
 * (view aggregates system:aggregated-metrics-reader).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiError, type KubeObject } from '../lib/client';
import { PODS } from '../lib/resources';
import { kubectlFor } from './lib/kubectl';
import { coxctl, spawnHollowNodes, startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';

const NODE = 'mtr-node';
const HOLLOW = 'mtr-hollow-0';
const SERVICE_CIDR = '10.178.0.0/16';
const CLUSTER_CIDR = '10.228.0.0/16';
const NODE_PORTS = '31100-31149';

interface PodMetricsList { kind: string; items: { metadata: { name: string; namespace: string; labels?: Record<string, string> }; timestamp: string; window: string; containers: { name: string; usage: { cpu: string; memory: string } }[] }[] }

/** "123m" → 123, from kubectl top's CPU column. */
const millis = (s: string) => Number(/^(\d+)m$/.exec(s)?.[1] ?? NaN);

describe('metrics API and kubectl top', { timeout: 3 * 60_000 }, () => {
  let home: string;
  let cluster: UpCluster;
  let cache: string;
  let hollow: ChildProcess | undefined;
  const { k, kok } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache }));
  const top = async (args: string[]) => (await kok(['top', ...args])).split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/));
  const pod = (name: string, command: string[]) => cluster.client().create(PODS, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: name, tier: 'top-test' } },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox:1.36', command }] },
  } as KubeObject, 'default');

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-mtr-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS, extraArgs: ['--metric-resolution', '2s'] });
    hollow = spawnHollowNodes(cluster.kubeconfig, ['--count', '1', '--prefix', 'mtr-hollow-']);
    await pod('busy', ['sh', '-c', 'while :; do :; done']);
    await pod('idle', ['sleep', '3600']);
  });

  after(async () => {
    if (hollow && hollow.exitCode === null) hollow.kill('SIGKILL');
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('kubectl top pods shows real numbers, the busy pod higher than the idle one', async () => {
    let last = '';
    const rows = await waitFor('kubectl top pods to list both pods, the busy one at 100m or more', async () => {
      const r = await k(['top', 'pods', '-l', 'tier=top-test']);
      last = r.stdout + r.stderr;
      if (r.code !== 0) return undefined;
      const byName = new Map(r.stdout.split('\n').slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/)).map((c) => [c[0], c]));
      const busy = byName.get('busy');
      return busy && byName.get('idle') && millis(busy[1]) >= 100 ? byName : undefined;
    }, 90_000, 500).catch(async (err: Error) => {
      const pods = await k(['get', 'pods', '-o', 'wide']);
      const raw = await k(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods']);
      throw new Error(`${err.message}\nlast top:\n${last}\npods:\n${pods.stdout}\nmetrics:\n${raw.stdout}${raw.stderr}`);
    });
    const busy = rows.get('busy')!;
    const idle = rows.get('idle')!;
    assert.ok(millis(busy[1]) > millis(idle[1]), `busy ${busy[1]} > idle ${idle[1]}`);
    assert.match(busy[2], /^\d+Mi$/);
    assert.match(idle[2], /^\d+Mi$/);

    // --containers, -A and -l as kubectl has them
    const containers = await top(['pods', 'busy', '--containers']);
    assert.deepEqual(containers[0], ['POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    assert.deepEqual(containers.slice(1).map((c) => c.slice(0, 2)), [['busy', 'main']]);
    const all = await top(['pods', '-A', '-l', 'app=idle']);
    assert.deepEqual(all.map((c) => c.slice(0, 2)), [['NAMESPACE', 'NAME'], ['default', 'idle']]);
  });

  it('serves PodMetrics as metrics-server does (the shape the HPA controller reads)', async () => {
    const list = await cluster.client().request<PodMetricsList>('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dbusy');
    assert.equal(list.kind, 'PodMetricsList');
    assert.deepEqual(list.items.map((p) => p.metadata.name), ['busy']);
    const m = list.items[0];
    assert.deepEqual(m.metadata.labels, { app: 'busy', tier: 'top-test' });
    assert.match(m.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(m.window, /^\d+(\.\d+)?m?s$/);
    assert.equal(m.containers[0].name, 'main');
    assert.match(m.containers[0].usage.cpu, /^\d+[num]?$/);
    assert.match(m.containers[0].usage.memory, /^\d+(Ki|Mi)?$/);

    for (const method of ['POST', 'DELETE']) {
      const err = await cluster.client().request(method, `/apis/metrics.k8s.io/v1beta1/namespaces/default/pods${method === 'DELETE' ? '/busy' : ''}`, { body: {} }).catch((e: unknown) => e);
      assert.ok(err instanceof ApiError && err.code === 405 && err.reason === 'MethodNotAllowed', `${method}: ${String(err)}`);
    }
    const missing = await k(['top', 'pod', 'nope']);
    assert.equal(missing.stderr.trim(), 'Error from server (NotFound): podmetrics.metrics.k8s.io "default/nope" not found');
  });

  it('kubectl top nodes shows the node with percentages, the hollow node as <unknown>', async () => {
    const rows = await waitFor('the hollow node registered and listed by kubectl top nodes', async () => {
      const r = await top(['nodes']);
      return r.some((c) => c[0] === HOLLOW) ? r : undefined;
    }, 30_000, 500);
    assert.deepEqual(rows[0], ['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']);
    const node = rows.find((c) => c[0] === NODE)!;
    assert.match(node[1], /^\d+m$/);
    assert.ok(millis(node[1]) >= 100, `the busy pod runs on ${NODE}: ${node[1]}`);
    assert.match(node[2], /^\d+%$/);
    assert.match(node[3], /^[1-9]\d*Mi$/);
    assert.match(node[4], /^\d+%$/);
    assert.deepEqual(rows.find((c) => c[0] === HOLLOW), [HOLLOW, '<unknown>', '<unknown>', '<unknown>', '<unknown>']);
  });

  it('coxctl top prints exactly what kubectl top prints', async () => {
    for (const args of [['nodes'], ['pods', '-l', 'tier=top-test'], ['pods', '-A', '--containers', '-l', 'tier=top-test'], ['pod', 'busy', '--no-headers']]) {
      let last = '';
      // the numbers change at every scrape: compare answers given within one window
      await waitFor(`coxctl top ${args.join(' ')} to equal kubectl's`, async () => {
        const [a, b] = await Promise.all([kok(['top', ...args]), coxctl(cluster.kubeconfig, ['top', ...args])]);
        last = `kubectl:\n${a}coxctl:\n${b}`;
        return a === b;
      }, 30_000, 200).catch((err: Error) => {
        throw new Error(`${err.message}\n${last}`);
      });
    }
  });

  it('RBAC: view grants the Metrics API (aggregated), a user without a role is forbidden', async () => {
    await kok(['create', 'rolebinding', 'jane-view', '--clusterrole=view', '--user=jane', '-n', 'default']);
    await waitFor('jane can top pods', async () => (await k(['top', 'pods', '--as=jane'])).code === 0, 10_000, 200);
    const denied = await k(['top', 'pods', '--as=nobody']);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Error from server \(Forbidden\): pods\.metrics\.k8s\.io is forbidden: User "nobody" cannot list resource "pods" in API group "metrics\.k8s\.io" in the namespace "default"/);
  });
});
