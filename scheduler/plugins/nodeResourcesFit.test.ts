import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { CycleState } from '../framework';
import { NodeResourcesFit, podScalarRequests } from './nodeResourcesFit';
import { mkInfo, mkNode, mkPod, mkSnapshot, reasonsOf, scoresOf } from '../testutil';

/** A pod requesting `requests` in one container. */
function req(name: string, requests: Record<string, string>, node?: string): Pod {
  const p = mkPod(name, { node });
  p.spec!.containers[0].resources = { requests };
  return p;
}

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

test('NodeResourcesFit: extended resources, hugepages and ephemeral-storage; unresolvable beyond the node, table', () => {
  const gpuNode = mkNode('g');
  Object.assign(gpuNode.status!.allocatable!, { 'nvidia.com/gpu': '2', 'ephemeral-storage': '10Gi', 'hugepages-2Mi': '4Mi' });
  const cases: [string, Pod, Pod[], { code: string; reasons: string[] } | undefined][] = [
    ['one gpu fits', req('p', { 'nvidia.com/gpu': '1' }), [], undefined],
    ['gpus used by placed pods', req('p', { 'nvidia.com/gpu': '1' }), [req('a', { 'nvidia.com/gpu': '2' }, 'g')], { code: 'Unschedulable', reasons: ['Insufficient nvidia.com/gpu'] }],
    ['more gpus than the node has', req('p', { 'nvidia.com/gpu': '3' }), [], { code: 'UnschedulableAndUnresolvable', reasons: ['Insufficient nvidia.com/gpu'] }],
    ['a resource the node lacks', req('p', { 'example.com/fpga': '1' }), [], { code: 'UnschedulableAndUnresolvable', reasons: ['Insufficient example.com/fpga'] }],
    ['ephemeral-storage', req('p', { 'ephemeral-storage': '6Gi' }), [req('a', { 'ephemeral-storage': '5Gi' }, 'g')], { code: 'Unschedulable', reasons: ['Insufficient ephemeral-storage'] }],
    ['hugepages', req('p', { 'hugepages-2Mi': '4Mi' }), [req('a', { 'hugepages-2Mi': '2Mi' }, 'g')], { code: 'Unschedulable', reasons: ['Insufficient hugepages-2Mi'] }],
    ['every shortfall, cpu first, ephemeral-storage before extended', req('p', { cpu: '3', 'nvidia.com/gpu': '1', 'ephemeral-storage': '20Gi', 'example.com/fpga': '1' }), [req('a', { 'nvidia.com/gpu': '2' }, 'g')],
      { code: 'UnschedulableAndUnresolvable', reasons: ['Insufficient cpu', 'Insufficient ephemeral-storage', 'Insufficient example.com/fpga', 'Insufficient nvidia.com/gpu'] }],
    ['cpu short only because of placed pods', req('p', { cpu: '1500m' }), [req('a', { cpu: '1' }, 'g')], { code: 'Unschedulable', reasons: ['Insufficient cpu'] }],
    ['cpu beyond the node', req('p', { cpu: '3' }), [], { code: 'UnschedulableAndUnresolvable', reasons: ['Insufficient cpu'] }],
    ['unknown names without a domain are not checked', req('p', { foo: '5' }), [], undefined],
    ['kubernetes.io-prefixed names are not extended resources', req('p', { 'kubernetes.io/foo': '5' }), [], undefined],
    ['zero request of a missing resource', req('p', { 'example.com/fpga': '0' }), [], undefined],
  ];
  for (const [name, pod, placed, want] of cases) {
    const info = mkInfo(gpuNode, placed);
    const state = new CycleState();
    assert.equal(NodeResourcesFit.preFilter!(pod, mkSnapshot([info]), state), undefined, name);
    assert.deepEqual(NodeResourcesFit.filter(pod, info, state), want, name);
  }
});

test('podScalarRequests: containers summed, init containers maxed, overhead added', () => {
  const p = req('p', { 'nvidia.com/gpu': '1', cpu: '1' });
  p.spec!.containers.push({ name: 'd', image: 'x', resources: { requests: { 'nvidia.com/gpu': '1', 'ephemeral-storage': '1Gi' } } });
  p.spec!.initContainers = [{ name: 'i', image: 'x', resources: { requests: { 'nvidia.com/gpu': '3' } } }];
  p.spec!.overhead = { 'ephemeral-storage': '1Mi' };
  assert.deepEqual(Object.fromEntries(podScalarRequests(p)), { 'nvidia.com/gpu': 3, 'ephemeral-storage': 2 ** 30 + 2 ** 20 });
});

test('NodeResourcesFit score (LeastAllocated): mean free share of cpu and memory after placing the pod, table', () => {
  const node = mkNode('n', { cpu: '4', memory: '10Gi' });
  const cases: [string, Pod, Pod[], number][] = [
    ['empty node, 1 cpu and 5Gi', mkPod('p', { cpu: '1', memory: '5Gi' }), [], Math.floor((75 + 50) / 2)],
    ['placed pods count', mkPod('p', { cpu: '1', memory: '1Gi' }), [mkPod('a', { cpu: '2', memory: '4Gi', node: 'n' })], Math.floor((25 + 50) / 2)],
    ['no requests count 100m and 200Mi', mkPod('p'), [], Math.floor((Math.floor((3900 * 100) / 4000) + Math.floor(((10 * 1024 - 200) * 100) / (10 * 1024))) / 2)],
    ['overcommitted cpu scores 0 for cpu', mkPod('p', { cpu: '5', memory: '5Gi' }), [], 25],
  ];
  for (const [name, pod, placed, want] of cases) assert.deepEqual(scoresOf(NodeResourcesFit, pod, [mkInfo(node, placed)]), [want], name);
  const noMemory = mkNode('m', { cpu: '4', memory: '0' });
  assert.deepEqual(scoresOf(NodeResourcesFit, mkPod('p', { cpu: '1' }), [mkInfo(noMemory)]), [75], 'a resource the node has none of is left out');
  assert.equal(NodeResourcesFit.weight, 1);
});
