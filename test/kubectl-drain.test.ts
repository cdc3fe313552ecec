/**
 * Issue 11, `kubectl cordon`, `uncordon` and `drain` with the real kubectl 1.32 against a
 * `coxswain up` cluster (real scheduler, controllers, kubelet and containers): a cordoned node
 * takes no new pods (FailedScheduling) until uncordoned; a PodDisruptionBudget's status is kept
 * by the disruption controller (`kubectl get pdb`); drain is refused while the budget allows no
 * disruption (and a direct Eviction gets a 429 naming the budget), evicts what the budget
 * allows, and drains the node once it allows everything.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiError } from '../lib/client';
import { startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';
import { kubectlFor } from './lib/kubectl';

const NODE = 'drain-node';
const SERVICE_CIDR = '10.137.0.0/16';
const CLUSTER_CIDR = '10.237.0.0/16';
const NODE_PORTS = '32400-32499';
const NS = 'drain';


const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: busybox:1.36
        command: [sleep, "3600"]
`;
const PDB = (minAvailable: number) => `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: ${minAvailable}
  selector:
    matchLabels: {app: web}
`;

describe('kubectl cordon, uncordon and drain with PodDisruptionBudgets', { timeout: 10 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;

  const { k, kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache }));
  /** The pdb row of `kubectl get pdb web` once it shows `allowed` allowed disruptions. */
  const pdbRow = (allowed: number) => waitFor(`kubectl get pdb web shows ${allowed} allowed`, async () => {
    const out = await kok(['-n', NS, 'get', 'pdb', 'web']);
    const row = out.split('\n')[1] ?? '';
    return new RegExp(`^web\\s+\\S+\\s+N/A\\s+${allowed}\\s+`).test(row) ? out : undefined;
  }, 30_000, 250);
  /** Names of the web pods bound to the node and not terminating. */
  const webPodsOnNode = async () => (await jp(['-n', NS, 'get', 'pods', '-l', 'app=web'], '{range .items[?(@.spec.nodeName)]}{.metadata.name} {.metadata.deletionTimestamp}{"\\n"}{end}'))
    .split('\n').map((l) => l.trim()).filter((l) => l && !l.includes(' '));

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-drain-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    await kok(['create', 'namespace', NS]);
  });

  after(async () => {
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('api-resources and discovery: pods/eviction is policy/v1 Eviction', async () => {
    const v1 = JSON.parse(await kok(['get', '--raw', '/api/v1'])) as { resources: { name: string; group?: string; version?: string; kind: string }[] };
    const ev = v1.resources.find((r) => r.name === 'pods/eviction');
    assert.deepEqual(ev && [ev.group, ev.version, ev.kind], ['policy', 'v1', 'Eviction']);
  });

  it('cordon: SchedulingDisabled, new pods stay Pending with FailedScheduling; uncordon: they run', async (t) => {
    assert.equal(await kok(['cordon', NODE]), `node/${NODE} cordoned\n`);
    const nodes = await kok(['get', 'nodes']);
    t.diagnostic(nodes);
    assert.match(nodes, new RegExp(`\\n${NODE}\\s+Ready,SchedulingDisabled\\s`));
    const taints = () => kok(['describe', 'node', NODE]).then((d) => /\nTaints:\s+(.*)\n/.exec(d)?.[1]);
    await waitFor('the unschedulable taint on the cordoned node', async () => (await taints()) === 'node.kubernetes.io/unschedulable:NoSchedule', 30_000, 250);
    assert.equal(await kok(['-n', NS, 'run', 'waiting', '--image=busybox:1.36', '--restart=Never', '--', 'sleep', '3600']), 'pod/waiting created\n');
    const event = await waitFor('a FailedScheduling event for the pod', async () => {
      const out = await kok(['-n', NS, 'get', 'events', '--field-selector', 'involvedObject.name=waiting,reason=FailedScheduling', '-o', 'jsonpath={.items[*].message}']);
      return out.includes('node(s) were unschedulable') ? out : undefined;
    }, 30_000, 250);
    t.diagnostic(event);
    assert.match(event, /0\/1 nodes are available: 1 node\(s\) were unschedulable/);
    assert.equal(await jp(['-n', NS, 'get', 'pod', 'waiting'], '{.status.phase} {.spec.nodeName}'), 'Pending');
    assert.equal(await jp(['-n', NS, 'get', 'pod', 'waiting'], '{.status.conditions[?(@.type=="PodScheduled")].reason}'), 'Unschedulable');

    assert.equal(await kok(['uncordon', NODE]), `node/${NODE} uncordoned\n`);
    assert.match(await kok(['get', 'nodes']), new RegExp(`\\n${NODE}\\s+Ready\\s`));
    await waitFor('the unschedulable taint removed', async () => (await taints()) === '<none>', 30_000, 250);
    await kok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/waiting', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.equal(await jp(['-n', NS, 'get', 'pod', 'waiting'], '{.spec.nodeName}'), NODE);
    // a pod with no controller would stop drain (without --force): remove it
    await kok(['-n', NS, 'delete', 'pod', 'waiting', '--grace-period=1'], { timeoutMs: 60_000 });
  });

  it('a PodDisruptionBudget minAvailable 2 over a 2-replica Deployment: ALLOWED 0', async (t) => {
    await kok(['-n', NS, 'apply', '-f', '-'], { input: DEPLOYMENT });
    await kok(['-n', NS, 'wait', '--for=condition=Available', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 });
    await waitFor('both web pods Ready', async () => (await jp(['-n', NS, 'get', 'deployment', 'web'], '{.status.readyReplicas}')) === '2', 60_000, 250);
    assert.equal(await kok(['-n', NS, 'apply', '-f', '-'], { input: PDB(2) }), 'poddisruptionbudget.policy/web created\n');
    const out = await pdbRow(0);
    t.diagnostic(out);
    assert.match(out, /^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\n/);
    assert.equal(await jp(['-n', NS, 'get', 'pdb', 'web'], '{.status.expectedPods} {.status.desiredHealthy} {.status.currentHealthy} {.status.conditions[0].reason}'), '2 2 2 InsufficientPods');
    const described = await kok(['-n', NS, 'describe', 'pdb', 'web']);
    t.diagnostic(described);
    assert.match(described, /Min available:\s+2\n/);
    assert.match(described, /Allowed disruptions:\s+0\n\s+Current:\s+2\n\s+Desired:\s+2\n\s+Total:\s+2\n/);
  });

  it('drain is refused by the budget and retries until its timeout; a direct Eviction gets 429', async (t) => {
    const r = await k(['drain', NODE, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=5s'], { timeoutMs: 60_000 });
    t.diagnostic(`exit ${r.code}\n${r.stdout}${r.stderr}`);
    assert.notEqual(r.code, 0, `drain should fail: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`node/${NODE} cordoned`));
    assert.match(r.stderr, /error when evicting pods\/"web-[a-z0-9-]+" -n "drain" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./);
    assert.match(r.stderr, /There are pending pods in node "drain-node" when an error occurred|global timeout reached: 5s/);
    assert.match(await kok(['get', 'nodes']), new RegExp(`\\n${NODE}\\s+Ready,SchedulingDisabled\\s`));
    const pods = await webPodsOnNode();
    assert.equal(pods.length, 2, 'both pods still run');

    // the same refusal, asked directly: kubectl's raw POST and the Status a client reads
    const raw = await k(['-n', NS, 'create', '--raw', `/api/v1/namespaces/${NS}/pods/${pods[0]}/eviction`, '-f', '-'],
      { input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pods[0], namespace: NS } }) });
    assert.notEqual(raw.code, 0);
    t.diagnostic(raw.stderr);
    assert.match(raw.stderr, /Error from server \(TooManyRequests\): Cannot evict pod as it would violate the pod's disruption budget\./);
    const client = cluster.client();
    try {
      await assert.rejects(client.request('POST', `/api/v1/namespaces/${NS}/pods/${pods[0]}/eviction`, { body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pods[0], namespace: NS } } }), (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.code, 429);
        assert.deepEqual((e.status?.details as { causes: unknown[] }).causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' }]);
        return true;
      });
    } finally {
      client.close();
    }
  });

  it('minAvailable 1: ALLOWED 1, drain evicts one pod and is refused the other', async (t) => {
    await kok(['-n', NS, 'apply', '-f', '-'], { input: PDB(1) });
    t.diagnostic(await pdbRow(1));
    const before = await webPodsOnNode();
    const r = await k(['drain', NODE, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=20s'], { timeoutMs: 60_000 });
    t.diagnostic(`exit ${r.code}\n${r.stdout}${r.stderr}`);
    assert.notEqual(r.code, 0, `drain should fail on the second pod: ${r.stdout}${r.stderr}`);
    const evicted = [...r.stdout.matchAll(/pod\/(web-[a-z0-9-]+) evicted/g)].map((m) => m[1]);
    assert.equal(evicted.length, 1, `one pod evicted: ${r.stdout}`);
    assert.ok(before.includes(evicted[0]));
    assert.match(r.stderr, /Cannot evict pod as it would violate the pod's disruption budget\./);
    await waitFor('the evicted pod gone', async () => (await k(['-n', NS, 'get', 'pod', evicted[0]])).code !== 0, 30_000, 250);
    // its replacement cannot go anywhere: the only node is cordoned
    const pending = await waitFor('a Pending replacement', async () => {
      const out = await jp(['-n', NS, 'get', 'pods', '-l', 'app=web'], '{range .items[?(@.status.phase=="Pending")]}{.metadata.name}{"\\n"}{end}');
      return out || undefined;
    }, 30_000, 250);
    assert.ok(!before.includes(pending.split('\n')[0]));
    await pdbRow(0);
  });

  it('minAvailable 0: drain evicts the rest and the node is drained; uncordon runs them again', async (t) => {
    await kok(['-n', NS, 'apply', '-f', '-'], { input: PDB(0) });
    const r = await k(['drain', NODE, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=90s'], { timeoutMs: 120_000 });
    t.diagnostic(`exit ${r.code}\n${r.stdout}${r.stderr}`);
    assert.equal(r.code, 0, `drain: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /evicting pod drain\/web-[a-z0-9-]+\n/);
    assert.match(r.stdout, /pod\/web-[a-z0-9-]+ evicted\n/);
    assert.match(r.stdout, new RegExp(`node/${NODE} drained\\n`));
    assert.deepEqual(await webPodsOnNode(), []);
    const phases = await jp(['-n', NS, 'get', 'pods', '-l', 'app=web'], '{range .items[*]}{.status.phase}{"\\n"}{end}');
    assert.deepEqual(phases.split('\n').filter(Boolean), ['Pending', 'Pending']);
    t.diagnostic(await kok(['-n', NS, 'get', 'pods,pdb']));

    assert.equal(await kok(['uncordon', NODE]), `node/${NODE} uncordoned\n`);
    await kok(['-n', NS, 'wait', '--for=condition=Available', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 });
    await waitFor('both web pods Ready again', async () => (await jp(['-n', NS, 'get', 'deployment', 'web'], '{.status.readyReplicas}')) === '2', 90_000, 250);
  });
});
