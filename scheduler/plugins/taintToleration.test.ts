import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Taint, Toleration } from 'kubernetes-types/core/v1';
import { TaintToleration, tolerates } from './taintToleration';
import { mkInfo, mkNode, mkPod, reasonsOf, scoresOf } from '../testutil';

test('tolerates: table', () => {
  const taint: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
  const cases: [Toleration, boolean][] = [
    [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }, true],
    [{ key: 'dedicated', value: 'gpu' }, true],
    [{ key: 'dedicated', operator: 'Equal', value: 'cpu' }, false],
    [{ key: 'dedicated', operator: 'Exists' }, true],
    [{ operator: 'Exists' }, true],
    [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, false],
    [{ key: 'other', operator: 'Exists' }, false],
  ];
  for (const [t, want] of cases) assert.equal(tolerates(t, taint), want, JSON.stringify(t));
});

test('TaintToleration filter: NoSchedule/NoExecute block, PreferNoSchedule does not', () => {
  const tainted = mkNode('n', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
  assert.deepEqual(reasonsOf(TaintToleration, mkPod('p'), mkInfo(tainted)), ['node(s) had untolerated taint {dedicated: gpu}']);
  assert.equal(reasonsOf(TaintToleration, mkPod('p', { tolerations: [{ key: 'dedicated', operator: 'Exists' }] }), mkInfo(tainted)), undefined);
  assert.equal(reasonsOf(TaintToleration, mkPod('p'), mkInfo(mkNode('n', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }))), undefined);
});

test('TaintToleration score: fewer untolerated PreferNoSchedule taints score higher, table', () => {
  const soft = (key: string, value?: string): Taint => ({ key, value, effect: 'PreferNoSchedule' });
  const nodes = [
    mkInfo(mkNode('clean')),
    mkInfo(mkNode('one', { taints: [soft('a')] })),
    mkInfo(mkNode('two', { taints: [soft('a'), soft('b', 'x')] })),
    mkInfo(mkNode('hard-only', { taints: [{ key: 'c', effect: 'NoExecute' }] })),
  ];
  const cases: [string, Toleration[] | undefined, number[]][] = [
    ['no tolerations', undefined, [100, 50, 0, 100]],
    ['tolerates a', [{ key: 'a', operator: 'Exists' }], [100, 100, 0, 100]],
    ['tolerates a with effect PreferNoSchedule', [{ key: 'a', operator: 'Exists', effect: 'PreferNoSchedule' }], [100, 100, 0, 100]],
    ['a NoSchedule toleration does not count', [{ key: 'a', operator: 'Exists', effect: 'NoSchedule' }], [100, 50, 0, 100]],
    ['tolerates everything', [{ operator: 'Exists' }], [100, 100, 100, 100]],
    ['tolerates b=x only', [{ key: 'b', operator: 'Equal', value: 'x' }], [100, 0, 0, 100]],
  ];
  for (const [name, tolerations, want] of cases) assert.deepEqual(scoresOf(TaintToleration, mkPod('p', { tolerations }), nodes), want, name);
  assert.equal(TaintToleration.weight, 3);
});
