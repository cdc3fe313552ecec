import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leastRequestedScore } from './leastAllocated';
import { BalancedAllocation, balanceChangeScore, balancedScore } from './balancedAllocation';
import { NodeResourcesFit } from './nodeResourcesFit';
import { defaultNormalizeScore } from './normalize';
import { mkInfo, mkNode, mkPod, scoresOf } from '../testutil';

test('leastRequestedScore: table', () => {
  const cases: [number, number, number][] = [
    [0, 100, 100],
    [50, 100, 50],
    [100, 100, 0],
    [150, 100, 0],
    [10, 0, 0],
    [1, 3, 66],
  ];
  for (const [req, alloc, want] of cases) assert.equal(leastRequestedScore(req, alloc), want, `${req}/${alloc}`);
});

test('balancedScore and balanceChangeScore: table', () => {
  const cases: [number[], number][] = [
    [[0.5, 0.5], 100],
    [[0, 1], 50],
    [[0.2, 0.4], 90],
    [[2, 1], 100],
    [[0.3], 100],
    [[0, 0.5, 1], 59],
  ];
  for (const [f, want] of cases) assert.equal(balancedScore(f), want, f.join(','));
  assert.equal(balanceChangeScore(80, 80), 75);
  assert.equal(balanceChangeScore(100, 50), 100);
  assert.equal(balanceChangeScore(50, 100), 50);
  assert.equal(balanceChangeScore(91, 90), 75);
});

test('NodeResourcesBalancedAllocation: rewards evening a node out; skips pods without requests, table', () => {
  const node = (name: string, placed: ReturnType<typeof mkPod>[]) => mkInfo(mkNode(name, { cpu: '4', memory: '4Gi' }), placed);
  const cpuHeavy = node('cpu-heavy', [mkPod('a', { cpu: '2', node: 'cpu-heavy' })]); // fractions 0.5 / 0 → 75
  const even = node('even', [mkPod('b', { cpu: '1', memory: '1Gi', node: 'even' })]); // 0.25 / 0.25 → 100
  const memPod = mkPod('p', { memory: '2Gi' });
  // cpu-heavy: with the pod 0.5/0.5 → 100; 50 + (50+100-75)/2 = 87. even: 0.25/0.75 → 75; 50 + (50+75-100)/2 = 62.
  assert.deepEqual(scoresOf(BalancedAllocation, memPod, [cpuHeavy, even]), [87, 62]);
  assert.deepEqual(scoresOf(BalancedAllocation, mkPod('best-effort'), [cpuHeavy, even]), [0, 0]);
  // Actual requests, not the non-zero defaults: a best-effort pod on the node adds nothing.
  const withBestEffort = node('be', [mkPod('c', { node: 'be' })]);
  assert.deepEqual(scoresOf(BalancedAllocation, mkPod('p', { cpu: '1', memory: '1Gi' }), [withBestEffort]), [75]);
});

test('defaultNormalizeScore: table', () => {
  const cases: [number[], boolean, number[]][] = [
    [[7, 5, 2, 0], false, [100, 71, 28, 0]],
    [[0, 0], false, [0, 0]],
    [[0, 0], true, [100, 100]],
    [[2, 1, 0], true, [0, 50, 100]],
  ];
  for (const [scores, reverse, want] of cases) {
    const s = [...scores];
    defaultNormalizeScore(s, reverse);
    assert.deepEqual(s, want, `${scores} reverse=${reverse}`);
  }
});

test('NodeResourcesFit prefers the emptier node', () => {
  const pod = mkPod('p', { cpu: '500m', memory: '1Gi' });
  const empty = mkInfo(mkNode('a'));
  const busy = mkInfo(mkNode('b'), [mkPod('x', { cpu: '1', memory: '1Gi', node: 'b' })]);
  const [e, b] = scoresOf(NodeResourcesFit, pod, [empty, busy]);
  assert.ok(e > b);
  assert.equal(e, 75);
});
