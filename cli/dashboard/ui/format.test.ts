import { test } from 'node:test';
import assert from 'node:assert/strict';
import { age, matches, nodeStatus, podReady, podRestarts, podStatus, quantity } from './format';
import type { NodeView, PodView } from './types';

const pod = (status: PodView['status'], extra: Partial<PodView['metadata']> = {}): PodView => ({
  metadata: { name: 'p', namespace: 'd', uid: 'u', ...extra },
  spec: { containers: [{ name: 'a' }, { name: 'b' }], initContainers: [{ name: 'i' }] },
  status,
});

test("pod STATUS as kubectl words it", () => {
  assert.equal(podStatus(pod({ phase: 'Pending' })), 'Pending');
  assert.equal(podStatus(pod({ phase: 'Running', containerStatuses: [{ name: 'a', ready: true, restartCount: 0, state: { running: {} } }] })), 'Running');
  assert.equal(podStatus(pod({ phase: 'Running', containerStatuses: [{ name: 'a', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }] })), 'CrashLoopBackOff');
  assert.equal(podStatus(pod({ phase: 'Failed', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, state: { terminated: { exitCode: 2 } } }] })), 'ExitCode:2');
  assert.equal(podStatus(pod({ phase: 'Succeeded', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, state: { terminated: { reason: 'Completed', exitCode: 0 } } }] })), 'Completed');
  assert.equal(podStatus(pod({ phase: 'Pending', initContainerStatuses: [{ name: 'i', ready: false, restartCount: 0, state: { running: {} } }] })), 'Init:0/1');
  assert.equal(podStatus(pod({ phase: 'Pending', initContainerStatuses: [{ name: 'i', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } }] })), 'Init:Error');
  assert.equal(podStatus(pod({ phase: 'Running' }, { deletionTimestamp: '2026-01-01T00:00:00Z' })), 'Terminating');
  assert.equal(podStatus(pod({ phase: 'Failed', reason: 'Evicted' })), 'Evicted');
});

test('READY and RESTARTS count containers', () => {
  const p = pod({ containerStatuses: [{ name: 'a', ready: true, restartCount: 2 }, { name: 'b', ready: false, restartCount: 1 }] });
  assert.equal(podReady(p), '1/2');
  assert.equal(podRestarts(p), 3);
});

test('AGE in kubectl units', () => {
  const now = Date.parse('2026-12-07T10:00:00Z');
  assert.equal(age('2026-12-07T09:59:15Z', now), '45s');
  assert.equal(age('2026-12-07T09:48:00Z', now), '12m');
  assert.equal(age('2026-12-07T07:00:00Z', now), '3h');
  assert.equal(age('2026-12-02T10:00:00Z', now), '5d');
  assert.equal(age(undefined, now), '<unknown>');
});

test('node STATUS from the Ready condition', () => {
  const node = (status: string | undefined, unschedulable = false): NodeView => ({
    metadata: { name: 'n', uid: 'u' },
    spec: { unschedulable },
    status: { conditions: status ? [{ type: 'Ready', status }] : [] },
  });
  assert.equal(nodeStatus(node('True')), 'Ready');
  assert.equal(nodeStatus(node('False')), 'NotReady');
  assert.equal(nodeStatus(node('Unknown')), 'Unknown');
  assert.equal(nodeStatus(node(undefined)), 'Unknown');
  assert.equal(nodeStatus(node('True', true)), 'Ready,SchedulingDisabled');
});

test('quantities and selectors', () => {
  assert.equal(quantity('250m'), 0.25);
  assert.equal(quantity('1Gi'), 1024 ** 3);
  assert.ok(Math.abs(quantity('123456789n') - 0.123456789) < 1e-12);
  assert.equal(quantity('4'), 4);
  assert.ok(Number.isNaN(quantity('lots')));
  assert.equal(matches({ app: 'web' }, { app: 'web', x: 'y' }), true);
  assert.equal(matches({ app: 'web' }, { app: 'db' }), false);
  assert.equal(matches({}, { app: 'web' }), false, 'an empty selector shows no pods');
});
