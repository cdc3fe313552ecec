/**
 * The pod lifecycle on real Docker, driving the pod manager directly (no
 * apiserver): init containers, env from ConfigMaps/Secrets/downward API,
 * volumes, resources and OOM, probes, hooks and graceful termination,
 * securityContext, events. Everything it creates carries a unique node label,
 * network name or temp dir and is removed in `after`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import pino from 'pino';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import { DockerRuntime } from '../kubelet/docker-runtime';
import { PodManager } from '../kubelet/pod-manager';
import type { PodEventSink } from '../kubelet/sync-pod';
import type { BridgePodNetwork } from '../kubelet/pod-network';
import { StaticPodSources } from '../kubelet/pod-sources';
import { LABEL_NODE, LABEL_POD_UID } from '../kubelet/runtime';
import { FakeSink, attachPodNetwork, podHelpers } from './lib/kubelet-harness';

const run = promisify(execFile);
const docker = new Docker();
const log = pino({ level: process.env.COXSWAIN_LOG_LEVEL ?? 'warn' });
const suffix = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const NODE = `kl-${suffix}`;
const NETWORK = `coxswain-test-${suffix}`;
const NODE_IP = '192.0.2.11';
const busybox = 'busybox:1.36';
const idle = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'];


class FakeEvents implements PodEventSink {
  list: { uid?: string; type: string; reason: string; message: string }[] = [];
  event(obj: { metadata?: Pod['metadata'] }, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.list.push({ uid: obj.metadata?.uid, type, reason, message });
  }
  reasons(uid: string): string[] {
    return this.list.filter((e) => e.uid === uid).map((e) => e.reason);
  }
}

const runtime = new DockerRuntime(docker, log);
const sink = new FakeSink();
const sources = new StaticPodSources();
const events = new FakeEvents();
let rootDir = '';
let scratch = '';
let manager: PodManager;
let net: BridgePodNetwork | undefined;

async function cleanup(): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL_NODE}=${NODE}`] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  const vols = await docker.listVolumes({ filters: { label: [`${LABEL_NODE}=${NODE}`] } });
  for (const v of vols.Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => undefined);
  await net?.remove();
}

before(async () => {
  rootDir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-kubelet-root-'));
  scratch = await mkdtemp(path.join(os.tmpdir(), 'coxswain-kubelet-host-'));
  manager = new PodManager({ runtime, nodeName: NODE, nodeIP: NODE_IP, sink, log, sources, events, rootDir });
  sink.manager = manager;
  net = await attachPodNetwork({ docker, runtime, manager, network: NETWORK, log });
});

after(async () => {
  await manager.stop();
  await cleanup();
  await rm(rootDir, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

const { makePod, syncUntil, podContainers } = podHelpers({ node: NODE, docker, sink, manager: () => manager });



function idOf(s: PodStatus, name: string): string {
  return s.containerStatuses!.find((c) => c.name === name)!.containerID!.replace('docker://', '');
}

async function dexec(id: string, cmd: string[]): Promise<string> {
  const { stdout } = await run('docker', ['exec', id, ...cmd], { timeout: 20_000 });
  return stdout;
}

async function remove(pod: Pod): Promise<void> {
  await manager.removePod(pod);
  assert.deepEqual(await podContainers(pod.metadata!.uid!), []);
}

const running = (s: PodStatus) => s.phase === 'Running' && (s.containerStatuses ?? []).every((c) => c.state?.running);

test('init containers run in order to completion before the app; the app sees their emptyDir file', async () => {
  const pod = makePod('init', {
    volumes: [{ name: 'work', emptyDir: {} }],
    initContainers: [
      { name: 'first', image: busybox, command: ['sh', '-c', 'echo one > /work/log'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
      { name: 'second', image: busybox, command: ['sh', '-c', 'sleep 1; echo two >> /work/log'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
    ],
    containers: [{ name: 'app', image: busybox, command: idle, volumeMounts: [{ name: 'work', mountPath: '/data' }] }],
  });
  const uid = pod.metadata!.uid!;
  await manager.updatePod(pod);
  const early = sink.statuses.get(uid)!;
  assert.equal(early.phase, 'Pending');
  assert.equal(early.conditions!.find((c) => c.type === 'Initialized')!.status, 'False');
  assert.equal(early.containerStatuses![0].state?.waiting?.reason, 'PodInitializing');
  const s = await syncUntil(pod, running, 'Running after init');
  assert.deepEqual(s.initContainerStatuses!.map((c) => [c.name, c.state?.terminated?.reason, c.ready]), [['first', 'Completed', true], ['second', 'Completed', true]]);
  assert.equal(s.conditions!.find((c) => c.type === 'Initialized')!.status, 'True');
  assert.equal((await dexec(idOf(s, 'app'), ['cat', '/data/log'])).trim(), 'one\ntwo');
  const [t1, t2] = s.initContainerStatuses!.map((c) => Date.parse(c.state!.terminated!.finishedAt!));
  assert.ok(t1 <= t2);
  assert.ok(await stat(path.join(rootDir, 'pods', uid)).catch(() => undefined), 'pod dir exists');
  await remove(pod);
  assert.equal(await stat(path.join(rootDir, 'pods', uid)).catch(() => undefined), undefined, 'pod dir removed with the pod');
});

test('a failing init container fails the pod under restartPolicy Never; the app never starts', async () => {
  const pod = makePod('initfail', { restartPolicy: 'Never', initContainers: [{ name: 'bad', image: busybox, command: ['sh', '-c', 'exit 7'] }], containers: [{ name: 'app', image: busybox, command: idle }] });
  await manager.updatePod(pod);
  const s = await syncUntil(pod, (x) => x.phase === 'Failed', 'Failed');
  assert.equal(s.initContainerStatuses![0].state?.terminated?.exitCode, 7);
  assert.equal((await podContainers(pod.metadata!.uid!)).filter((c) => c.Labels['io.kubernetes.container.name'] === 'app').length, 0);
  await remove(pod);
});

test('env from ConfigMaps, Secrets, fieldRef, resourceFieldRef and envFrom; a missing ConfigMap is CreateContainerConfigError until it appears', async () => {
  const b64 = (x: string) => Buffer.from(x).toString('base64');
  sources.add({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'env-secret', namespace: 'default' }, data: { password: b64('s3cret'), TOKEN: b64('tok') } });
  const pod = makePod(
    'envpod',
    {
      serviceAccountName: 'robot',
      containers: [
        {
          name: 'main',
          image: busybox,
          command: idle,
          resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '250m', memory: '32Mi' } },
          envFrom: [{ configMapRef: { name: 'env-cm' }, prefix: 'CM_' }, { secretRef: { name: 'env-secret' } }],
          env: [
            { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'env-cm', key: 'greeting' } } },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'password' } } },
            { name: 'OPTIONAL', valueFrom: { secretKeyRef: { name: 'nope', key: 'x', optional: true } } },
            { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
            { name: 'TEAM', valueFrom: { fieldRef: { fieldPath: "metadata.labels['team']" } } },
            { name: 'NOTE', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
            { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
            { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'CPU_LIMIT_M', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
            { name: 'MEM_REQ_MI', valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: '1Mi' } } },
          ],
        },
      ],
    },
    { labels: { team: 'blue' }, annotations: { note: 'hi there' } },
  );
  const uid = pod.metadata!.uid!;
  await manager.updatePod(pod);
  const waiting = sink.statuses.get(uid)!.containerStatuses![0].state?.waiting;
  assert.equal(waiting?.reason, 'CreateContainerConfigError');
  assert.equal(waiting?.message, 'configmap "env-cm" not found');
  assert.ok(events.list.some((e) => e.uid === uid && e.reason === 'Failed' && /env-cm/.test(e.message)));
  sources.add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'env-cm', namespace: 'default' }, data: { greeting: 'hello', color: 'red' } });
  const s = await syncUntil(pod, running, 'Running once the ConfigMap exists');
  const env = Object.fromEntries(
    (await dexec(idOf(s, 'main'), ['env']))
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  assert.equal(env.GREETING, 'hello');
  assert.equal(env.CM_greeting, 'hello');
  assert.equal(env.CM_color, 'red');
  assert.equal(env.PASSWORD, 's3cret');
  assert.equal(env.TOKEN, 'tok');
  assert.equal(env.OPTIONAL, undefined);
  assert.equal(env.POD_UID, uid);
  assert.equal(env.TEAM, 'blue');
  assert.equal(env.NOTE, 'hi there');
  assert.equal(env.SA, 'robot');
  assert.equal(env.HOST_IP, NODE_IP);
  assert.equal(env.POD_IP, s.podIP);
  assert.equal(env.CPU_LIMIT_M, '500');
  assert.equal(env.MEM_REQ_MI, '32');
  // requests/limits → cgroup settings.
  const hc = (await docker.getContainer(idOf(s, 'main')).inspect()).HostConfig;
  assert.equal(hc.CpuShares, 256);
  assert.equal(hc.CpuQuota, 50_000);
  assert.equal(hc.CpuPeriod, 100_000);
  assert.equal(hc.Memory, 64 * 1024 * 1024);
  await remove(pod);
});

test('volumes: configMap (items, modes, refreshed atomically), secret, downwardAPI, memory emptyDir, hostPath, PVC, projected token', async () => {
  const b64 = (x: string) => Buffer.from(x).toString('base64');
  sources.add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vol-cm', namespace: 'default' }, data: { 'app.conf': 'v=1', other: 'o' } });
  sources.add({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'vol-secret', namespace: 'default' }, data: { key: b64('k3y') } });
  const pvDir = path.join(scratch, 'pv1');
  sources.add({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1' }, spec: { capacity: { storage: '1Gi' }, hostPath: { path: pvDir, type: 'DirectoryOrCreate' }, claimRef: { namespace: 'default', name: 'claim1' } } });
  sources.add({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'claim1', namespace: 'default' }, spec: { volumeName: 'pv1' }, status: { phase: 'Bound' } });
  sources.token = 'header.payload.sig';
  await writeFile(path.join(scratch, 'hostfile'), 'from-host');
  const pod = makePod(
    'vols',
    {
      volumes: [
        { name: 'cm', configMap: { name: 'vol-cm' } },
        { name: 'cm-items', configMap: { name: 'vol-cm', items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o600 }], defaultMode: 0o640 } },
        { name: 'sec', secret: { secretName: 'vol-secret', defaultMode: 0o400 } },
        { name: 'down', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
        { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
        { name: 'host', hostPath: { path: scratch, type: 'Directory' } },
        { name: 'pvc', persistentVolumeClaim: { claimName: 'claim1' } },
        { name: 'proj', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }, { configMap: { name: 'vol-cm', items: [{ key: 'other', path: 'other' }] } }] } },
      ],
      containers: [
        {
          name: 'main',
          image: busybox,
          command: idle,
          volumeMounts: [
            { name: 'cm', mountPath: '/etc/cm' },
            { name: 'cm-items', mountPath: '/etc/cm-items' },
            { name: 'sec', mountPath: '/etc/sec' },
            { name: 'down', mountPath: '/etc/down' },
            { name: 'mem', mountPath: '/mem' },
            { name: 'host', mountPath: '/host', readOnly: true },
            { name: 'pvc', mountPath: '/pvc' },
            { name: 'proj', mountPath: '/var/run/secrets/tokens' },
          ],
        },
      ],
    },
    { labels: { app: 'vols', tier: 'x' } },
  );
  const uid = pod.metadata!.uid!;
  await manager.updatePod(pod);
  const s = await syncUntil(pod, running, 'Running with volumes');
  const id = idOf(s, 'main');
  const sh = async (cmd: string) => (await dexec(id, ['sh', '-c', cmd])).trim();
  assert.equal(await sh('cat /etc/cm/app.conf'), 'v=1');
  assert.equal(await sh('cat /etc/cm-items/conf/app.conf'), 'v=1');
  assert.equal(await sh('ls /etc/cm-items'), 'conf');
  assert.equal(await sh('stat -L -c %a /etc/cm-items/conf/app.conf'), '600');
  assert.equal(await sh('stat -L -c %a /etc/sec/key'), '400');
  assert.equal(await sh('cat /etc/sec/key'), 'k3y');
  assert.equal(await sh('cat /etc/down/labels'), 'app="vols"\ntier="x"');
  assert.equal(await sh('cat /etc/down/name'), 'vols');
  assert.match(await sh('grep " /mem " /proc/mounts'), /^tmpfs \/mem tmpfs/);
  assert.equal(await sh('cat /host/hostfile'), 'from-host');
  assert.notEqual(await sh('touch /host/x 2>&1; echo $?'), '0', 'readOnly hostPath mount');
  await sh('echo persisted > /pvc/data');
  assert.equal(await readFile(path.join(pvDir, 'data'), 'utf8'), 'persisted\n');
  assert.equal(await sh('cat /var/run/secrets/tokens/token'), 'header.payload.sig');
  assert.equal(await sh('cat /var/run/secrets/tokens/other'), 'o');
  assert.notEqual(await sh('touch /etc/cm/new 2>&1; echo $?'), '0', 'configMap volumes are read-only');

  // The ConfigMap changes: the next sync swaps ..data and the running container sees the new content.
  sources.add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vol-cm', namespace: 'default' }, data: { 'app.conf': 'v=2' } });
  await manager.sync(uid);
  assert.equal(await sh('cat /etc/cm/app.conf'), 'v=2');
  assert.equal(await sh('ls /etc/cm'), 'app.conf', 'the removed key is gone');
  assert.match(await sh('readlink /etc/cm/..data'), /^\.\.[0-9a-f]{16}$/);
  assert.equal(idOf(sink.statuses.get(uid)!, 'main'), id, 'no restart for a volume refresh');

  await remove(pod);
  assert.equal(await stat(path.join(rootDir, 'pods', uid)).catch(() => undefined), undefined);
  const vols = await docker.listVolumes({ filters: { label: [`${LABEL_POD_UID}=${uid}`] } });
  assert.deepEqual(vols.Volumes ?? [], [], 'memory emptyDir volume removed');
  sources.token = undefined;
});

test('volume problems: a failed hostPath type check and a missing projected token keep the container waiting with a clear message', async () => {
  const pod = makePod('badvol', {
    volumes: [{ name: 'h', hostPath: { path: path.join(scratch, 'does-not-exist'), type: 'Directory' } }],
    containers: [{ name: 'main', image: busybox, command: idle, volumeMounts: [{ name: 'h', mountPath: '/h' }] }],
  });
  await manager.updatePod(pod);
  const w = sink.statuses.get(pod.metadata!.uid!)!.containerStatuses![0].state?.waiting;
  assert.equal(w?.reason, 'ContainerCreating');
  assert.match(w?.message ?? '', /hostPath type check failed: .*does-not-exist is not a directory/);
  assert.ok(events.reasons(pod.metadata!.uid!).includes('FailedMount'));
  await remove(pod);

  const tokenPod = makePod('notoken', {
    volumes: [{ name: 'p', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }],
    containers: [{ name: 'main', image: busybox, command: idle, volumeMounts: [{ name: 'p', mountPath: '/p' }] }],
  });
  await manager.updatePod(tokenPod);
  const tw = sink.statuses.get(tokenPod.metadata!.uid!)!.containerStatuses![0].state?.waiting;
  assert.equal(tw?.reason, 'CreateContainerConfigError');
  assert.match(tw?.message ?? '', /serviceaccounts\/token subresource/);
  await remove(tokenPod);
});

test('a memory hog over its limit is reported as OOMKilled', async () => {
  const pod = makePod('oom', {
    restartPolicy: 'Never',
    // Grow a shell variable until the 16Mi cgroup limit kills the process.
    containers: [{ name: 'hog', image: busybox, command: ['sh', '-c', 'x=aaaaaaaaaaaaaaaa; while true; do x="$x$x"; done'], resources: { limits: { memory: '16Mi' } } }],
  });
  await manager.updatePod(pod);
  const s = await syncUntil(pod, (x) => x.phase === 'Failed', 'Failed by OOM', 60_000);
  assert.equal(s.containerStatuses![0].state?.terminated?.reason, 'OOMKilled');
  assert.equal(s.containerStatuses![0].state?.terminated?.exitCode, 137);
  await remove(pod);
});

test('readiness (exec, httpGet, tcpSocket) drives ready and the Ready condition; startup gates it', async () => {
  const pod = makePod('probes', {
    containers: [
      {
        name: 'web',
        image: busybox,
        command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www'],
        ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
        livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
      },
      {
        name: 'gate',
        image: busybox,
        command: idle,
        startupProbe: { exec: { command: ['test', '-f', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 60 },
        readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 },
      },
    ],
  });
  const uid = pod.metadata!.uid!;
  await manager.updatePod(pod);
  const s1 = await syncUntil(pod, (s) => s.containerStatuses?.find((c) => c.name === 'web')?.ready === true, 'web ready over httpGet');
  const gate = () => sink.statuses.get(uid)!.containerStatuses!.find((c) => c.name === 'gate')!;
  assert.equal(gate().started, false, 'startup probe not passed yet');
  assert.equal(gate().ready, false);
  assert.equal(s1.conditions!.find((c) => c.type === 'Ready')!.status, 'False');
  const gateId = idOf(s1, 'gate');
  await dexec(gateId, ['touch', '/tmp/started']);
  await syncUntil(pod, () => gate().started === true, 'started');
  assert.equal(gate().ready, false, 'readiness still failing');
  await dexec(gateId, ['touch', '/tmp/ready']);
  const s2 = await syncUntil(pod, (s) => s.conditions!.find((c) => c.type === 'Ready')!.status === 'True', 'pod Ready');
  assert.equal(s2.conditions!.find((c) => c.type === 'ContainersReady')!.status, 'True');
  // httpGet readiness fails when the file goes away: the container is unready, not restarted.
  await dexec(idOf(s2, 'web'), ['rm', '/www/healthz']);
  const s3 = await syncUntil(pod, (s) => s.containerStatuses!.find((c) => c.name === 'web')!.ready === false, 'web unready');
  assert.equal(s3.containerStatuses!.find((c) => c.name === 'web')!.restartCount, 0);
  assert.ok(events.list.some((e) => e.uid === uid && e.reason === 'Unhealthy' && /Readiness probe failed: HTTP probe failed with statuscode: 404/.test(e.message)), JSON.stringify(events.list.filter((e) => e.uid === uid)));
  await remove(pod);
});

test('a failing liveness probe restarts the container (restartCount 1, Killing and Unhealthy events)', async () => {
  const pod = makePod('live', {
    containers: [
      {
        name: 'main',
        image: busybox,
        command: ['sh', '-c', 'touch /tmp/alive; trap "exit 0" TERM; while true; do sleep 1; done'],
        livenessProbe: { exec: { command: ['test', '-f', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 2, timeoutSeconds: 2 },
      },
    ],
  });
  const uid = pod.metadata!.uid!;
  await manager.updatePod(pod);
  const s = await syncUntil(pod, running, 'Running');
  await dexec(idOf(s, 'main'), ['rm', '/tmp/alive']);
  // After the kill the container waits out a 10 s backoff, then runs again.
  const after = await syncUntil(pod, (x) => x.containerStatuses![0].restartCount === 1 && !!x.containerStatuses![0].state?.running, 'restarted once', 45_000);
  assert.ok(after.containerStatuses![0].lastState?.terminated);
  const reasons = events.reasons(uid);
  assert.ok(reasons.includes('Unhealthy') && reasons.includes('Killing'), reasons.join(','));
  assert.ok(events.list.some((e) => e.uid === uid && e.reason === 'Killing' && /failed liveness probe, will be restarted/.test(e.message)));
  await remove(pod);
});

test('graceful termination: preStop runs first, SIGTERM reaches the process, SIGKILL after the grace period; postStart runs', async () => {
  const marks = path.join(scratch, 'marks');
  await writeFile(path.join(scratch, '.keep'), '');
  const pod = makePod('term', {
    terminationGracePeriodSeconds: 3,
    volumes: [{ name: 'm', hostPath: { path: marks, type: 'DirectoryOrCreate' } }],
    containers: [
      {
        name: 'polite',
        image: busybox,
        command: ['sh', '-c', 'trap "echo term >> /m/polite; exit 0" TERM; while true; do sleep 1; done'],
        volumeMounts: [{ name: 'm', mountPath: '/m' }],
        lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop >> /m/polite'] } }, postStart: { exec: { command: ['sh', '-c', 'echo poststart > /m/post'] } } },
      },
      // Ignores SIGTERM: only SIGKILL after the grace period ends it.
      { name: 'stubborn', image: busybox, command: ['sh', '-c', 'trap "echo ignored >> /m/stubborn" TERM; while true; do sleep 1; done'], volumeMounts: [{ name: 'm', mountPath: '/m' }] },
    ],
  });
  const uid = pod.metadata!.uid!;
  await manager.updatePod(pod);
  await syncUntil(pod, running, 'Running');
  assert.equal((await readFile(path.join(marks, 'post'), 'utf8')).trim(), 'poststart');
  const t0 = Date.now();
  await manager.updatePod({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 3 } });
  const took = Date.now() - t0;
  assert.ok(sink.deleted.has(uid));
  assert.deepEqual(await podContainers(uid), []);
  assert.equal((await readFile(path.join(marks, 'polite'), 'utf8')).trim(), 'prestop\nterm', 'preStop before SIGTERM');
  assert.equal((await readFile(path.join(marks, 'stubborn'), 'utf8')).trim(), 'ignored', 'SIGTERM reached the process');
  assert.ok(took >= 2_500 && took < 15_000, `SIGKILL after the grace period (took ${took} ms)`);
  assert.ok(events.reasons(uid).includes('Killing'));
});

test('securityContext: runAsUser/runAsGroup, readOnlyRootFilesystem, capabilities, no-new-privileges', async () => {
  const pod = makePod('secure', {
    securityContext: { runAsUser: 1000, runAsGroup: 2000, supplementalGroups: [3000] },
    containers: [
      {
        name: 'main',
        image: busybox,
        command: idle,
        securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
      },
      { name: 'root', image: busybox, command: idle, securityContext: { runAsUser: 0, capabilities: { drop: ['CHOWN'] } } },
    ],
  });
  await manager.updatePod(pod);
  const s = await syncUntil(pod, running, 'Running');
  const id = idOf(s, 'main');
  assert.equal((await dexec(id, ['id', '-u'])).trim(), '1000');
  assert.equal((await dexec(id, ['id', '-g'])).trim(), '2000');
  assert.match(await dexec(id, ['id', '-G']), /\b3000\b/);
  assert.notEqual((await dexec(id, ['sh', '-c', 'touch /x 2>/dev/null; echo $?'])).trim(), '0', 'read-only root filesystem');
  const hc = (await docker.getContainer(id).inspect()).HostConfig;
  assert.deepEqual(hc.CapDrop, ['ALL']);
  assert.deepEqual(hc.CapAdd, ['NET_BIND_SERVICE']);
  assert.deepEqual(hc.SecurityOpt, ['no-new-privileges', 'seccomp=unconfined']);
  assert.equal(hc.ReadonlyRootfs, true);
  const rootId = idOf(s, 'root');
  assert.equal((await dexec(rootId, ['id', '-u'])).trim(), '0');
  assert.notEqual((await dexec(rootId, ['sh', '-c', 'touch /f; chown 1:1 /f 2>/dev/null; echo $?'])).trim(), '0', 'CHOWN dropped');
  assert.match((await dexec(rootId, ['grep', 'NoNewPrivs', '/proc/self/status'])), /NoNewPrivs:\s+0/);
  assert.match((await dexec(id, ['grep', 'NoNewPrivs', '/proc/self/status'])), /NoNewPrivs:\s+1/);
  await remove(pod);
});

test('seccomp: no profile named runs Unconfined (Kubernetes\' default); RuntimeDefault is Docker\'s filter; the container\'s profile wins', async () => {
  const pod = makePod('seccomp', {
    securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      { name: 'filtered', image: busybox, command: idle },
      { name: 'open', image: busybox, command: idle, securityContext: { seccompProfile: { type: 'Unconfined' } } },
    ],
  });
  const plain = makePod('seccomp-plain', { containers: [{ name: 'main', image: busybox, command: idle }] });
  await manager.updatePod(pod);
  await manager.updatePod(plain);
  const s = await syncUntil(pod, running, 'Running');
  const sp = await syncUntil(plain, running, 'Running');
  // /proc/self/status: Seccomp 0 = none, 2 = a filter.
  assert.match(await dexec(idOf(s, 'filtered'), ['grep', '^Seccomp:', '/proc/self/status']), /Seccomp:\s+2/);
  assert.match(await dexec(idOf(s, 'open'), ['grep', '^Seccomp:', '/proc/self/status']), /Seccomp:\s+0/);
  assert.match(await dexec(idOf(sp, 'main'), ['grep', '^Seccomp:', '/proc/self/status']), /Seccomp:\s+0/);
  await remove(pod);
  await remove(plain);
});

test('events: Pulled, Created, Started for a normal start; BackOff for a crash loop', async () => {
  const pod = makePod('evts', { containers: [{ name: 'main', image: busybox, command: ['sh', '-c', 'exit 1'] }] });
  const uid = pod.metadata!.uid!;
  await manager.updatePod(pod);
  await syncUntil(pod, (s) => s.containerStatuses![0].state?.waiting?.reason === 'CrashLoopBackOff', 'CrashLoopBackOff');
  const reasons = events.reasons(uid);
  for (const r of ['Pulled', 'Created', 'Started', 'BackOff']) assert.ok(reasons.includes(r), `${r} in ${reasons.join(',')}`);
  assert.ok(events.list.some((e) => e.uid === uid && e.reason === 'Pulled' && e.message === 'Container image "busybox:1.36" already present on machine'));
  await remove(pod);
});

test('privileged maps to HostConfig.Privileged; this sandbox\'s Docker refuses it, reported as RunContainerError (no crash)', async () => {
  const pod = makePod('priv', { containers: [{ name: 'main', image: busybox, command: idle, securityContext: { privileged: true } }] });
  const uid = pod.metadata!.uid!;
  await manager.updatePod(pod);
  const s = await syncUntil(pod, (x) => !!x.containerStatuses![0].state?.running || !!x.containerStatuses![0].state?.waiting?.reason?.match(/RunContainerError|CrashLoopBackOff/), 'privileged outcome');
  const c = (await podContainers(uid)).find((x) => x.Labels['io.kubernetes.container.name'] === 'main')!;
  assert.equal((await docker.getContainer(c.Id).inspect()).HostConfig.Privileged, true);
  if (!s.containerStatuses![0].state?.running) assert.match(JSON.stringify(s.containerStatuses![0]), /operation not permitted|caps/);
  await remove(pod);
});

test('an httpGet preStop hook is called before the container is stopped', async () => {
  const marks = path.join(scratch, 'http-marks');
  // A CGI script behind busybox httpd writes a marker on the host when the hook calls it.
  const script = '#!/bin/sh\necho hit > /m/prestop\nprintf "Content-Type: text/plain\\r\\n\\r\\nok\\n"\n';
  const pod = makePod('prestophttp', {
    terminationGracePeriodSeconds: 5,
    volumes: [{ name: 'm', hostPath: { path: marks, type: 'DirectoryOrCreate' } }],
    containers: [
      {
        name: 'web',
        image: busybox,
        command: ['sh', '-c', `mkdir -p /www/cgi-bin && echo up > /www/index.html && printf '${script}' > /www/cgi-bin/quit && chmod +x /www/cgi-bin/quit && exec httpd -f -p 8081 -h /www`],
        volumeMounts: [{ name: 'm', mountPath: '/m' }],
        lifecycle: { preStop: { httpGet: { path: '/cgi-bin/quit', port: 8081 } } },
      },
    ],
  });
  const uid = pod.metadata!.uid!;
  await manager.updatePod(pod);
  const s = await syncUntil(pod, running, 'Running');
  await waitForListening(idOf(s, 'web'), 8081);
  await manager.updatePod({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 5 } });
  assert.ok(sink.deleted.has(uid));
  assert.ok(!events.list.some((e) => e.uid === uid && e.reason === 'FailedPreStopHook'), JSON.stringify(events.list.filter((e) => e.uid === uid)));
  assert.equal((await readFile(path.join(marks, 'prestop'), 'utf8')).trim(), 'hit');
});

async function waitForListening(id: string, port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const out = await dexec(id, ['wget', '-qO-', `http://127.0.0.1:${port}/`]).catch(() => '');
    if (out.includes('up')) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`nothing listening on ${port}`);
}

test('imagePullSecrets reach the registry as credentials (a fake registry on loopback that refuses everything)', async () => {
  const http = await import('node:http');
  const seen: string[] = [];
  const registry = http.createServer((req, res) => {
    seen.push(req.headers.authorization ?? '-');
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"', 'Docker-Distribution-API-Version': 'registry/2.0', 'Content-Type': 'application/json' });
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}');
  });
  await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
  try {
    const host = `127.0.0.1:${(registry.address() as { port: number }).port}`;
    const b64 = (x: string) => Buffer.from(x).toString('base64');
    sources.add({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/dockerconfigjson', metadata: { name: 'regcred', namespace: 'default' }, data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { [host]: { username: 'alice', password: 'pw' } } })) } });
    const pod = makePod('pullauth', { imagePullSecrets: [{ name: 'regcred' }], containers: [{ name: 'main', image: `${host}/private/app:1`, imagePullPolicy: 'Always' }] });
    await manager.updatePod(pod);
    const w = sink.statuses.get(pod.metadata!.uid!)!.containerStatuses![0].state?.waiting;
    assert.equal(w?.reason, 'ErrImagePull');
    assert.ok(seen.includes(`Basic ${b64('alice:pw')}`), `registry saw ${JSON.stringify(seen)}`);
    await remove(pod);
  } finally {
    registry.close();
  }
});

test('terminationMessagePath and terminationMessagePolicy: the message shows in state.terminated and lastState.terminated', async () => {
  const pod = makePod('termmsg', {
    restartPolicy: 'Never',
    containers: [
      { name: 'file', image: busybox, command: ['sh', '-c', 'printf "bye from file" > /dev/termination-log; exit 1'] },
      { name: 'custom', image: busybox, terminationMessagePath: '/tmp/why', securityContext: { runAsUser: 1000 }, command: ['sh', '-c', 'echo "done as $(id -u)" > /tmp/why'] },
      { name: 'logs', image: busybox, terminationMessagePolicy: 'FallbackToLogsOnError', command: ['sh', '-c', 'for i in $(seq 1 100); do echo line $i; done; exit 2'] },
      { name: 'logs-ok', image: busybox, terminationMessagePolicy: 'FallbackToLogsOnError', command: ['sh', '-c', 'echo fine'] },
      { name: 'file-wins', image: busybox, terminationMessagePolicy: 'FallbackToLogsOnError', command: ['sh', '-c', 'echo noise; printf from-file > /dev/termination-log; exit 3'] },
    ],
  });
  await manager.updatePod(pod);
  const s = await syncUntil(pod, (x) => x.phase === 'Failed' && x.containerStatuses!.every((c) => c.state?.terminated), 'all containers terminated');
  const term = (name: string) => s.containerStatuses!.find((c) => c.name === name)!.state!.terminated!;
  assert.equal(term('file').message, 'bye from file');
  assert.equal(term('custom').message, 'done as 1000\n', 'a non-root container can write its termination message');
  // The last 80 lines of the log (lines 21..100).
  const logs = term('logs').message!;
  assert.ok(logs.startsWith('line 21\n') && logs.endsWith('line 100\n'), JSON.stringify(logs));
  assert.equal(term('logs-ok').message, undefined, 'no fallback for a container that succeeded');
  assert.equal(term('file-wins').message, 'from-file');
  await remove(pod);

  const again = makePod('termmsg-restart', {
    restartPolicy: 'OnFailure',
    containers: [{ name: 'main', image: busybox, command: ['sh', '-c', 'echo "attempt failed at $(date +%s)" > /dev/termination-log; exit 1'] }],
  });
  await manager.updatePod(again);
  const r = await syncUntil(again, (x) => x.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff', 'CrashLoopBackOff');
  assert.match(r.containerStatuses![0].lastState!.terminated!.message!, /^attempt failed at \d+\n$/);
  await remove(again);
});

test('fsGroup: volumes belong to the group, the container has it as a supplementary group; secret and projected volumes are on tmpfs', async () => {
  sources.add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fsg-cm', namespace: 'default' }, data: { key: 'v' } });
  sources.add({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'fsg-secret', namespace: 'default' }, data: { token: Buffer.from('t0k').toString('base64') } });
  const pod = makePod('fsgroup', {
    securityContext: { runAsUser: 1000, fsGroup: 2345 },
    volumes: [
      { name: 'data', emptyDir: {} },
      { name: 'mem', emptyDir: { medium: 'Memory' } },
      { name: 'cm', configMap: { name: 'fsg-cm' } },
      { name: 'secret', secret: { secretName: 'fsg-secret', defaultMode: 0o440 } },
      { name: 'proj', projected: { sources: [{ secret: { name: 'fsg-secret' } }] } },
    ],
    containers: [{
      name: 'main',
      image: busybox,
      command: idle,
      volumeMounts: ['data', 'mem', 'cm', 'secret', 'proj'].map((n) => ({ name: n, mountPath: `/${n}` })),
    }],
  });
  const uid = pod.metadata!.uid!;
  await manager.updatePod(pod);
  const s = await syncUntil(pod, (x) => x.phase === 'Running', 'Running');
  const id = idOf(s, 'main');
  assert.match(await dexec(id, ['id', '-G']), /\b2345\b/);
  assert.equal((await dexec(id, ['stat', '-c', '%g %a', '/data'])).trim(), '2345 2777');
  assert.equal((await dexec(id, ['sh', '-c', 'touch /data/f /mem/f && stat -c %g /data/f /mem/f'])).trim(), '2345\n2345', 'files the non-root user creates inherit the group');
  assert.equal((await dexec(id, ['stat', '-L', '-c', '%g %a', '/secret/token'])).trim(), '2345 440');
  assert.equal(await dexec(id, ['cat', '/secret/token']), 't0k', 'user 1000 reads a 0440 secret through fsGroup');
  assert.equal((await dexec(id, ['stat', '-L', '-c', '%g', '/cm/key'])).trim(), '2345');
  const fsType = async (p: string) => (await dexec(id, ['awk', `$2=="${p}"{print $3}`, '/proc/mounts'])).trim();
  assert.equal(await fsType('/secret'), 'tmpfs', 'the secret volume is on tmpfs');
  assert.equal(await fsType('/proj'), 'tmpfs', 'the projected volume is on tmpfs');
  assert.notEqual(await fsType('/cm'), 'tmpfs', 'configMap volumes stay on disk');
  // On the host: the volume directories point at tmpfs mounts outside the root dir (which stays removable with rm -rf).
  const secretDir = path.join(rootDir, 'pods', uid, 'volumes', 'kubernetes.io~secret', 'secret');
  const tmpfsDir = await realpath(secretDir);
  assert.ok(tmpfsDir.startsWith(`/run/coxswain/kubelet/${uid}/`), tmpfsDir);
  const mounted = async () => (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.split(' ')[4]?.startsWith(`/run/coxswain/kubelet/${uid}/`));
  assert.equal((await mounted()).length, 2);
  await remove(pod);
  assert.deepEqual(await mounted(), [], 'the tmpfs mounts are gone with the pod');
  assert.equal(await stat(path.join(rootDir, 'pods', uid)).catch(() => undefined), undefined);
  assert.equal(await stat(`/run/coxswain/kubelet/${uid}`).catch(() => undefined), undefined);
});
