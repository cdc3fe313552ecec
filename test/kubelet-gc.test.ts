/**
 * Garbage collection on real Docker, driving the pod manager and the GC passes
 * directly (no apiserver): a crash-looping container leaves at most the allowed
 * number of dead instances; dead containers of pods that are gone are removed;
 * an unused image is removed when the thresholds say so while an image in use,
 * the pause image and images the kubelet never ran stay. Everything it creates
 * carries a unique node label, network, image name or temp dir and is removed in `after`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, realpath, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import pino from 'pino';
import { DockerRuntime } from '../kubelet/docker-runtime';
import { ContainerGC, ImageGC, type ImageGCPolicy } from '../kubelet/gc';
import { PodManager } from '../kubelet/pod-manager';
import type { BridgePodNetwork } from '../kubelet/pod-network';
import { StaticPodSources } from '../kubelet/pod-sources';
import { LABEL_CONTAINER_NAME, LABEL_NODE, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from '../kubelet/runtime';
import { FakeSink, attachPodNetwork, podHelpers, removePodTmpfs } from './lib/kubelet-harness';

const run = promisify(execFile);
const docker = new Docker();
const log = pino({ level: process.env.COXSWAIN_LOG_LEVEL ?? 'warn' });
const suffix = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const NODE = `klgc-${suffix}`;
const NETWORK = `coxswain-test-${suffix}`;
const IMAGE_REPO = `coxswain-gc-test-${suffix}`;
const idle = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'];

const runtime = new DockerRuntime(docker, log);
const sink = new FakeSink();
let rootDir = '';
let manager: PodManager;
let net: BridgePodNetwork | undefined;
let tmpfsNet: BridgePodNetwork | undefined;
/** Added to the pod manager's clock: jumping it for one sync ends a crash-loop backoff without waiting for it. */
let clockOffset = 0;
/** The image test runs its own node: only throwaway images are ever run there, so only they can be GC candidates. */
const IMG_NODE = `${NODE}-img`;
const imgSink = new FakeSink();
let imgManager: PodManager;
let imageGC: ImageGC;
const imagePolicy: ImageGCPolicy = { highThresholdPercent: 100, lowThresholdPercent: 80, minAgeMs: 0 };

before(async () => {
  rootDir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-kubelet-gc-'));
  manager = new PodManager({ runtime, nodeName: NODE, nodeIP: '192.0.2.12', sink, log, rootDir, now: () => Date.now() + clockOffset, maxPerPodContainer: 1 });
  sink.manager = manager;
  imageGC = new ImageGC({ runtime, nodeName: IMG_NODE, policy: imagePolicy, stateFile: path.join(rootDir, 'image-gc.json'), log });
  imgManager = new PodManager({ runtime, nodeName: IMG_NODE, nodeIP: '192.0.2.12', sink: imgSink, log, rootDir, onImageUsed: (id) => imageGC.recordUse(id) });
  imgSink.manager = imgManager;
  imgManager.markSourcesReady();
  net = await attachPodNetwork({ docker, runtime, manager, network: NETWORK, log });
});

after(async () => {
  await manager.stop();
  await imgManager.stop();
  for (const node of [NODE, IMG_NODE]) {
    const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL_NODE}=${node}`] } });
    await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  }
  await net?.remove();
  await tmpfsNet?.remove();
  for (const img of await docker.listImages({ filters: { reference: [IMAGE_REPO] } })) await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
  await rm(rootDir, { recursive: true, force: true });
});

const { makePod, syncUntil, podContainers } = podHelpers({ node: NODE, docker, sink, manager: () => manager });
const img = podHelpers({ node: IMG_NODE, docker, sink: imgSink, manager: () => imgManager });

test('a crash-looping container leaves at most one dead instance (--maximum-dead-containers-per-container=1)', async () => {
  const pod = makePod('crash', { containers: [{ name: 'crash', image: 'busybox:1.36', command: ['sh', '-c', 'exit 3'] }] });
  const uid = pod.metadata!.uid!;
  await manager.updatePod(pod);
  let restarts = 0;
  while (restarts < 3) {
    const s = await syncUntil(pod, (st) => st.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' && st.containerStatuses[0].restartCount >= restarts, 'CrashLoopBackOff', 60_000);
    restarts = s.containerStatuses![0].restartCount + 1;
    // What `docker ps -a` shows after every sync: never more than one exited instance of the container.
    const dead = (await podContainers(uid)).filter((c) => c.Labels[LABEL_CONTAINER_NAME] === 'crash' && c.State === 'exited');
    assert.ok(dead.length <= 1, `dead instances: ${dead.map((c) => c.Names[0]).join(', ')}`);
    clockOffset = 400_000; // past the longest backoff (5 min): this sync restarts it
    await manager.sync(uid);
    clockOffset = 0;
  }
  const s = await syncUntil(pod, (st) => (st.containerStatuses?.[0]?.restartCount ?? 0) >= 3 && !!st.containerStatuses?.[0]?.lastState?.terminated, 'restartCount 3', 60_000);
  assert.equal(s.containerStatuses![0].lastState!.terminated!.exitCode, 3);
  const all = (await podContainers(uid)).filter((c) => c.Labels[LABEL_CONTAINER_NAME] === 'crash');
  assert.ok(all.length <= 2, `instances left: ${all.map((c) => `${c.Names[0]} ${c.State}`).join(', ')}`);
  assert.ok(all.some((c) => c.Names[0].endsWith(`_${s.containerStatuses![0].restartCount}`)), 'the newest instance is kept');
  await manager.removePod(pod);
});

test('container GC removes dead containers of pods that no longer exist, never running ones', async () => {
  const ghost = randomUUID();
  const labels = { [LABEL_NODE]: NODE, [LABEL_POD_UID]: ghost, [LABEL_POD_NAME]: 'ghost', [LABEL_POD_NAMESPACE]: 'default', [LABEL_CONTAINER_NAME]: 'main' };
  const dead = await docker.createContainer({ Image: 'busybox:1.36', Cmd: ['true'], Labels: labels, HostConfig: { NetworkMode: 'none' } });
  await dead.start();
  await dead.wait();
  const alive = await docker.createContainer({ Image: 'busybox:1.36', Cmd: idle, Labels: { ...labels, [LABEL_CONTAINER_NAME]: 'other' }, HostConfig: { NetworkMode: 'none' } });
  await alive.start();
  const gc = new ContainerGC({ runtime, nodeName: NODE, policy: { minAgeMs: 0, maxPerPodContainer: 1, maxContainers: -1 }, isLivePod: (uid) => manager.isLive(uid), log });
  const removed = await gc.collect();
  assert.ok(removed.includes(dead.id) && !removed.includes(alive.id), `removed ${removed.join(', ')}`);
  const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL_POD_UID}=${ghost}`] } });
  assert.deepEqual(left.map((c) => c.Id), [alive.id]);
  await alive.remove({ force: true });
});

async function buildImage(tag: string): Promise<string> {
  const { stdout } = await run('sh', ['-c', `printf 'FROM busybox:1.36\\nLABEL coxswain.test=${tag}\\n' | docker build -q -t ${IMAGE_REPO}:${tag} -`], { timeout: 60_000 });
  return stdout.trim();
}

async function imageIds(): Promise<Set<string>> {
  return new Set((await docker.listImages()).map((i) => i.Id));
}

test('image GC: an unused image goes once usage is above the high threshold; images in use, the pause image and images no pod ran stay', async () => {
  const unusedId = await buildImage('unused');
  const usedId = await buildImage('used');
  const busyboxId = (await docker.getImage('busybox:1.36').inspect()).Id;
  const pauseId = (await docker.getImage('registry.k8s.io/pause:3.10').inspect()).Id;
  const a = img.makePod('img-a', { hostNetwork: true, containers: [{ name: 'main', image: `${IMAGE_REPO}:unused`, imagePullPolicy: 'Never', command: idle }] });
  const b = img.makePod('img-b', { hostNetwork: true, containers: [{ name: 'main', image: `${IMAGE_REPO}:used`, imagePullPolicy: 'Never', command: idle }] });
  await imgManager.updatePod(a);
  await imgManager.updatePod(b);
  await img.syncUntil(a, (s) => s.phase === 'Running', 'pod a Running');
  await img.syncUntil(b, (s) => s.phase === 'Running', 'pod b Running');
  await imgManager.removePod(a); // its containers are gone: its image is unused now
  // Safety on a shared engine: only this test's throwaway images may ever be candidates.
  assert.deepEqual(new Set(imageGC.known()), new Set([unusedId, usedId]));

  // Usage can never reach 100%: nothing is removed.
  const calm = await imageGC.collect();
  assert.deepEqual(calm.removed, []);
  assert.ok((await imageIds()).has(unusedId));

  // Forced: every byte of usage is above the thresholds.
  imagePolicy.highThresholdPercent = 1;
  imagePolicy.lowThresholdPercent = 0;
  const forced = await imageGC.collect();
  assert.deepEqual(forced.removed, [unusedId]);
  const ids = await imageIds();
  assert.ok(!ids.has(unusedId), 'the unused image is gone from `docker images`');
  for (const [what, id] of [['the image in use', usedId], ['busybox (never run by this node)', busyboxId], ['the pause image', pauseId]]) assert.ok(ids.has(id), `${what} is kept`);
  const { stdout } = await run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', IMAGE_REPO]);
  assert.deepEqual(stdout.trim().split('\n'), [`${IMAGE_REPO}:used`]);

  // What the kubelet knows its pods used survives a restart (state file in the root dir).
  const state = JSON.parse(await readFile(path.join(rootDir, 'image-gc.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(state), [usedId]);
  await imgManager.removePod(b);
});

test('orphaned tmpfs volumes: a restarted kubelet unmounts those of pods gone from the API and from Docker, never those of pods with containers', async () => {
  const tmpfsRoot = await mkdtemp(path.join(os.tmpdir(), 'coxswain-kubelet-tmpfs-'));
  const node = `${NODE}-tmpfs`;
  const sources = new StaticPodSources().add({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'orphan-secret', namespace: 'default' }, data: { key: Buffer.from('s3cret').toString('base64') } });
  const tsink = new FakeSink();
  const first = new PodManager({ runtime, nodeName: node, nodeIP: '192.0.2.12', sink: tsink, log, rootDir: path.join(rootDir, 'first'), tmpfsRoot, sources });
  tsink.manager = first;
  tmpfsNet = await attachPodNetwork({ docker, runtime, manager: first, network: `${NETWORK}-t`, log });
  const h = podHelpers({ node, docker, sink: tsink, manager: () => first });
  const mk = (name: string) => h.makePod(name, { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox:1.36', command: idle, volumeMounts: [{ name: 's', mountPath: '/s' }] }], volumes: [{ name: 's', secret: { secretName: 'orphan-secret' } }] });
  const gone = mk('gone');
  const kept = mk('kept');
  const mounted = async (uid: string) => (await readFile('/proc/self/mountinfo', 'utf8')).includes(` ${path.join(await realpath(tmpfsRoot), uid)}/`);
  const exists = (p: string) => stat(p).then(() => true, () => false);
  try {
    for (const p of [gone, kept]) {
      await first.updatePod(p);
      await h.syncUntil(p, (s) => s.phase === 'Running', `${p.metadata!.name} Running`, 60_000);
      assert.ok(await mounted(p.metadata!.uid!), 'the secret volume is on tmpfs');
    }
    // The kubelet dies; meanwhile one pod is deleted and its containers removed (its pod directory on disk is lost too).
    await first.stop();
    for (const c of await h.podContainers(gone.metadata!.uid!)) await docker.getContainer(c.Id).remove({ force: true });
    const second = new PodManager({ runtime, nodeName: node, nodeIP: '192.0.2.12', sink: new FakeSink(), log, rootDir: path.join(rootDir, 'second'), tmpfsRoot, sources });
    assert.deepEqual(await second.cleanupOrphanedVolumes(), [], 'nothing is touched before the pod sources are ready');
    second.markSourcesReady();
    assert.deepEqual(await second.cleanupOrphanedVolumes(), [gone.metadata!.uid!]);
    assert.equal(await mounted(gone.metadata!.uid!), false, 'the orphan is unmounted');
    assert.equal(await exists(path.join(tmpfsRoot, gone.metadata!.uid!)), false, 'and its directory removed');
    assert.ok(await mounted(kept.metadata!.uid!), 'a pod with containers keeps its volume');
    assert.equal(await readFile(path.join(tmpfsRoot, kept.metadata!.uid!, 'kubernetes.io~secret', 's', 'key'), 'utf8'), 's3cret');
    // Once its containers are gone too, the next pass takes it.
    for (const c of await h.podContainers(kept.metadata!.uid!)) await docker.getContainer(c.Id).remove({ force: true });
    assert.deepEqual(await second.cleanupOrphanedVolumes(), [kept.metadata!.uid!]);
    assert.equal(await mounted(kept.metadata!.uid!), false);
    await second.stop();
  } finally {
    for (const p of [gone, kept]) for (const c of await h.podContainers(p.metadata!.uid!)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    await removePodTmpfs([gone.metadata!.uid!, kept.metadata!.uid!], tmpfsRoot);
    await rm(tmpfsRoot, { recursive: true, force: true });
  }
});
