import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Taint } from 'kubernetes-types/core/v1';
import { desiredTaints } from './taints';
import { countsAsDown, disruptionState } from './disruption';
import { notReadyStatus } from './pods';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const node = (ready: string | undefined, taints: Taint[] = []): Node => ({
  metadata: { name: 'n1' },
  spec: { taints },
  status: { conditions: ready ? [{ type: 'Ready', status: ready }] : [] },
});
const show = (t: Taint[] | undefined) => t?.map((x) => `${x.key.replace('node.kubernetes.io/', '')}:${x.effect}`);

test('taints follow the Ready condition', () => {
  assert.deepEqual(show(desiredTaints(node('Unknown'), true, T0)), ['unreachable:NoSchedule', 'unreachable:NoExecute']);
  assert.deepEqual(show(desiredTaints(node('False'), true, T0)), ['not-ready:NoSchedule', 'not-ready:NoExecute']);
  assert.equal(desiredTaints(node('True'), true, T0), undefined);
  assert.equal(desiredTaints(node(undefined), true, T0), undefined, 'no Ready condition yet: nothing');
  const added = desiredTaints(node('Unknown'), true, T0)!.find((t) => t.effect === 'NoExecute');
  assert.equal(added?.timeAdded, '2024-01-01T00:00:00Z');
});

test('taints swap when Ready changes, others are kept, timeAdded does not move', () => {
  const user: Taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
  const old: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2023-12-31T00:00:00Z' };
  assert.deepEqual(show(desiredTaints(node('False', [user, old, { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }]), true, T0)), ['dedicated:NoSchedule', 'not-ready:NoSchedule', 'not-ready:NoExecute']);
  assert.deepEqual(show(desiredTaints(node('True', [user, old]), true, T0)), ['dedicated:NoSchedule']);
  const still = [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }, old];
  assert.equal(desiredTaints(node('Unknown', still), true, T0), undefined, 'already right: no write');
});

test('no eviction allowed: NoExecute taints come off, NoSchedule stays', () => {
  const old: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2023-12-31T00:00:00Z' };
  assert.deepEqual(show(desiredTaints(node('Unknown', [old]), false, T0)), ['unreachable:NoSchedule']);
});

test('disruption: small clusters and the 55% rule', () => {
  const cases: [number, number, string][] = [
    [1, 0, 'Normal'],
    [1, 1, 'FullDisruption'], // one node: nowhere to move pods to
    [2, 1, 'Normal'], // half: the other node takes them
    [2, 2, 'FullDisruption'],
    [3, 1, 'Normal'],
    [3, 2, 'PartialDisruption'],
    [4, 2, 'Normal'], // 50%
    [5, 3, 'PartialDisruption'], // 60%
    [20, 11, 'Normal'], // exactly 55% is not more than 55%
    [20, 12, 'PartialDisruption'],
  ];
  for (const [total, down, want] of cases) assert.equal(disruptionState(total, down), want, `${down}/${total}`);
});

test('pods on an unreachable node: Ready and ContainersReady go False once', () => {
  const pod = { metadata: { name: 'p' }, status: { phase: 'Running', conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }] } };
  const s = notReadyStatus(pod, T0);
  assert.deepEqual(s?.conditions?.map((c) => `${c.type}=${c.status}`), ['Initialized=True', 'Ready=False', 'ContainersReady=False']);
  assert.equal(notReadyStatus({ ...pod, status: s }, T0), undefined, 'already False: no write');
  assert.equal(notReadyStatus({ ...pod, status: { ...pod.status, phase: 'Succeeded' } }, T0), undefined);
});

test('a node silent for half the grace counts as down before it is declared Unknown', () => {
  assert.equal(countsAsDown('True', 2_000, 8_000), false, 'a live node between renewals');
  assert.equal(countsAsDown('True', 4_001, 8_000), true, 'silent, Unknown soon');
  assert.equal(countsAsDown('Unknown', 0, 8_000), true);
  assert.equal(countsAsDown('False', 0, 8_000), true);
  assert.equal(countsAsDown(undefined, 0, 8_000), true, 'never reported Ready');
});
