import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import { PodRecord } from './pod-record';
import { StaticPodSources } from './pod-sources';
import { ProbeManager } from './prober';
import { PodSyncer, type PodStatusSink } from './sync-pod';
import { FakeRuntime } from './testing/fake-runtime';
import { VolumeManager } from './volumes';
import { CRASH_BACKOFF_INITIAL_MS } from './pod-sync';
import { PAUSE_IMAGE } from './container-spec';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

class FakeSink implements PodStatusSink {
  readonly statuses: PodStatus[] = [];
  readonly deleted: string[] = [];
  setStatus(_pod: Pod, status: PodStatus): void {
    this.statuses.push(status);
  }
  async deletePod(pod: Pod): Promise<void> {
    this.deleted.push(pod.metadata!.uid!);
  }
}

async function setup() {
  const rootDir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-sync-pod-test-'));
  dirs.push(rootDir);
  const runtime = new FakeRuntime();
  const sink = new FakeSink();
  const events: string[] = [];
  const sources = new StaticPodSources();
  const volumes = new VolumeManager({ rootDir, nodeName: 'n1', tmpfs: false, sources, runtime: runtime.asRuntime(), log, now: Date.now });
  const probes = new ProbeManager(async () => ({ ok: true, message: '' }), { onChange: () => undefined, onFailure: () => undefined, onUnhealthy: () => undefined }, log);
  const syncer = new PodSyncer({
    runtime: runtime.asRuntime(),
    nodeName: 'n1',
    nodeIP: '192.0.2.1',
    log,
    sink,
    events: { event: (_o, _type, reason) => events.push(reason) },
    sources,
    volumes,
    probes,
    now: Date.now,
  });
  return { runtime, sink, events, syncer, probes };
}

function record(uid: string): PodRecord {
  const rec = new PodRecord(uid, 0);
  rec.pod = {
    metadata: { name: `pod-${uid}`, namespace: 'default', uid },
    spec: { hostNetwork: true, restartPolicy: 'Always', containers: [{ name: 'main', image: 'busybox:1.36' }] },
    status: { phase: 'Pending' },
  };
  return rec;
}

test('a sync observes the runtime, starts the sandbox then the containers, and reports the status; the next sync only observes', async () => {
  const { runtime, sink, events, syncer, probes } = await setup();
  const rec = record('u1');
  const result = await syncer.syncPod(rec, true);
  assert.deepEqual(runtime.calls, [
    'listContainers', // observe
    `ensureImage ${PAUSE_IMAGE}`,
    'createSandbox',
    'startSandbox',
    'ensureImage busybox:1.36',
    'createContainer main',
    'startContainer main',
    'listContainers', // report: the state after acting
  ]);
  assert.deepEqual(events, ['Pulled', 'Created', 'Started']);
  assert.equal(sink.statuses.at(-1)?.phase, 'Running');
  assert.equal(rec.lastStatus?.phase, 'Running');
  assert.deepEqual(result, { resyncAt: undefined });

  runtime.calls.length = 0;
  await syncer.syncPod(rec, true);
  assert.deepEqual(runtime.calls, ['listContainers'], 'nothing to do');
  probes.stop();
});

test('a crashed container waits out its backoff: the record holds the reason, the sync asks to run again when it ends', async () => {
  const { runtime, sink, events, syncer, probes } = await setup();
  const rec = record('u2');
  await syncer.syncPod(rec, true);
  const main = runtime.podContainers('u2').find((c) => c.containerName === 'main')!;
  runtime.exit(main.id, 1);
  runtime.calls.length = 0;
  const result = await syncer.syncPod(rec, true);
  assert.deepEqual(runtime.calls, ['listContainers'], 'no restart during the backoff');
  assert.equal(rec.waiting.get('main')?.reason, 'CrashLoopBackOff');
  assert.equal(sink.statuses.at(-1)?.containerStatuses?.[0]?.state?.waiting?.reason, 'CrashLoopBackOff');
  const finished = Date.parse(runtime.podContainers('u2').find((c) => c.id === main.id)!.finishedAt!);
  assert.equal(result?.resyncAt, finished + CRASH_BACKOFF_INITIAL_MS);
  assert.equal(events.filter((e) => e === 'BackOff').length, 1);
  await syncer.syncPod(rec, true);
  assert.equal(events.filter((e) => e === 'BackOff').length, 1, 'one BackOff event per backoff period');
  probes.stop();
});

test('a pod with a deletion timestamp is stopped, removed and deleted, and its record is to be forgotten', async () => {
  const { runtime, sink, syncer, probes } = await setup();
  const rec = record('u3');
  await syncer.syncPod(rec, true);
  rec.pod = { ...rec.pod, metadata: { ...rec.pod!.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 0 } };
  const result = await syncer.syncPod(rec, true);
  assert.deepEqual(result, { forget: { keep: undefined } });
  assert.deepEqual(runtime.podContainers('u3'), []);
  assert.deepEqual(sink.deleted, ['u3']);
  probes.stop();
});

test('containers of a pod without a record\'s pod are left alone until the sources are ready, then removed', async () => {
  const { runtime, syncer, probes } = await setup();
  const rec = record('u4');
  await syncer.syncPod(rec, true);
  const orphan = new PodRecord('u4', 0);
  assert.equal(await syncer.syncPod(orphan, false), undefined);
  assert.equal(runtime.podContainers('u4').length, 2);
  assert.deepEqual(await syncer.syncPod(orphan, true), { forget: {} });
  assert.deepEqual(runtime.podContainers('u4'), []);
  probes.stop();
});
