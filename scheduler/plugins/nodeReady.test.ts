import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeReady, NodeUnschedulable } from './nodeReady';
import { mkInfo, mkNode, mkPod, reasonsOf } from '../testutil';

test('NodeReady / NodeUnschedulable: table', () => {
  const tolerant = mkPod('t', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] });
  const cases: [string, ReturnType<typeof mkNode>, ReturnType<typeof mkPod>, string[] | undefined, string[] | undefined][] = [
    ['ready', mkNode('n'), mkPod('p'), undefined, undefined],
    ['not ready', mkNode('n', { ready: 'False' }), mkPod('p'), ['node(s) were not ready'], undefined],
    ['unknown', mkNode('n', { ready: 'Unknown' }), mkPod('p'), ['node(s) were not ready'], undefined],
    ['cordoned', mkNode('n', { unschedulable: true }), mkPod('p'), undefined, ['node(s) were unschedulable']],
    ['cordoned, tolerated', mkNode('n', { unschedulable: true }), tolerant, undefined, undefined],
    ['cordoned, tolerated by Exists on every key', mkNode('n', { unschedulable: true }), mkPod('t', { tolerations: [{ operator: 'Exists' }] }), undefined, undefined],
    ['cordoned, tolerated by Equal with no value', mkNode('n', { unschedulable: true }), mkPod('t', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Equal' }] }), undefined, undefined],
    ['cordoned, a NoExecute toleration is not enough', mkNode('n', { unschedulable: true }), mkPod('t', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }] }), undefined, ['node(s) were unschedulable']],
  ];
  for (const [name, node, pod, wantReady, wantUnsched] of cases) {
    assert.deepEqual(reasonsOf(NodeReady, pod, mkInfo(node)), wantReady, name);
    assert.deepEqual(reasonsOf(NodeUnschedulable, pod, mkInfo(node)), wantUnsched, name);
  }
  const noConditions = mkNode('n');
  noConditions.status!.conditions = [];
  assert.deepEqual(reasonsOf(NodeReady, mkPod('p'), mkInfo(noConditions)), ['node(s) were not ready']);
});
