import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { containerHash } from './container-spec';
import type { WaitingReason } from './pod-observe';
import { computePodStatus, statusEqual } from './pod-status';
import { computePodActions, crashBackoffMs, restartBackoff } from './pod-sync';
import type { RuntimeContainer } from './runtime';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function pod(over: Partial<NonNullable<Pod['spec']>> = {}, status?: Pod['status']): Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    spec: {
      nodeName: 'n1',
      containers: [
        { name: 'a', image: 'busybox:1.36' },
        { name: 'b', image: 'busybox:1.36' },
      ],
      ...over,
    },
    status,
  };
}

let seq = 0;
function ctr(name: string, state: RuntimeContainer['state'], over: Partial<RuntimeContainer> = {}): RuntimeContainer {
  seq++;
  return {
    id: `id-${name}-${seq}`,
    name: `k8s_${name}_web_default_u1_${over.restartCount ?? 0}`,
    podUid: 'u1',
    podName: 'web',
    podNamespace: 'default',
    containerName: name,
    restartCount: 0,
    hash: '',
    image: 'busybox:1.36',
    imageId: 'sha256:abc',
    state,
    createdAt: iso(T0),
    startedAt: state === 'created' ? undefined : iso(T0 + 1000),
    ...(state === 'exited' ? { finishedAt: iso(T0 + 2000), exitCode: 0 } : {}),
    ...over,
  };
}

const sandbox = (state: RuntimeContainer['state'] = 'running', over: Partial<RuntimeContainer> = {}) =>
  ctr('POD', state, { ip: state === 'running' ? '10.244.1.5' : undefined, ...over });

test('a new pod gets a sandbox and all its containers', () => {
  const a = computePodActions(pod(), [], T0);
  assert.equal(a.createSandbox, true);
  assert.equal(a.sandboxAttempt, 0);
  assert.equal(a.killPod, false);
  assert.deepEqual(a.containersToStart, [
    { name: 'a', restartCount: 0 },
    { name: 'b', restartCount: 0 },
  ]);
});

test('a healthy pod needs nothing', () => {
  const p = pod();
  const hashA = containerHash(p.spec!.containers[0]);
  const a = computePodActions(p, [sandbox(), ctr('a', 'running', { hash: hashA }), ctr('b', 'running')], T0);
  assert.equal(a.createSandbox, false);
  assert.equal(a.killPod, false);
  assert.deepEqual(a.containersToStart, []);
  assert.deepEqual(a.containersToKill, []);
  assert.deepEqual(a.containersToRemove, []);
  assert.ok(a.sandboxId);
});

test('a missing container in a running sandbox is started', () => {
  const a = computePodActions(pod(), [sandbox(), ctr('a', 'running')], T0);
  assert.deepEqual(a.containersToStart, [{ name: 'b', restartCount: 0 }]);
});

test('a dead sandbox kills the pod and creates the next attempt, restarting containers', () => {
  const a = computePodActions(pod(), [sandbox('exited', { restartCount: 2 }), ctr('a', 'running', { restartCount: 1 }), ctr('b', 'running')], T0);
  assert.equal(a.killPod, true);
  assert.equal(a.createSandbox, true);
  assert.equal(a.sandboxAttempt, 3);
  assert.deepEqual(a.containersToStart, [
    { name: 'a', restartCount: 2 },
    { name: 'b', restartCount: 1 },
  ]);
});

test('restartPolicy Never: a lost sandbox is not replaced once containers ran', () => {
  const a = computePodActions(pod({ restartPolicy: 'Never' }), [sandbox('exited'), ctr('a', 'running'), ctr('b', 'running')], T0);
  assert.equal(a.killPod, true);
  assert.equal(a.createSandbox, false);
});

test('a kubelet stopped while the sandbox was starting: never-started containers do not count as run', () => {
  // The app containers are created while the sandbox starts; a kubelet killed then leaves both "created".
  const created = [ctr('a', 'created'), ctr('b', 'created')];
  for (const restartPolicy of ['Never', 'Always'] as const) {
    const a = computePodActions(pod({ restartPolicy }), [sandbox('created'), ...created], T0);
    assert.equal(a.createSandbox, true, restartPolicy);
    assert.deepEqual(a.containersToStart, [{ name: 'a', restartCount: 0 }, { name: 'b', restartCount: 0 }], restartPolicy);
    assert.deepEqual(a.containersToRemove.sort(), created.map((c) => c.id).sort(), 'bound to the dead sandbox');
  }
});

test('restartPolicy Always: an exited container waits out the backoff, then restarts', () => {
  const dead = ctr('a', 'exited', { exitCode: 1, restartCount: 0, finishedAt: iso(T0) });
  const obs = [sandbox(), dead, ctr('b', 'running')];
  const during = computePodActions(pod(), obs, T0 + 5_000);
  assert.deepEqual(during.containersToStart, []);
  assert.equal(during.backoff.length, 1);
  assert.equal(during.backoff[0].name, 'a');
  assert.equal(during.resyncAt, T0 + 10_000);
  const after = computePodActions(pod(), obs, T0 + 10_000);
  assert.deepEqual(after.containersToStart, [{ name: 'a', restartCount: 1, backoffCount: 1 }]);
});

test('crash backoff doubles from 10 s and caps at 5 min', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 50].map(crashBackoffMs), [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
});

test('restartPolicy OnFailure restarts failures only; Never restarts nothing', () => {
  const ok = ctr('a', 'exited', { exitCode: 0 });
  const bad = ctr('b', 'exited', { exitCode: 2 });
  const later = T0 + 3_600_000;
  const onFailure = computePodActions(pod({ restartPolicy: 'OnFailure' }), [sandbox(), ok, bad], later);
  assert.deepEqual(onFailure.containersToStart, [{ name: 'b', restartCount: 1, backoffCount: 1 }]);
  const never = computePodActions(pod({ restartPolicy: 'Never' }), [sandbox(), ok, ctr('b', 'running')], later);
  assert.deepEqual(never.containersToStart, []);
});

test('a terminal pod stops its sandbox and starts nothing', () => {
  const a = computePodActions(pod({ restartPolicy: 'Never' }), [sandbox(), ctr('a', 'exited', { exitCode: 1 }), ctr('b', 'exited')], T0);
  assert.equal(a.stopSandbox, true);
  assert.deepEqual(a.containersToStart, []);
  assert.equal(a.createSandbox, false);
  // Once stopped, nothing more happens.
  const b = computePodActions(pod({ restartPolicy: 'Never' }), [sandbox('exited'), ctr('a', 'exited', { exitCode: 1 }), ctr('b', 'exited')], T0);
  assert.equal(b.stopSandbox, false);
  assert.equal(b.createSandbox, false);
  assert.equal(b.killPod, false);
});

test('a changed container spec replaces the running container', () => {
  const a = computePodActions(pod(), [sandbox(), ctr('a', 'running', { hash: 'stale' }), ctr('b', 'running')], T0);
  assert.equal(a.containersToKill.length, 1);
  assert.equal(a.containersToKill[0].name, 'a');
  assert.deepEqual(a.containersToStart, [{ name: 'a', restartCount: 1, backoffCount: 0 }]);
});

test('garbage: containers not in the spec, old instances and old sandboxes go', () => {
  const oldSandbox = sandbox('exited', { restartCount: 0 });
  const newSandbox = sandbox('running', { restartCount: 1 });
  const a0 = ctr('a', 'exited', { restartCount: 0 });
  const a1 = ctr('a', 'exited', { restartCount: 1 });
  const a2 = ctr('a', 'running', { restartCount: 2 });
  const stray = ctr('zzz', 'running');
  const strayDead = ctr('yyy', 'exited');
  const a = computePodActions(pod(), [oldSandbox, newSandbox, a0, a1, a2, ctr('b', 'running'), stray, strayDead], T0);
  assert.deepEqual(new Set(a.containersToRemove), new Set([oldSandbox.id, a0.id, strayDead.id]));
  assert.deepEqual(a.containersToKill.map((k) => k.id), [stray.id]);
  assert.equal(a.sandboxId, newSandbox.id);
});

test('a created-but-never-started container is replaced with the same restart count', () => {
  const stuck = ctr('a', 'created', { restartCount: 3 });
  const a = computePodActions(pod(), [sandbox(), stuck, ctr('b', 'running')], T0);
  assert.deepEqual(a.containersToRemove, [stuck.id]);
  assert.deepEqual(a.containersToStart, [{ name: 'a', restartCount: 3 }]);
});

test('status: running pod with IP, conditions and container states', () => {
  const s = computePodStatus(pod(), [sandbox(), ctr('a', 'running'), ctr('b', 'running', { restartCount: 2 })], { hostIP: '192.168.1.10', now: T0 + 5000 });
  assert.equal(s.phase, 'Running');
  assert.equal(s.podIP, '10.244.1.5');
  assert.deepEqual(s.podIPs, [{ ip: '10.244.1.5' }]);
  assert.equal(s.hostIP, '192.168.1.10');
  assert.equal(s.startTime, '2025-01-01T00:00:05Z');
  const byType = Object.fromEntries(s.conditions!.map((c) => [c.type, c.status]));
  assert.deepEqual(byType, { PodScheduled: 'True', Initialized: 'True', ContainersReady: 'True', Ready: 'True' });
  const [a, b] = s.containerStatuses!;
  assert.equal(a.ready, true);
  assert.equal(a.started, true);
  assert.equal(a.state?.running?.startedAt, '2025-01-01T00:00:01Z');
  assert.match(a.containerID!, /^docker:\/\/id-a-/);
  assert.equal(a.imageID, 'docker://sha256:abc');
  assert.equal(b.restartCount, 2);
});

test('status: pending with waiting reasons, no IP before a sandbox', () => {
  const waiting = new Map<string, WaitingReason>([['a', { reason: 'ErrImagePull', message: 'no such image' }]]);
  const s = computePodStatus(pod(), [], { hostIP: '192.168.1.10', now: T0, waiting });
  assert.equal(s.phase, 'Pending');
  assert.equal(s.podIP, undefined);
  assert.deepEqual(s.containerStatuses![0].state, { waiting: { reason: 'ErrImagePull', message: 'no such image' } });
  assert.deepEqual(s.containerStatuses![1].state, { waiting: { reason: 'ContainerCreating' } });
  const ready = s.conditions!.find((c) => c.type === 'Ready')!;
  assert.equal(ready.status, 'False');
  assert.equal(ready.reason, 'ContainersNotReady');
  assert.equal(ready.message, 'containers with unready status: [a b]');
});

test('status: phases per restart policy', () => {
  const failed = [sandbox('exited'), ctr('a', 'exited', { exitCode: 1 }), ctr('b', 'exited', { exitCode: 0 })];
  const ok = [sandbox('exited'), ctr('a', 'exited'), ctr('b', 'exited')];
  const st = (p: Pod, obs: RuntimeContainer[]) => computePodStatus(p, obs, { hostIP: 'h', now: T0 }).phase;
  assert.equal(st(pod({ restartPolicy: 'Never' }), failed), 'Failed');
  assert.equal(st(pod({ restartPolicy: 'Never' }), ok), 'Succeeded');
  assert.equal(st(pod({ restartPolicy: 'OnFailure' }), ok), 'Succeeded');
  assert.equal(st(pod({ restartPolicy: 'OnFailure' }), failed), 'Running');
  assert.equal(st(pod({ restartPolicy: 'Always' }), ok), 'Running');
  const running = [sandbox(), ctr('a', 'exited', { exitCode: 1 }), ctr('b', 'running')];
  assert.equal(st(pod({ restartPolicy: 'Never' }), running), 'Running');
});

test('status: exit details, lastState, CrashLoopBackOff', () => {
  const prev = ctr('a', 'exited', { exitCode: 137, restartCount: 0, oomKilled: true });
  const cur = ctr('a', 'exited', { exitCode: 1, restartCount: 1 });
  const waiting = new Map<string, WaitingReason>([['a', { reason: 'CrashLoopBackOff', message: 'back-off 20s' }]]);
  const s = computePodStatus(pod(), [sandbox(), prev, cur, ctr('b', 'running')], { hostIP: 'h', now: T0, waiting });
  const a = s.containerStatuses![0];
  assert.equal(a.state?.waiting?.reason, 'CrashLoopBackOff');
  assert.equal(a.lastState?.terminated?.exitCode, 1);
  assert.equal(a.lastState?.terminated?.reason, 'Error');
  assert.equal(a.restartCount, 1);
  assert.equal(s.phase, 'Running'); // waiting with a last termination counts as stopped, b runs
  const noWait = computePodStatus(pod(), [sandbox(), prev, cur, ctr('b', 'running')], { hostIP: 'h', now: T0 });
  assert.equal(noWait.containerStatuses![0].state?.terminated?.exitCode, 1);
  assert.equal(noWait.containerStatuses![0].lastState?.terminated?.reason, 'OOMKilled');
});

test('status: terminal phase is sticky, transition times and startTime are kept', () => {
  const obs = [sandbox(), ctr('a', 'running'), ctr('b', 'running')];
  const first = computePodStatus(pod(), obs, { hostIP: 'h', now: T0 });
  const again = computePodStatus(pod({}, first), obs, { hostIP: 'h', now: T0 + 60_000 });
  assert.equal(again.startTime, first.startTime);
  assert.deepEqual(again.conditions, first.conditions);
  assert.ok(statusEqual(first, again));
  const done = computePodStatus(pod({}, { phase: 'Failed' }), [], { hostIP: 'h', now: T0 });
  assert.equal(done.phase, 'Failed');
});

test('status: the pod IP survives a stopped sandbox; hostNetwork uses the node IP', () => {
  const old = { phase: 'Failed', podIP: '10.244.1.5' };
  const s = computePodStatus(pod({ restartPolicy: 'Never' }, old), [sandbox('exited'), ctr('a', 'exited', { exitCode: 1 }), ctr('b', 'exited')], { hostIP: 'h', now: T0 });
  assert.equal(s.podIP, '10.244.1.5');
  const hn = computePodStatus(pod({ hostNetwork: true }), [sandbox('running', { ip: undefined })], { hostIP: '192.168.1.10', now: T0 });
  assert.equal(hn.podIP, '192.168.1.10');
});

test('statusEqual ignores key order and empty objects', () => {
  assert.ok(statusEqual({ phase: 'Running', hostIP: 'h' }, { hostIP: 'h', phase: 'Running' }));
  assert.ok(!statusEqual({ phase: 'Running' }, { phase: 'Pending' }));
  assert.ok(statusEqual({ containerStatuses: [{ name: 'a', image: 'i', imageID: '', ready: false, restartCount: 0, lastState: {} }] }, { containerStatuses: [{ name: 'a', image: 'i', imageID: '', ready: false, restartCount: 0 }] }));
});

const initPod = (policy?: 'Always' | 'OnFailure' | 'Never') =>
  pod({ restartPolicy: policy, initContainers: [{ name: 'i1', image: 'busybox:1.36' }, { name: 'i2', image: 'busybox:1.36' }] });

test('init containers run one at a time, in order, before the app containers', () => {
  // New pod: the sandbox and only the first init container.
  const fresh = computePodActions(initPod(), [], T0);
  assert.deepEqual(fresh.containersToStart, [{ name: 'i1', restartCount: 0 }]);
  // i1 running: nothing else starts.
  assert.deepEqual(computePodActions(initPod(), [sandbox(), ctr('i1', 'running')], T0).containersToStart, []);
  // i1 done: i2.
  assert.deepEqual(computePodActions(initPod(), [sandbox(), ctr('i1', 'exited')], T0).containersToStart, [{ name: 'i2', restartCount: 0 }]);
  // Both done: the app containers.
  const obs = [sandbox(), ctr('i1', 'exited'), ctr('i2', 'exited')];
  assert.deepEqual(computePodActions(initPod(), obs, T0).containersToStart.map((c) => c.name), ['a', 'b']);
  const st = computePodStatus(initPod(), [sandbox(), ctr('i1', 'exited'), ctr('i2', 'running')], { hostIP: '1.2.3.4', now: T0 });
  assert.equal(st.phase, 'Pending');
  assert.deepEqual(st.initContainerStatuses!.map((s) => [s.name, s.ready, Object.keys(s.state!)[0]]), [['i1', true, 'terminated'], ['i2', false, 'running']]);
  assert.equal(st.containerStatuses![0].state?.waiting?.reason, 'PodInitializing');
  const initialized = st.conditions!.find((c) => c.type === 'Initialized')!;
  assert.equal(initialized.status, 'False');
  assert.equal(initialized.message, 'containers with incomplete status: [i2]');
  const done = computePodStatus(initPod(), [...obs, ctr('a', 'running'), ctr('b', 'running')], { hostIP: '1.2.3.4', now: T0 });
  assert.equal(done.conditions!.find((c) => c.type === 'Initialized')!.status, 'True');
  assert.equal(done.phase, 'Running');
});

test('a failing init container follows restartPolicy: backoff then restart, or the pod fails under Never', () => {
  const failed = ctr('i1', 'exited', { exitCode: 2 });
  const always = computePodActions(initPod(), [sandbox(), failed], T0 + 3000);
  assert.deepEqual(always.containersToStart, []);
  assert.equal(always.backoff[0].name, 'i1');
  assert.deepEqual(computePodActions(initPod('OnFailure'), [sandbox(), failed], T0 + 20_000).containersToStart, [{ name: 'i1', restartCount: 1, backoffCount: 1 }]);
  const never = computePodActions(initPod('Never'), [sandbox(), failed], T0 + 20_000);
  assert.deepEqual(never.containersToStart, []);
  assert.equal(never.stopSandbox, true);
  const st = computePodStatus(initPod('Never'), [sandbox(), failed], { hostIP: '1.2.3.4', now: T0 });
  assert.equal(st.phase, 'Failed');
});

test('crash backoff: 10 s doubling to 5 min; a run of 10 minutes resets it', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map(crashBackoffMs), [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  const quick = ctr('a', 'exited', { restartCount: 4, backoffCount: 4, exitCode: 1 });
  assert.deepEqual(restartBackoff(quick), { delayMs: 160_000, nextCount: 5 });
  const long = ctr('a', 'exited', { restartCount: 9, backoffCount: 6, exitCode: 1, startedAt: iso(T0), finishedAt: iso(T0 + 601_000) });
  assert.deepEqual(restartBackoff(long), { delayMs: 10_000, nextCount: 1 });
});

test('probes: readiness gates ready/Ready, startup gates started', () => {
  const p = pod({ containers: [{ name: 'a', image: 'x', readinessProbe: { exec: { command: ['true'] } }, startupProbe: { exec: { command: ['true'] } } }] });
  const obs = [sandbox(), ctr('a', 'running')];
  const none = computePodStatus(p, obs, { hostIP: '1.2.3.4', now: T0 });
  assert.deepEqual([none.containerStatuses![0].started, none.containerStatuses![0].ready], [false, false]);
  assert.equal(none.conditions!.find((c) => c.type === 'Ready')!.status, 'False');
  const started = computePodStatus(p, obs, { hostIP: '1.2.3.4', now: T0, probes: new Map([['a', { started: true }]]) });
  assert.deepEqual([started.containerStatuses![0].started, started.containerStatuses![0].ready], [true, false]);
  const ready = computePodStatus(p, obs, { hostIP: '1.2.3.4', now: T0, probes: new Map([['a', { started: true, ready: true }]]) });
  assert.equal(ready.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
  assert.equal(ready.conditions!.find((c) => c.type === 'ContainersReady')!.status, 'True');
});
