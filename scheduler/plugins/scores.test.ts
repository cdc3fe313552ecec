import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeastAllocated, leastRequestedScore } from './leastAllocated';
import { BalancedAllocation, balancedScore } from './balancedAllocation';
import { mkInfo, mkNode, mkPod } from '../testutil';
import { CycleState } from '../framework';

test('leastRequestedScore: table', () => {
  const cases: [number, number, number][] = [
    [0, 100, 100],
    [50, 100, 50],
    [100, 100, 0],
    [150, 100, 0],
    [10, 0, 0],
  ];
  for (const [req, alloc, want] of cases) assert.equal(leastRequestedScore(req, alloc), want, `${req}/${alloc}`);
});

test('balancedScore: table', () => {
  const cases: [number, number, number][] = [
    [0.5, 0.5, 100],
    [0, 1, 50],
    [0.2, 0.4, 90],
    [2, 1, 100],
  ];
  for (const [c, m, want] of cases) assert.equal(balancedScore(c, m), want, `${c},${m}`);
});

test('score plugins prefer the emptier node', () => {
  const pod = mkPod('p', { cpu: '500m', memory: '1Gi' });
  const empty = mkInfo(mkNode('a'));
  const busy = mkInfo(mkNode('b'), [mkPod('x', { cpu: '1', memory: '1Gi', node: 'b' })]);
  assert.ok(LeastAllocated.score(pod, empty, new CycleState()) > LeastAllocated.score(pod, busy, new CycleState()));
  assert.equal(LeastAllocated.score(pod, empty, new CycleState()), 75);
  assert.ok(BalancedAllocation.score(pod, empty, new CycleState()) >= 0 && BalancedAllocation.score(pod, empty, new CycleState()) <= 100);
});
