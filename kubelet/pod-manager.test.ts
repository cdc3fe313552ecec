import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import { PodManager, specChanged } from './pod-manager';
import type { PodStatusSink } from './sync-pod';
import { FakeClock } from '../lib/fake-clock';
import { LABEL_POD_UID, type RuntimeContainer, type SandboxSpec } from './runtime';
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

/** A runtime whose listings of one pod wait until `release()`: a sync of that pod in flight. */
class GatedRuntime extends FakeRuntime {
  private gate?: Promise<void>;
  private open?: () => void;
  /** A listing is waiting at the gate. */
  waiting = false;
  constructor(private readonly gatedUid: string) {
    super();
  }
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  override async listContainers(labels: Record<string, string>): Promise<RuntimeContainer[]> {
    if (labels[LABEL_POD_UID] === this.gatedUid && this.gate) {
      this.waiting = true;
      await this.gate;
      this.waiting = false;
    }
    return super.listContainers(labels);
  }
}

/** Waits (without sleeping a fixed time) until `cond` holds, at most 2 s. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met within 2 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('updates during a pod\'s sync collapse into one more sync; other pods sync meanwhile', async () => {
  const runtime = new GatedRuntime('u5');
  const { sink, manager } = await setup(runtime);
  runtime.hold();
  const first = manager.updatePod(hostPod('u5'));
  await until(() => runtime.waiting);
  const updates = [1, 2, 3].map((n) => manager.updatePod({ ...hostPod('u5'), metadata: { ...hostPod('u5').metadata, labels: { n: String(n) } } }));
  await manager.updatePod(hostPod('u6'));
  assert.equal(sink.last('u6')?.phase, 'Running', 'u6 synced while u5 was held');
  assert.equal(sink.statuses.filter((s) => s.uid === 'u5').length, 0);
  runtime.release();
  await Promise.all([first, ...updates]);
  assert.equal(sink.statuses.filter((s) => s.uid === 'u5').length, 2, 'the held sync and one more for the three updates');
  assert.equal(manager.record('u5')?.pod?.metadata?.labels?.n, '3');
  await manager.stop();
});

test('a pod whose sandbox failed is synced again when the backoff ends, not before', async () => {
  const clock = new FakeClock();
  const runtime = new (class extends FakeRuntime {
    failures = 1;
    override async createSandbox(spec: SandboxSpec): Promise<string> {
      if (this.failures-- > 0) throw new Error('no space left on device');
      return super.createSandbox(spec);
    }
  })();
  const rootDir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-pm-test-'));
  dirs.push(rootDir);
  const sink = new FakeSink();
  const manager = new PodManager({ runtime: runtime.asRuntime(), nodeName: 'n1', nodeIP: '192.0.2.1', sink, log: pino({ level: 'silent' }), rootDir, tmpfsVolumes: false, clock, now: () => clock.now() });
  manager.markSourcesReady();
  await manager.updatePod(hostPod('u7'));
  assert.equal(manager.record('u7')?.sandboxBackoff?.delayMs, 2_000);
  assert.deepEqual(runtime.podContainers('u7'), []);
  clock.advance(1_000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(runtime.podContainers('u7'), [], 'still backing off');
  clock.advance(1_100);
  await until(() => sink.last('u7')?.phase === 'Running');
  assert.equal(runtime.podContainers('u7').length, 2);
  await manager.stop();
});
