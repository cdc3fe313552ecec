import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNodeInfos } from './cache';
import { NodeInfoCache } from './node-cache';
import { mkNode, mkPod } from './testutil';

const view = (infos: ReturnType<NodeInfoCache['list']>) => infos.map((i) => [i.node.metadata?.name, i.pods.map((p) => p.metadata?.name).sort().join(','), i.requested.milliCPU]);

test('NodeInfoCache follows node and pod events and agrees with a rebuild from scratch', () => {
  const c = new NodeInfoCache();
  const nodes = [mkNode('a'), mkNode('b'), mkNode('c')];
  nodes.forEach((n) => c.setNode(n));
  let pods = [mkPod('x', { cpu: '1', node: 'a' }), mkPod('y', { cpu: '500m', node: 'b' }), mkPod('pending', { cpu: '1' })];
  pods.forEach((p) => c.setPod(p));
  assert.deepEqual(view(c.list([])), view(buildNodeInfos(nodes, pods, [])));
  assert.deepEqual(view(c.list([])), [['a', 'x', 1000], ['b', 'y', 500], ['c', '', 0]]);

  // y finishes, pending is bound to c, x moves nowhere (deleted), node b changes size
  const finished = mkPod('y', { cpu: '500m', node: 'b', phase: 'Succeeded' });
  const bound = mkPod('pending', { cpu: '1', node: 'c' });
  c.setPod(finished);
  c.setPod(bound);
  c.deletePod(pods[0]);
  nodes[1] = mkNode('b', { cpu: '8' });
  c.setNode(nodes[1]);
  pods = [finished, bound];
  assert.deepEqual(view(c.list([])), view(buildNodeInfos(nodes, pods, [])));
  assert.equal(c.list([])[1].allocatable.milliCPU, 8000);

  // assumed pods count on their node until the informer shows them bound (then once)
  const assumed = mkPod('z', { cpu: '2', node: 'a' });
  assert.deepEqual(view(c.list([assumed])), [['a', 'z', 2000], ['b', '', 0], ['c', 'pending', 1000]]);
  assert.deepEqual(view(c.list([{ ...bound }])), view(c.list([])), 'an assumed pod already bound in the informer counts once');
  assert.deepEqual(view(c.list([])), [['a', '', 0], ['b', '', 0], ['c', 'pending', 1000]], 'the assumption is not cached');

  c.deleteNode(nodes[0]);
  assert.deepEqual(c.list([]).map((i) => i.node.metadata?.name), ['b', 'c']);
});
