import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeResourcesFit } from './nodeResourcesFit';
import { mkInfo, mkNode, mkPod, reasonsOf } from '../testutil';

test('NodeResourcesFit: table', () => {
  const node = mkNode('n', { cpu: '2', memory: '4Gi', pods: '3' });
  const cases: [string, ReturnType<typeof mkPod>, ReturnType<typeof mkPod>[], string[] | undefined][] = [
    ['fits empty node', mkPod('p', { cpu: '2', memory: '4Gi' }), [], undefined],
    ['no requests always fit', mkPod('p'), [mkPod('a', { cpu: '2', node: 'n' })], undefined],
    ['cpu', mkPod('p', { cpu: '1500m' }), [mkPod('a', { cpu: '1', node: 'n' })], ['Insufficient cpu']],
    ['memory', mkPod('p', { memory: '3Gi' }), [mkPod('a', { memory: '2Gi', node: 'n' })], ['Insufficient memory']],
    ['both', mkPod('p', { cpu: '3', memory: '5Gi' }), [], ['Insufficient cpu', 'Insufficient memory']],
    ['pod count', mkPod('p'), [mkPod('a', { node: 'n' }), mkPod('b', { node: 'n' }), mkPod('c', { node: 'n' })], ['Too many pods']],
    ['finished pods free their requests', mkPod('p', { cpu: '2' }), [mkPod('a', { cpu: '2', node: 'n', phase: 'Succeeded' })], undefined],
  ];
  for (const [name, pod, placed, want] of cases) assert.deepEqual(reasonsOf(NodeResourcesFit, pod, mkInfo(node, placed)), want, name);
});
