import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { FakeClock } from '../lib/fake-clock';
import { SchedulingQueue } from './queue';
import { mayHelp, nodeUpdateEvents, assignedPodUpdateEvents, pendingPodChanged } from './cluster-events';
import { mkNode, mkPod } from './testutil';

function pod(name: string, o: { priority?: number; created?: string } = {}): Pod {
  const p = mkPod(name);
  return { ...p, metadata: { ...p.metadata, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' }, spec: { ...p.spec!, priority: o.priority } };
}

/** Pops everything now active, in order (each pop resolves at once while the heap has pods). */
async function drain(q: SchedulingQueue): Promise<string[]> {
  const out: string[] = [];
  while (q.pending.active > 0) out.push((await q.pop())!.key);
  return out;
}

test('activeQ: higher priority first, then older creation time, then arrival', async () => {
  const q = new SchedulingQueue({ clock: new FakeClock() });
  q.add('a', pod('a', { created: '2026-01-01T00:00:02Z' }));
  q.add('b', pod('b', { priority: 100, created: '2026-01-01T00:00:05Z' }));
  q.add('c', pod('c', { created: '2026-01-01T00:00:01Z' }));
  q.add('d', pod('d', { created: '2026-01-01T00:00:01Z' }));
  q.add('e', pod('e', { priority: -5 }));
  q.add('f', pod('f', { priority: 1000, created: '2026-01-01T00:00:09Z' }));
  assert.deepEqual(await drain(q), ['f', 'b', 'c', 'd', 'a', 'e']);
});

test('a priority raised while queued reorders the pod', async () => {
  const q = new SchedulingQueue({ clock: new FakeClock() });
  q.add('a', pod('a'));
  q.add('b', pod('b'));
  q.update('b', pod('b', { priority: 10 }), true);
  assert.deepEqual(await drain(q), ['b', 'a']);
});

test('backoff: 1 s, 2 s, 4 s, 8 s, then capped at 10 s', () => {
  const q = new SchedulingQueue({ clock: new FakeClock() });
  assert.deepEqual([1, 2, 3, 4, 5, 6, 20].map((n) => q.backoffMs(n)), [1000, 2000, 4000, 8000, 10000, 10000, 10000]);
});

test('an unschedulable pod waits for an event, not a timer', async () => {
  const clock = new FakeClock();
  const q = new SchedulingQueue({ clock });
  q.start();
  q.add('a', pod('a'));
  await q.pop();
  q.addUnschedulable('a', new Set(['NodeResourcesFit']));
  clock.advance(60_000);
  assert.deepEqual(q.pending, { active: 0, backoff: 0, unschedulable: 1 });
  q.onEvent('NodeLabelChange');
  assert.equal(q.where('a'), 'unschedulable', 'a label change cannot free resources');
  q.onEvent('AssignedPodDelete');
  assert.deepEqual(q.pending, { active: 1, backoff: 0, unschedulable: 0 }, 'backoff (1 s) long over: straight to active');
  q.close();
});

test('an event within the backoff moves the pod to backoff, then active when it ends', async () => {
  const clock = new FakeClock();
  const q = new SchedulingQueue({ clock });
  q.add('a', pod('a'));
  for (let i = 0; i < 3; i++) {
    assert.equal((await q.pop())?.key, 'a');
    q.addUnschedulable('a', new Set(['TaintToleration']));
    q.onEvent('NodeTaintChange');
    assert.equal(q.where('a'), 'backoff');
    clock.advance(q.backoffMs(i + 1) - 1);
    assert.equal(q.where('a'), 'backoff', `still backing off after attempt ${i + 1}`);
    clock.advance(1);
    assert.equal(q.where('a'), 'active');
  }
});

test('an event during the attempt sends the failed pod to backoff, not the unschedulable pool', async () => {
  const clock = new FakeClock();
  const q = new SchedulingQueue({ clock });
  q.add('a', pod('a'));
  await q.pop();
  q.onEvent('NodeAdd');
  q.addUnschedulable('a', new Set(['NodeResourcesFit']));
  assert.equal(q.where('a'), 'backoff');
  clock.advance(1000);
  assert.equal(q.where('a'), 'active');
});

test('the pod changing during its attempt also sends it to backoff', async () => {
  const q = new SchedulingQueue({ clock: new FakeClock() });
  q.add('a', pod('a'));
  await q.pop();
  q.update('a', { ...pod('a'), metadata: { ...pod('a').metadata, labels: { x: 'y' } } }, true);
  q.addUnschedulable('a', new Set(['NodeAffinity']));
  assert.equal(q.where('a'), 'backoff');
});

test('an unschedulable pod whose spec changes is retried; a status-only change is not', async () => {
  const clock = new FakeClock();
  const q = new SchedulingQueue({ clock });
  q.add('a', pod('a'));
  await q.pop();
  q.addUnschedulable('a', new Set(['NodeAffinity']));
  q.update('a', pod('a'), false);
  assert.equal(q.where('a'), 'unschedulable');
  clock.advance(5000);
  q.update('a', pod('a'), true);
  assert.equal(q.where('a'), 'active');
});

test('pods left unschedulable 5 minutes are flushed', async () => {
  const clock = new FakeClock();
  const q = new SchedulingQueue({ clock });
  q.start();
  q.add('a', pod('a'));
  await q.pop();
  q.addUnschedulable('a', new Set(['NodeAffinity']));
  clock.advance(4 * 60_000);
  assert.equal(q.where('a'), 'unschedulable');
  clock.advance(60_000 + 30_000);
  assert.equal(q.where('a'), 'active');
  q.close();
});

test('a pod deleted during its attempt is not requeued; done() drops a placed pod', async () => {
  const q = new SchedulingQueue({ clock: new FakeClock() });
  q.add('a', pod('a'));
  q.add('b', pod('b'));
  await q.pop();
  q.delete('a');
  q.addUnschedulable('a', new Set());
  assert.equal(q.where('a'), undefined);
  await q.pop();
  q.done('b');
  assert.equal(q.where('b'), undefined);
  assert.deepEqual(q.pending, { active: 0, backoff: 0, unschedulable: 0 });
});

test('requeue after a failed binding: backoff by the attempts so far', async () => {
  const clock = new FakeClock();
  const q = new SchedulingQueue({ clock });
  q.add('a', pod('a'));
  const qp = (await q.pop())!;
  q.done('a');
  q.requeue(qp);
  assert.equal(q.where('a'), 'backoff');
  clock.advance(1000);
  const again = (await q.pop())!;
  assert.equal(again.attempts, 2);
  assert.equal(again.initialTimestamp, qp.initialTimestamp);
});

test('pop waits for a pod and wakes with undefined on close', async () => {
  const q = new SchedulingQueue({ clock: new FakeClock() });
  const first = q.pop();
  q.add('a', pod('a'));
  assert.equal((await first)?.key, 'a');
  const second = q.pop();
  q.close();
  assert.equal(await second, undefined);
});

test('which events may help which rejection', () => {
  const cases: [string, string[], boolean][] = [
    ['NodeAdd', ['NodeResourcesFit'], true],
    ['AssignedPodDelete', ['NodeResourcesFit'], true],
    ['NodeLabelChange', ['NodeResourcesFit'], false],
    ['NodeLabelChange', ['NodeResourcesFit', 'NodeAffinity'], true],
    ['AssignedPodAdd', ['InterPodAffinity'], true],
    ['NamespaceLabelChange', ['InterPodAffinity'], true],
    ['NamespaceLabelChange', ['TaintToleration'], false],
    ['VolumeChange', ['VolumeBinding'], true],
    ['VolumeChange', ['SomePluginWithoutInterests'], true],
    ['VolumeChange', [], true],
    ['UnschedulableTimeout', ['NodeAffinity'], true],
  ];
  for (const [event, plugins, want] of cases) assert.equal(mayHelp(event as never, new Set(plugins)), want, `${event} for ${plugins.join(',')}`);
});

test('node updates: only scheduling-relevant changes are events', () => {
  const n = mkNode('a', { labels: { zone: 'x' } });
  const heartbeat = { ...n, status: { ...n.status, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: 'later' }] } };
  assert.deepEqual(nodeUpdateEvents(n, heartbeat), []);
  assert.deepEqual(nodeUpdateEvents(n, mkNode('a', { labels: { zone: 'y' } })), ['NodeLabelChange']);
  assert.deepEqual(nodeUpdateEvents(n, mkNode('a', { labels: { zone: 'x' }, unschedulable: true })), ['NodeTaintChange']);
  assert.deepEqual(nodeUpdateEvents(n, mkNode('a', { labels: { zone: 'x' }, cpu: '8' })), ['NodeAllocatableChange']);
  assert.deepEqual(nodeUpdateEvents(n, mkNode('a', { labels: { zone: 'x' }, ready: 'False' })), ['NodeConditionChange']);
});

test('assigned pod updates and pending pod changes', () => {
  const pending = mkPod('p');
  const bound = mkPod('p', { node: 'a' });
  assert.deepEqual(assignedPodUpdateEvents(pending, bound), ['AssignedPodAdd']);
  assert.deepEqual(assignedPodUpdateEvents(bound, mkPod('p', { node: 'a', phase: 'Succeeded' })), ['AssignedPodDelete']);
  assert.deepEqual(assignedPodUpdateEvents(bound, { ...bound, metadata: { ...bound.metadata, labels: { app: 'x' } } }), ['AssignedPodLabelChange']);
  assert.equal(pendingPodChanged(pending, { ...pending, status: { phase: 'Pending', conditions: [] } }), false);
  assert.equal(pendingPodChanged(pending, { ...pending, metadata: { ...pending.metadata, annotations: { a: 'b' } } }), false);
  assert.equal(pendingPodChanged(pending, mkPod('p', { nodeSelector: { a: 'b' } })), true);
});
