import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Taint, Toleration } from 'kubernetes-types/core/v1';
import { TaintToleration, tolerates } from './taintToleration';
import { mkInfo, mkNode, mkPod, reasonsOf } from '../testutil';

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
