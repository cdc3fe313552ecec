/**
 * Issue 12, admission and Deployments, with the real kubectl 1.32 against a `coxswain up`
 * cluster (real controllers, scheduler, kubelet and containers):
 * - a LimitRange gives pods its defaults and refuses a container above its max (403 worded as
 *   Kubernetes'); `kubectl describe limits` shows it;
 * - a ResourceQuota's usage is counted by the resourcequota controller (`kubectl describe
 *   quota` is true), a create that does not fit is refused naming the quota, a pod that states
 *   no request the quota limits is refused, concurrent creates never overcommit, and deleting
 *   frees the usage;
 * - `kubectl rollout history|undo|pause|resume` on a Deployment: change-cause per revision, the
 *   restored template becomes the newest revision, no rollout while paused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiError, type KubeObject } from '../lib/client';
import { PODS } from '../lib/resources';
import { startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';

const NODE = 'quota-node';
const SERVICE_CIDR = '10.158.0.0/16';
const CLUSTER_CIDR = '10.208.0.0/16';
const NODE_PORTS = '32800-32899';

type Result = { code: number; stdout: string; stderr: string };

const LIMITS = `apiVersion: v1
kind: LimitRange
metadata: {name: limits}
spec:
  limits:
  - type: Container
    max: {cpu: 500m, memory: 256Mi}
    default: {cpu: 200m, memory: 64Mi}
    defaultRequest: {cpu: 100m, memory: 32Mi}
`;
const QUOTA = `apiVersion: v1
kind: ResourceQuota
metadata: {name: compute}
spec:
  hard: {pods: "10", requests.cpu: 300m, requests.memory: 1Gi, limits.cpu: "2", limits.memory: 1Gi}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: objects}
spec:
  hard: {count/deployments.apps: "1", configmaps: "3", services: "2"}
`;
const pod = (name: string, resources = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, "3600"]
${resources}`;
const deployment = (name: string, version: string, cause: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  annotations: {kubernetes.io/change-cause: "${cause}"}
spec:
  replicas: 1
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: c
        image: busybox:1.36
        command: [sleep, "3600"]
        env: [{name: VERSION, value: "${version}"}]
`;

describe('LimitRange, ResourceQuota and rollout history/undo/pause with the real kubectl', { timeout: 15 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;

  function k(args: string[], input?: string, timeoutMs = 60_000): Promise<Result> {
    return new Promise((resolve) => {
      const p = execFile('kubectl', ['--kubeconfig', cluster.kubeconfig, '--cache-dir', cache, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
      });
      p.stdin!.end(input ?? '');
    });
  }
  async function kok(args: string[], input?: string, timeoutMs?: number): Promise<string> {
    const r = await k(args, input, timeoutMs);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }
  const jp = async (args: string[], p: string) => (await kok([...args, '-o', `jsonpath=${p}`])).trim();
  const used = (ns: string, quota: string, name: string) => jp(['-n', ns, 'get', 'quota', quota], `{.status.used.${name.replace(/\./g, '\\.')}}`);
  const waitUsed = (ns: string, quota: string, name: string, want: string) =>
    waitFor(`quota ${quota} used ${name}=${want}`, async () => ((await used(ns, quota, name)) === want ? true : undefined), 30_000, 200);

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-quota-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    for (const ns of ['quota', 'strict', 'rollout']) await kok(['create', 'namespace', ns]);
  });

  after(async () => {
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('LimitRange: defaults for a pod that sets none, 403 above max, kubectl describe limits', async (t) => {
    assert.equal(await kok(['-n', 'quota', 'apply', '-f', '-'], LIMITS), 'limitrange/limits created\n');
    const described = await kok(['-n', 'quota', 'describe', 'limits', 'limits']);
    t.diagnostic(described);
    assert.match(described, /Container\s+cpu\s+-\s+500m\s+100m\s+200m\s+-/);
    assert.match(described, /Container\s+memory\s+-\s+256Mi\s+32Mi\s+64Mi\s+-/);

    const big = await k(['-n', 'quota', 'apply', '-f', '-'], pod('big', '    resources: {limits: {cpu: "1"}}\n'));
    t.diagnostic(big.stderr);
    assert.notEqual(big.code, 0);
    assert.match(big.stderr, /Error from server \(Forbidden\): error when creating "STDIN": pods "big" is forbidden: maximum cpu usage per Container is 500m, but limit is 1\n/);

    assert.equal(await kok(['-n', 'quota', 'apply', '-f', '-'], pod('small')), 'pod/small created\n');
    assert.equal(await jp(['-n', 'quota', 'get', 'pod', 'small'], '{.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.limits.cpu} {.spec.containers[0].resources.requests.memory} {.spec.containers[0].resources.limits.memory}'),
      '100m 200m 32Mi 64Mi');
    assert.equal(await jp(['-n', 'quota', 'get', 'pod', 'small'], '{.metadata.annotations.kubernetes\\.io/limit-ranger}'),
      'LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c');
  });

  it('ResourceQuota: status counted by the controller, kubectl describe quota is true', async (t) => {
    await kok(['-n', 'quota', 'apply', '-f', '-'], QUOTA);
    await waitUsed('quota', 'compute', 'requests.cpu', '100m');
    const described = await kok(['-n', 'quota', 'describe', 'quota', 'compute']);
    t.diagnostic(described);
    assert.match(described, /Resource\s+Used\s+Hard\n/);
    assert.match(described, /\nlimits\.cpu\s+200m\s+2\n/);
    assert.match(described, /\nlimits\.memory\s+64Mi\s+1Gi\n/);
    assert.match(described, /\npods\s+1\s+10\n/);
    assert.match(described, /\nrequests\.cpu\s+100m\s+300m\n/);
    assert.match(described, /\nrequests\.memory\s+32Mi\s+1Gi\n/);
    await waitUsed('quota', 'objects', 'configmaps', '1'); // kube-root-ca.crt
    const objects = await kok(['-n', 'quota', 'describe', 'quota', 'objects']);
    t.diagnostic(objects);
    assert.match(objects, /\ncount\/deployments\.apps\s+0\s+1\n/);
    assert.match(objects, /\nconfigmaps\s+1\s+3\n/);
    assert.match(objects, /\nservices\s+0\s+2\n/);
    const row = await kok(['-n', 'quota', 'get', 'quota', 'compute']);
    assert.match(row, /compute\s+\S+\s+pods: 1\/10, requests\.cpu: 100m\/300m, requests\.memory: 32Mi\/1Gi\s+limits\.cpu: 200m\/2, limits\.memory: 64Mi\/1Gi\n/);
  });

  it('ResourceQuota: a create that does not fit is refused naming the quota; objects are counted too', async (t) => {
    assert.equal(await kok(['-n', 'quota', 'apply', '-f', '-'], pod('second')), 'pod/second created\n');
    assert.equal(await used('quota', 'compute', 'requests.cpu'), '200m', 'charged at admission');
    const r = await k(['-n', 'quota', 'apply', '-f', '-'], pod('third', '    resources: {requests: {cpu: 200m}}\n'));
    t.diagnostic(r.stderr);
    assert.match(r.stderr, /Error from server \(Forbidden\): error when creating "STDIN": pods "third" is forbidden: exceeded quota: compute, requested: requests\.cpu=200m, used: requests\.cpu=200m, limited: requests\.cpu=300m\n/);

    await kok(['-n', 'quota', 'create', 'deployment', 'one', '--image=busybox:1.36', '--replicas=0']);
    const d = await k(['-n', 'quota', 'create', 'deployment', 'two', '--image=busybox:1.36', '--replicas=0']);
    t.diagnostic(d.stderr);
    assert.match(d.stderr, /deployments\.apps "two" is forbidden: exceeded quota: objects, requested: count\/deployments\.apps=1, used: count\/deployments\.apps=1, limited: count\/deployments\.apps=1/);
    // the ReplicaSet's second pod does not fit: its FailedCreate event names the pod and the quota
    await kok(['-n', 'quota', 'scale', 'deployment', 'one', '--replicas=2']);
    const event = await waitFor('a FailedCreate event for the ReplicaSet', async () => {
      const out = await jp(['-n', 'quota', 'get', 'events', '--field-selector', 'reason=FailedCreate'], '{.items[*].message}');
      return out.includes('exceeded quota') ? out : undefined;
    }, 30_000, 250);
    t.diagnostic(event);
    assert.match(event, /Error creating: pods "one-[a-z0-9]+-[a-z0-9]{5}" is forbidden: exceeded quota: compute, requested: requests\.cpu=100m, used: requests\.cpu=300m, limited: requests\.cpu=300m/);
    await waitFor('deployment one at 1 replica of 2', async () => ((await jp(['-n', 'quota', 'get', 'deployment', 'one'], '{.status.replicas}')) === '1' ? true : undefined), 30_000, 250);
    await kok(['-n', 'quota', 'delete', 'deployment', 'one']);
    await waitUsed('quota', 'objects', 'count/deployments.apps', '0');
    await waitFor('the pod of deployment one gone', async () => ((await jp(['-n', 'quota', 'get', 'pods', '-l', 'app=one'], '{.items[*].metadata.name}')) === '' ? true : undefined), 60_000, 250);
  });

  it('ResourceQuota: deleting a pod frees its usage; concurrent creates never overcommit', async (t) => {
    await kok(['-n', 'quota', 'delete', 'pod', 'second', '--wait=true'], undefined, 90_000);
    await waitUsed('quota', 'compute', 'requests.cpu', '100m');
    // 200m free; five pods of 150m each, created at once: exactly one fits
    const client = cluster.client();
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => client.create(PODS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: `race-${i}` },
      spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { requests: { cpu: '150m' } } }] },
    } as KubeObject, 'quota')));
    const created = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    t.diagnostic(refused.map((r) => (r.reason as Error).message).join('\n'));
    assert.equal(created, 1, 'exactly one of the concurrent creates fits');
    for (const r of refused) {
      assert.ok(r.reason instanceof ApiError && r.reason.code === 403, String(r.reason));
      assert.match((r.reason as Error).message, /exceeded quota: compute, requested: requests\.cpu=150m, used: requests\.cpu=250m, limited: requests\.cpu=300m/);
    }
    assert.equal(await used('quota', 'compute', 'requests.cpu'), '250m');
  });

  it('ResourceQuota: a pod without a request for a limited resource is refused', async (t) => {
    await kok(['-n', 'strict', 'apply', '-f', '-'], 'apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: cpu}\nspec:\n  hard: {requests.cpu: "1", limits.memory: 1Gi}\n');
    await waitUsed('strict', 'cpu', 'requests.cpu', '0');
    const r = await k(['-n', 'strict', 'apply', '-f', '-'], pod('bare'));
    t.diagnostic(r.stderr);
    assert.match(r.stderr, /pods "bare" is forbidden: failed quota: cpu: must specify limits\.memory for: c; requests\.cpu for: c\n/);
    assert.equal(await kok(['-n', 'strict', 'apply', '-f', '-'], pod('dressed', '    resources: {requests: {cpu: 250m}, limits: {memory: 64Mi}}\n')), 'pod/dressed created\n');
    assert.match(await kok(['-n', 'strict', 'describe', 'quota', 'cpu']), /\nlimits\.memory\s+64Mi\s+1Gi\nrequests\.cpu\s+250m\s+1\n/);
  });

  it('rollout history carries change-cause; undo --to-revision makes the restored template the newest revision', async (t) => {
    const history = async () => (await kok(['-n', 'rollout', 'rollout', 'history', 'deployment/web'])).split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(/\s{2,}/));
    for (const v of ['1', '2', '3']) {
      await kok(['-n', 'rollout', 'apply', '-f', '-'], deployment('web', v, `release v${v}`));
      await kok(['-n', 'rollout', 'rollout', 'status', 'deployment/web', '--timeout=90s'], undefined, 100_000);
    }
    const h1 = await kok(['-n', 'rollout', 'rollout', 'history', 'deployment/web']);
    t.diagnostic(h1);
    assert.match(h1, /^deployment\.apps\/web \nREVISION\s+CHANGE-CAUSE\n/);
    assert.deepEqual(await history(), [['1', 'release v1'], ['2', 'release v2'], ['3', 'release v3']]);

    assert.equal(await kok(['-n', 'rollout', 'rollout', 'undo', 'deployment/web', '--to-revision=1']), 'deployment.apps/web rolled back\n');
    await kok(['-n', 'rollout', 'rollout', 'status', 'deployment/web', '--timeout=90s'], undefined, 100_000);
    const h2 = await history();
    t.diagnostic(JSON.stringify(h2));
    assert.deepEqual(h2, [['2', 'release v2'], ['3', 'release v3'], ['4', 'release v1']]);
    assert.match(await kok(['-n', 'rollout', 'rollout', 'history', 'deployment/web', '--revision=4']), /VERSION:\s+1\n/);
    assert.equal(await jp(['-n', 'rollout', 'get', 'deployment', 'web'], '{.metadata.annotations.deployment\\.kubernetes\\.io/revision}'), '4');

    assert.equal(await kok(['-n', 'rollout', 'rollout', 'undo', 'deployment/web']), 'deployment.apps/web rolled back\n');
    await kok(['-n', 'rollout', 'rollout', 'status', 'deployment/web', '--timeout=90s'], undefined, 100_000);
    assert.deepEqual(await history(), [['2', 'release v2'], ['4', 'release v1'], ['5', 'release v3']]);
    await waitFor('only v3 pods left', async () => ((await jp(['-n', 'rollout', 'get', 'pods', '-l', 'app=web'], '{.items[*].spec.containers[0].env[0].value}')) === '3' ? true : undefined), 60_000, 250);
  });

  it('rollout pause: no new ReplicaSet, DeploymentPaused, undo refused; resume rolls out', async (t) => {
    assert.equal(await kok(['-n', 'rollout', 'rollout', 'pause', 'deployment/web']), 'deployment.apps/web paused\n');
    const cond = () => jp(['-n', 'rollout', 'get', 'deployment', 'web'], '{.status.conditions[?(@.type=="Progressing")].reason}');
    await waitFor('Progressing reason DeploymentPaused', async () => ((await cond()) === 'DeploymentPaused' ? true : undefined), 30_000, 200);
    const rsBefore = await jp(['-n', 'rollout', 'get', 'rs', '-l', 'app=web'], '{.items[*].metadata.name}');
    await kok(['-n', 'rollout', 'set', 'env', 'deployment/web', 'VERSION=paused']);
    const gen = await jp(['-n', 'rollout', 'get', 'deployment', 'web'], '{.metadata.generation}');
    await waitFor('the controller observed the paused change', async () => ((await jp(['-n', 'rollout', 'get', 'deployment', 'web'], '{.status.observedGeneration}')) === gen ? true : undefined), 30_000, 200);
    assert.equal(await jp(['-n', 'rollout', 'get', 'rs', '-l', 'app=web'], '{.items[*].metadata.name}'), rsBefore, 'no new ReplicaSet while paused');
    assert.equal(await cond(), 'DeploymentPaused');
    const undo = await k(['-n', 'rollout', 'rollout', 'undo', 'deployment/web']);
    t.diagnostic(undo.stderr);
    assert.match(undo.stderr, /you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again/);

    assert.equal(await kok(['-n', 'rollout', 'rollout', 'resume', 'deployment/web']), 'deployment.apps/web resumed\n');
    await kok(['-n', 'rollout', 'rollout', 'status', 'deployment/web', '--timeout=90s'], undefined, 100_000);
    const h = await kok(['-n', 'rollout', 'rollout', 'history', 'deployment/web']);
    t.diagnostic(h);
    assert.match(h, /\n6\s+release v3\n/, 'the resumed change is revision 6 (the Deployment still carries the v3 change-cause)');
    assert.equal(await cond(), 'NewReplicaSetAvailable');
  });
});
