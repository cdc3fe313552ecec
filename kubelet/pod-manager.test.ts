import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import { PodManager, specChanged } from './pod-manager';
import type { PodStatusSink } from './sync-pod';
import { FakeRuntime } from './testing/fake-runtime';

const pod: Pod = {
  metadata: { name: 'p', namespace: 'default', uid: 'u1', resourceVersion: '5', labels: { app: 'a' } },
  spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] },
  status: { phase: 'Pending' },
};

test('a status-only update (the kubelet\'s own write coming back) needs no sync; spec and metadata changes do', () => {
  assert.equal(specChanged(pod, { ...pod, metadata: { ...pod.metadata, resourceVersion: '6' }, status: { phase: 'Running', podIP: '10.0.0.2' } }), false);
  assert.equal(specChanged(pod, { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 30 } }), true);
  assert.equal(specChanged(pod, { ...pod, metadata: { ...pod.metadata, labels: { app: 'b' } } }), true, 'labels feed downward API volumes');
  assert.equal(specChanged(pod, { ...pod, metadata: { ...pod.metadata, annotations: { x: 'y' } } }), true);
  assert.equal(specChanged(pod, { ...pod, spec: { ...pod.spec!, activeDeadlineSeconds: 5 } }), true);
});

class FakeSink implements PodStatusSink {
  readonly statuses: { uid: string; status: PodStatus }[] = [];
  readonly deleted: string[] = [];
  setStatus(p: Pod, status: PodStatus): void {
    this.statuses.push({ uid: p.metadata!.uid!, status });
  }
  async deletePod(p: Pod): Promise<void> {
    this.deleted.push(p.metadata!.uid!);
  }
  last(uid: string): PodStatus | undefined {
    return this.statuses.filter((s) => s.uid === uid).at(-1)?.status;
  }
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A pod manager on a fake runtime; host-network pods need no pod network. */
async function setup(runtime = new FakeRuntime()) {
  const rootDir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-pm-test-'));
  dirs.push(rootDir);
  const sink = new FakeSink();
  const manager = new PodManager({ runtime: runtime.asRuntime(), nodeName: 'n1', nodeIP: '192.0.2.1', sink, log: pino({ level: 'silent' }), rootDir, tmpfsVolumes: false });
  manager.markSourcesReady();
  return { runtime, sink, manager };
}

function hostPod(uid: string, extra: Partial<Pod['metadata']> = {}): Pod {
  return {
    metadata: { name: `pod-${uid}`, namespace: 'default', uid, ...extra },
    spec: { hostNetwork: true, containers: [{ name: 'main', image: 'busybox:1.36' }] },
    status: { phase: 'Pending' },
  };
}

test('a pod\'s record is made when the pod is first seen and dropped once it is gone from the API and the runtime', async () => {
  const { runtime, sink, manager } = await setup();
  assert.equal(manager.record('u1'), undefined);
  await manager.updatePod(hostPod('u1'));
  const rec = manager.record('u1');
  assert.ok(rec, 'the pod has a record');
  assert.equal(rec.pod?.metadata?.name, 'pod-u1');
  assert.equal(rec.lastStatus?.phase, 'Running');
  assert.equal(sink.last('u1')?.phase, 'Running');
  assert.deepEqual(
    runtime.podContainers('u1').map((c) => [c.containerName, c.state]).sort(),
    [
      ['POD', 'running'],
      ['main', 'running'],
    ],
  );

  await manager.removePod(hostPod('u1'));
  assert.equal(manager.record('u1'), undefined, 'forgotten with its containers');
  assert.deepEqual(runtime.podContainers('u1'), []);
  assert.equal(manager.isLive('u1'), false);
  await manager.stop();
});

test('a pod deleted gracefully is stopped, deleted from the API, and forgotten', async () => {
  const { runtime, sink, manager } = await setup();
  await manager.updatePod(hostPod('u2'));
  await manager.updatePod(hostPod('u2', { deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 0 }));
  assert.deepEqual(sink.deleted, ['u2']);
  assert.deepEqual(runtime.podContainers('u2'), []);
  assert.equal(manager.record('u2'), undefined);
  await manager.stop();
});

test('containers of a pod unknown to the API are removed and leave no record behind', async () => {
  const { runtime, manager } = await setup();
  await manager.updatePod(hostPod('u3'));
  await manager.stop();
  assert.equal(runtime.podContainers('u3').length, 2);
  // A restarted kubelet whose API no longer has the pod.
  const { manager: restarted } = await setup(runtime);
  await restarted.syncAll();
  assert.deepEqual(runtime.podContainers('u3'), []);
  assert.equal(restarted.record('u3'), undefined);
  await restarted.stop();
});
