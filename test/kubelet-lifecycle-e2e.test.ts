/**
 * The kubelet process against a real control plane, for what needs the API:
 * the node Lease heartbeat, pod events, ConfigMap changes reaching a running
 * pod's volume, kill -9 of the kubelet with 20 pods running (acceptance 2:
 * zero container restarts), and a pod deleted while the kubelet was down.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import type { ConfigMap, Event, Node, Pod } from 'kubernetes-types/core/v1';
import { ApiError, type KubeObject } from '../lib/client';
import { CONFIGMAPS, ENDPOINTS, EVENTS, LEASES, NODES, PODS, SERVICES } from '../lib/resources';
import { freePort, startControlPlane, type ControlPlane, type Proc, waitFor } from './lib/cluster';
import { bridgeNameFor, removeBridge } from '../kubelet/pod-network';
import { pickFreeSubnet } from './lib/docker';
import { removePodTmpfs } from './lib/kubelet-harness';

const run = promisify(execFile);
const docker = new Docker();
const suffix = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const NODE = `kle-${suffix}`;
const PREFIX = 'coxswain-kle';
const NETWORK = `${PREFIX}-${NODE}`;
let cp: ControlPlane;
let kubelet: Proc;
let rootDir = '';
let healthzPort = 0;
const idle = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'];

function startKubelet(): Proc {
  return cp.startComponent(
    'kubelet',
    ['--node-name', NODE, '--node-ip', '127.0.0.1', '--healthz-port', String(healthzPort), '--sync-frequency', '2s', '--heartbeat-frequency', '2s', '--network-prefix', PREFIX, '--root-dir', rootDir],
    `kubelet-${Date.now()}`,
  );
}

async function kill9(p: Proc): Promise<void> {
  p.child.kill('SIGKILL');
  await p.exited;
}

async function containersOf(labels: string[]): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`coxswain.node=${NODE}`, ...labels] } });
}

type P = Pod & Record<string, unknown>;

function pod(name: string, spec: Partial<NonNullable<Pod['spec']>> = {}): P {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { test: 'kle' } },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox:1.36', command: idle }], ...spec },
  };
}

async function waitRunning(name: string, ms = 60_000): Promise<P> {
  return waitFor(`pod ${name} Running`, async () => {
    const p = await cp.client.get<P>(PODS, name, 'default');
    return p.status?.phase === 'Running' && p.status.containerStatuses?.every((c) => c.ready) ? p : undefined;
  }, ms);
}

async function gone(name: string): Promise<boolean> {
  try {
    await cp.client.get(PODS, name, 'default');
    return false;
  } catch (err) {
    return err instanceof ApiError && err.notFound;
  }
}

before(async () => {
  rootDir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-kle-root-'));
  healthzPort = await freePort();
  const subnet = await pickFreeSubnet(docker);
  cp = await startControlPlane({ nodeName: NODE });
  kubelet = startKubelet();
  await waitFor('the node to register', () => cp.client.tryGet(NODES, NODE), 60_000);
  await cp.client.patch(NODES, NODE, { spec: { podCIDR: subnet, podCIDRs: [subnet] } });
});

after(async () => {
  await cp?.stop().catch(() => undefined);
  const list = await containersOf([]);
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  await removePodTmpfs(list.map((c) => c.Labels['io.kubernetes.pod.uid']).filter(Boolean));
  const vols = await docker.listVolumes({ filters: { label: [`coxswain.node=${NODE}`] } });
  for (const v of vols.Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => undefined);
  await removeBridge(bridgeNameFor(NETWORK));
  await rm(rootDir, { recursive: true, force: true });
});

test('the node heartbeats through a Lease in kube-node-lease', async () => {
  type Lease = KubeObject & { spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number } };
  const first = await waitFor('the node lease', () => cp.client.tryGet<Lease>(LEASES, NODE, 'kube-node-lease'), 30_000);
  assert.equal(first.spec?.holderIdentity, NODE);
  assert.equal(first.spec?.leaseDurationSeconds, 8, "Coxswain's --node-lease-duration-seconds default");
  assert.equal(first.metadata?.ownerReferences?.[0]?.kind, 'Node');
  await waitFor('a renewal', async () => {
    const l = await cp.client.get<Lease>(LEASES, NODE, 'kube-node-lease');
    return l.spec!.renewTime! > first.spec!.renewTime!;
  }, 20_000);
});

test('a ConfigMap change reaches the running pod\'s volume; lifecycle events are recorded in the API', async () => {
  await cp.client.create<ConfigMap & Record<string, unknown>>(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' }, data: { mode: 'blue' } });
  const created = await cp.client.create<P>(PODS, pod('cmpod', {
    volumes: [{ name: 'cfg', configMap: { name: 'settings' } }],
    containers: [{ name: 'main', image: 'busybox:1.36', command: idle, volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }], env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } }] }],
  }));
  const p = await waitRunning('cmpod');
  const id = p.status!.containerStatuses![0].containerID!.replace('docker://', '');
  const read = async () => (await run('docker', ['exec', id, 'cat', '/cfg/mode'])).stdout.trim();
  assert.equal(await read(), 'blue');
  assert.equal((await run('docker', ['exec', id, 'sh', '-c', 'echo $MODE'])).stdout.trim(), 'blue');
  await cp.client.patch(CONFIGMAPS, 'settings', { data: { mode: 'green' } }, { namespace: 'default' });
  await waitFor('the volume to show the new value', async () => (await read()) === 'green', 30_000);
  const evs = await waitFor('Pulled, Created and Started events', async () => {
    const list = await cp.client.list<Event & Record<string, unknown>>(EVENTS, { namespace: 'default' });
    const mine = list.items.filter((e) => e.involvedObject.uid === created.metadata!.uid);
    const reasons = new Set(mine.map((e) => e.reason));
    return ['Pulled', 'Created', 'Started'].every((r) => reasons.has(r)) ? mine : undefined;
  }, 30_000);
  assert.equal(evs.find((e) => e.reason === 'Started')?.source?.component, 'kubelet');
  assert.equal(evs.find((e) => e.reason === 'Started')?.source?.host, NODE);
  await cp.client.delete(PODS, 'cmpod', { namespace: 'default', gracePeriodSeconds: 1 });
  await waitFor('cmpod gone', () => gone('cmpod'), 30_000);
  assert.equal(await stat(path.join(rootDir, 'pods', created.metadata!.uid!)).catch(() => undefined), undefined, 'volume dir removed');
});

test('a projected serviceAccountToken volume holds a token from the serviceaccounts/token subresource', async () => {
  await waitFor('the default ServiceAccount', () => cp.client.tryGet({ group: '', version: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true }, 'default', 'default'), 30_000);
  await cp.client.create<P>(PODS, pod('tokenpod', {
    volumes: [{ name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'coxswain-test', expirationSeconds: 3600 } }] } }],
    containers: [{ name: 'main', image: 'busybox:1.36', command: idle, volumeMounts: [{ name: 'tok', mountPath: '/var/run/secrets/tokens' }] }],
  }));
  const p = await waitRunning('tokenpod');
  const id = p.status!.containerStatuses![0].containerID!.replace('docker://', '');
  const token = (await run('docker', ['exec', id, 'cat', '/var/run/secrets/tokens/token'])).stdout.trim();
  const parts = token.split('.');
  assert.equal(parts.length, 3, 'a JWT');
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  assert.deepEqual([].concat(claims.aud), ['coxswain-test']);
  assert.equal(claims.sub, 'system:serviceaccount:default:default');
  assert.equal(claims['kubernetes.io']?.pod?.name, 'tokenpod');
  await cp.client.delete(PODS, 'tokenpod', { namespace: 'default', gracePeriodSeconds: 0 });
});

test('readiness drives the pod\'s Ready condition and so the Service\'s Endpoints', async () => {
  cp.startComponent('controllers', ['--port', String(await freePort()), '--cluster-cidr', '10.244.0.0/16', '--node-monitor-grace-period', '10m']);
  await cp.client.create(SERVICES, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'gated', namespace: 'default' }, spec: { selector: { app: 'gated' }, ports: [{ port: 80, targetPort: 8080 }] } });
  const p0 = pod('gated', {
    containers: [{ name: 'main', image: 'busybox:1.36', command: idle, readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 } }],
  });
  p0.metadata!.labels = { app: 'gated' };
  await cp.client.create<P>(PODS, p0);
  type Ep = KubeObject & { subsets?: { addresses?: { ip: string }[]; notReadyAddresses?: { ip: string }[] }[] };
  const running = await waitFor('the container to run', async () => {
    const p = await cp.client.get<P>(PODS, 'gated', 'default');
    return p.status?.containerStatuses?.[0]?.state?.running ? p : undefined;
  }, 60_000);
  assert.equal(running.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
  const ip = running.status!.podIP!;
  await waitFor('the pod IP among notReadyAddresses', async () => {
    const ep = await cp.client.tryGet<Ep>(ENDPOINTS, 'gated', 'default');
    return ep?.subsets?.some((s) => s.notReadyAddresses?.some((a) => a.ip === ip) && !(s.addresses ?? []).length);
  }, 30_000);
  const id = running.status!.containerStatuses![0].containerID!.replace('docker://', '');
  await run('docker', ['exec', id, 'touch', '/tmp/ready']);
  await waitFor('the pod IP among ready addresses', async () => {
    const ep = await cp.client.tryGet<Ep>(ENDPOINTS, 'gated', 'default');
    return ep?.subsets?.some((s) => s.addresses?.some((a) => a.ip === ip));
  }, 30_000);
  assert.equal((await cp.client.get<P>(PODS, 'gated', 'default')).status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  await cp.client.delete(PODS, 'gated', { namespace: 'default', gracePeriodSeconds: 0 });
});

test('kill -9 of the kubelet with 20 pods running, then restart: zero container restarts; a pod deleted meanwhile is cleaned up', async () => {
  const names = Array.from({ length: 20 }, (_, i) => `many-${i}`);
  // Each with a readiness probe: its Ready condition must not flap across the kubelet restart either.
  const readiness = { exec: { command: ['true'] }, periodSeconds: 5 };
  for (const n of names) await cp.client.create<P>(PODS, pod(n, { volumes: [{ name: 'scratch', emptyDir: {} }], containers: [{ name: 'main', image: 'busybox:1.36', command: idle, readinessProbe: readiness, volumeMounts: [{ name: 'scratch', mountPath: '/s' }] }] }));
  const victim = await cp.client.create<P>(PODS, pod('deleted-while-down', { volumes: [{ name: 'scratch', emptyDir: {} }], containers: [{ name: 'main', image: 'busybox:1.36', command: idle, volumeMounts: [{ name: 'scratch', mountPath: '/s' }] }] }));
  const before = new Map<string, string>();
  const readySince = new Map<string, string>();
  for (const n of names) {
    const p = await waitRunning(n, 180_000);
    before.set(n, p.status!.containerStatuses![0].containerID!);
    readySince.set(n, p.status!.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime!);
  }
  await waitRunning('deleted-while-down');
  const idsBefore = (await containersOf(['io.kubernetes.pod.name'])).map((c) => c.Id).sort();
  const victimUid = victim.metadata!.uid!;
  const victimIds = new Set((await containersOf([`io.kubernetes.pod.uid=${victimUid}`])).map((c) => c.Id));
  assert.equal(victimIds.size, 2);
  assert.ok(await stat(path.join(rootDir, 'pods', victimUid)).catch(() => undefined));

  await kill9(kubelet);
  // Deleted with grace 0 while the kubelet is down: gone from the API at once, its containers orphaned.
  await cp.client.delete(PODS, 'deleted-while-down', { namespace: 'default', gracePeriodSeconds: 0 });
  assert.ok(await gone('deleted-while-down'));
  kubelet = startKubelet();

  await waitFor('the victim\'s containers and volume dir to be removed', async () => {
    const left = await containersOf([`io.kubernetes.pod.uid=${victimUid}`]);
    const dir = await stat(path.join(rootDir, 'pods', victimUid)).catch(() => undefined);
    return left.length === 0 && !dir;
  }, 60_000);
  // Let the restarted kubelet run a few full syncs over every pod.
  await waitFor('several pod syncs', async () => {
    const r = await fetch(`http://127.0.0.1:${healthzPort}/metrics`).then((x) => x.text()).catch(() => '');
    const m = /kubelet_pod_worker_duration_seconds_count\{operation="sync"\} (\d+)/.exec(r);
    return m && Number(m[1]) >= 60;
  }, 60_000);
  const idsAfter = (await containersOf(['io.kubernetes.pod.name'])).map((c) => c.Id).sort();
  assert.deepEqual(idsAfter, idsBefore.filter((id) => !victimIds.has(id)), 'the same containers, none recreated');
  for (const n of names) {
    const p = await cp.client.get<P>(PODS, n, 'default');
    assert.equal(p.status?.containerStatuses?.[0]?.restartCount, 0, n);
    assert.equal(p.status?.containerStatuses?.[0]?.containerID, before.get(n), `${n} kept its container`);
    assert.equal(p.status?.phase, 'Running');
    const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True', `${n} still Ready`);
    assert.equal(ready?.lastTransitionTime, readySince.get(n), `${n} never went unready`);
  }
  for (const n of names) await cp.client.delete(PODS, n, { namespace: 'default', gracePeriodSeconds: 0 });
});

test('ConfigMaps come from an informer cache: a pod waiting for a missing one starts when it is created, and pod syncs GET none', async () => {
  const getCount = async () => {
    const text = await cp.client.request<string>('GET', '/metrics');
    let n = 0;
    for (const m of text.matchAll(/^apiserver_request_total\{verb="get",resource="configmaps",[^}]*\} (\d+)/gm)) n += Number(m[1]);
    return n;
  };
  const syncs = async () => {
    const r = await fetch(`http://127.0.0.1:${healthzPort}/metrics`).then((x) => x.text());
    return Number(/kubelet_pod_worker_duration_seconds_count\{operation="sync"\} (\d+)/.exec(r)?.[1] ?? 0);
  };
  await cp.client.create<P>(PODS, pod('late', {
    volumes: [{ name: 'cfg', configMap: { name: 'late-cm' } }],
    containers: [{ name: 'main', image: 'busybox:1.36', command: idle, volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }], envFrom: [{ configMapRef: { name: 'late-cm' } }] }],
  }));
  await waitFor('the pod to wait for its ConfigMap', async () => {
    const p = await cp.client.get<P>(PODS, 'late', 'default');
    return /late-cm/.test(p.status?.containerStatuses?.[0]?.state?.waiting?.message ?? '') ? p : undefined;
  }, 60_000);
  await cp.client.create<ConfigMap & Record<string, unknown>>(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late-cm', namespace: 'default' }, data: { LATE: 'yes' } });
  const p = await waitRunning('late');
  const id = p.status!.containerStatuses![0].containerID!.replace('docker://', '');
  assert.equal((await run('docker', ['exec', id, 'sh', '-c', 'echo $LATE; cat /cfg/LATE'])).stdout, 'yes\nyes');
  const gets0 = await getCount();
  const syncs0 = await syncs();
  await waitFor('more pod syncs', async () => (await syncs()) >= syncs0 + 5, 60_000);
  assert.equal(await getCount(), gets0, 'no GET of a ConfigMap per pod sync');
  await cp.client.delete(PODS, 'late', { namespace: 'default', gracePeriodSeconds: 0 });
});

test('graceful node shutdown: without --shutdown-grace-period containers outlive the kubelet; with it, SIGTERM stops every pod (preStop, SIGTERM) and marks it Failed/Terminated', async () => {
  const logDir = path.join(rootDir, 'shutdown-log');
  await cp.client.create<P>(PODS, pod('survivor'));
  const survivor = await waitRunning('survivor');
  const survivorId = survivor.status!.containerStatuses![0].containerID!.replace('docker://', '');

  // Default: the kubelet exits and leaves the containers running, for the next kubelet to adopt.
  kubelet.child.kill('SIGTERM');
  assert.equal((await kubelet.exited).code, 0);
  assert.equal((await docker.getContainer(survivorId).inspect()).State.Running, true, 'the container outlives a kubelet stopped without --shutdown-grace-period');

  kubelet = cp.startComponent(
    'kubelet',
    ['--node-name', NODE, '--node-ip', '127.0.0.1', '--healthz-port', String(healthzPort), '--sync-frequency', '2s', '--heartbeat-frequency', '2s', '--network-prefix', PREFIX, '--root-dir', rootDir, '--shutdown-grace-period', '8s'],
    `kubelet-shutdown-${Date.now()}`,
  );
  const record = ['sh', '-c', 'trap "echo term >> /log/events; exit 0" TERM; while true; do sleep 1; done'];
  await cp.client.create<P>(PODS, pod('drained', {
    terminationGracePeriodSeconds: 30,
    volumes: [{ name: 'log', hostPath: { path: logDir, type: 'DirectoryOrCreate' } }],
    containers: [{ name: 'main', image: 'busybox:1.36', command: record, volumeMounts: [{ name: 'log', mountPath: '/log' }], lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop >> /log/events'] } } } }],
  }));
  await waitRunning('drained');
  const adopted = await cp.client.get<P>(PODS, 'survivor', 'default');
  assert.equal(adopted.status?.containerStatuses?.[0]?.containerID, `docker://${survivorId}`, 'the restarted kubelet adopted the running container');

  const t0 = Date.now();
  kubelet.child.kill('SIGTERM');
  assert.equal((await kubelet.exited).code, 0);
  const took = Date.now() - t0;
  assert.ok(took < 30_000, `the kubelet exits within the shutdown grace period (plus API writes): ${took} ms`);

  const message = 'Pod was terminated in response to imminent node shutdown.';
  for (const name of ['survivor', 'drained']) {
    const p = await cp.client.get<P>(PODS, name, 'default');
    assert.equal(p.status?.phase, 'Failed', name);
    assert.equal(p.status?.reason, 'Terminated', name);
    assert.equal(p.status?.message, message, name);
    const dt = p.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    assert.equal(dt?.status, 'True', name);
    assert.equal(dt?.reason, 'TerminationByKubelet', name);
    const term = p.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(term?.exitCode, 0, `${name}: its process took SIGTERM and exited 0: ${JSON.stringify(p.status?.containerStatuses)}`);
  }
  const drained = await containersOf(['io.kubernetes.pod.name=drained']);
  assert.ok(drained.length >= 2 && drained.every((c) => c.State === 'exited'), 'containers are stopped and kept: ' + drained.map((c) => c.State).join(','));
  assert.equal((await readFile(path.join(logDir, 'events'), 'utf8')), 'prestop\nterm\n', 'preStop ran, then SIGTERM reached the process');
  const node = await cp.client.get<Node & Record<string, unknown>>(NODES, NODE);
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'False');
  assert.equal(ready?.reason, 'KubeletNotReady');
  assert.equal(ready?.message, 'node is shutting down');
});
