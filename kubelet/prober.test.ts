import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Pod } from 'kubernetes-types/core/v1';
import type { Clock } from '../lib/clock';
import { ProbeManager, initialProbeState, stepProbe, type ProbeKind } from './prober';
import type { RuntimeContainer } from './runtime';

test('stepProbe: success and failure thresholds', () => {
  const probe = { successThreshold: 2, failureThreshold: 3 };
  let s = initialProbeState('readiness');
  assert.equal(s.result, false);
  s = stepProbe(s, true, probe);
  assert.equal(s.result, false, 'one success of two');
  s = stepProbe(s, true, probe);
  assert.equal(s.result, true);
  s = stepProbe(stepProbe(s, false, probe), false, probe);
  assert.equal(s.result, true, 'two failures of three');
  s = stepProbe(s, false, probe);
  assert.equal(s.result, false);
  assert.equal(initialProbeState('liveness').result, true);
  assert.equal(initialProbeState('startup').result, false);
});

/** A hand-driven clock: `advance` fires due timers in order. */
class FakeScheduler implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    this.t = end;
  }
}

test('ProbeManager: initialDelay and period from the scheduler; startup gates liveness; liveness failure calls onFailure once', async () => {
  const sched = new FakeScheduler();
  const calls: { kind: string; at: number }[] = [];
  let startupOk = false;
  let liveOk = true;
  const failures: string[] = [];
  const changes: string[] = [];
  const pm = new ProbeManager(
    async (probe) => {
      const kind = probe === pod.spec!.containers[0].startupProbe ? 'startup' : 'liveness';
      calls.push({ kind, at: sched.now() });
      return { ok: kind === 'startup' ? startupOk : liveOk, message: 'x' };
    },
    { onChange: (uid) => changes.push(uid), onFailure: (_p, name, _id, kind: ProbeKind) => failures.push(`${name}/${kind}`), onUnhealthy: () => undefined },
    pino({ level: 'silent' }),
    sched,
  );
  const pod: Pod = {
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'x',
          startupProbe: { exec: { command: ['s'] }, initialDelaySeconds: 5, periodSeconds: 2, failureThreshold: 10 },
          livenessProbe: { exec: { command: ['l'] }, periodSeconds: 3, failureThreshold: 2 },
        },
      ],
    },
  };
  const inst = { id: 'cid', containerName: 'c', state: 'running', startedAt: new Date(0).toISOString() } as RuntimeContainer;
  pm.sync(pod, [inst], '10.0.0.1');
  await sched.advance(4_999);
  assert.equal(calls.length, 0, 'nothing before initialDelaySeconds');
  await sched.advance(1);
  assert.deepEqual(calls, [{ kind: 'startup', at: 5_000 }]);
  assert.deepEqual(pm.view('u1').get('c'), { started: false });
  await sched.advance(4_000);
  assert.equal(calls.filter((c) => c.kind === 'liveness').length, 0, 'liveness waits for startup');
  startupOk = true;
  await sched.advance(2_000);
  assert.deepEqual(pm.view('u1').get('c'), { started: true });
  assert.ok(changes.includes('u1'));
  const startupCalls = calls.filter((c) => c.kind === 'startup').length;
  await sched.advance(3_000);
  assert.ok(calls.some((c) => c.kind === 'liveness'), 'liveness runs after startup');
  liveOk = false;
  await sched.advance(10_000);
  assert.deepEqual(failures, ['c/liveness'], 'onFailure once after failureThreshold');
  assert.equal(calls.filter((c) => c.kind === 'startup').length, startupCalls, 'startup stops after success');
  const afterFail = calls.length;
  await sched.advance(30_000);
  assert.equal(calls.length, afterFail, 'the failed instance is no longer probed');
  pm.stop();
});

test('ProbeManager: a restarted kubelet starts from the readiness the pod status reports for the same container', () => {
  const sched = new FakeScheduler();
  const pm = new ProbeManager(async () => ({ ok: true, message: '' }), { onChange: () => undefined, onFailure: () => undefined, onUnhealthy: () => undefined }, pino({ level: 'silent' }), sched);
  const spec = { containers: [{ name: 'c', image: 'x', readinessProbe: { exec: { command: ['t'] } } }] };
  const inst = { id: 'cid', containerName: 'c', state: 'running', startedAt: new Date(0).toISOString() } as RuntimeContainer;
  pm.sync({ metadata: { uid: 'u1' }, spec, status: { containerStatuses: [{ name: 'c', containerID: 'docker://cid', ready: true } as never] } }, [inst], undefined);
  assert.deepEqual(pm.view('u1').get('c'), { ready: true });
  pm.sync({ metadata: { uid: 'u2' }, spec, status: { containerStatuses: [{ name: 'c', containerID: 'docker://other', ready: true } as never] } }, [{ ...inst, id: 'cid2' }], undefined);
  assert.deepEqual(pm.view('u2').get('c'), { ready: false }, 'another instance starts unready');
  pm.stop();
});
