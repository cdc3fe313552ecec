import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podRequests, nodeInfo, withPods, withRequestsMemo, DEFAULT_MILLI_CPU_REQUEST, DEFAULT_MEMORY_REQUEST } from './framework';
import { mkNode, mkPod } from './testutil';

test('podRequests: containers summed, init containers maxed, overhead added, non-zero defaults', () => {
  const pod = mkPod('a', { cpu: '250m', memory: '64Mi' });
  pod.spec!.containers.push({ name: 'd', image: 'x', resources: { requests: { cpu: '0.5' } } });
  assert.deepEqual(podRequests(pod), { milliCPU: 750, memory: 64 * 2 ** 20 });
  assert.deepEqual(podRequests(pod, true), { milliCPU: 750, memory: 64 * 2 ** 20 + DEFAULT_MEMORY_REQUEST });
  pod.spec!.initContainers = [{ name: 'i', image: 'x', resources: { requests: { cpu: '1', memory: '1Mi' } } }];
  pod.spec!.overhead = { cpu: '10m' };
  assert.deepEqual(podRequests(pod), { milliCPU: 1010, memory: 64 * 2 ** 20 });
  assert.deepEqual(podRequests(mkPod('b'), true), { milliCPU: DEFAULT_MILLI_CPU_REQUEST, memory: DEFAULT_MEMORY_REQUEST });
});

test('nodeInfo sums requests of unfinished pods and parses allocatable', () => {
  const info = nodeInfo(mkNode('n', { cpu: '2', memory: '4Gi', pods: '110' }), [mkPod('a', { cpu: '1', node: 'n' }), mkPod('b', { cpu: '1', node: 'n', phase: 'Succeeded' })]);
  assert.equal(info.pods.length, 1);
  assert.deepEqual(info.requested, { milliCPU: 1000, memory: 0 });
  assert.deepEqual(info.allocatable, { milliCPU: 2000, memory: 4 * 2 ** 30, pods: 110 });
});

test('withRequestsMemo: the same answers, computed once per pod object within the call', () => {
  const pod = mkPod('a', { cpu: '250m' });
  const outside = podRequests(pod);
  const inside = withRequestsMemo(() => {
    const first = podRequests(pod);
    first.milliCPU = 1; // a caller changing its copy does not change the memo
    return [podRequests(pod), podRequests(pod, true)];
  });
  assert.deepEqual(inside, [outside, { milliCPU: 250, memory: DEFAULT_MEMORY_REQUEST }]);
});

test('withPods adds assumed pods to a NodeInfo as if it had been built with them', () => {
  const node = mkNode('n', { cpu: '4', memory: '8Gi' });
  const placed = [mkPod('a', { cpu: '1', memory: '1Gi', node: 'n' })];
  const more = [mkPod('b', { cpu: '500m', node: 'n' }), mkPod('c', { node: 'n' }), mkPod('d', { cpu: '1', node: 'n', phase: 'Succeeded' })];
  const base = nodeInfo(node, placed);
  assert.deepEqual(withPods(base, more), nodeInfo(node, [...placed, ...more]));
  assert.equal(base.pods.length, 1, 'the base NodeInfo is not changed');
  assert.equal(withPods(base, []), base);
});
