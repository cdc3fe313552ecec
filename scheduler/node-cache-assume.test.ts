import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { buildNodeInfos } from './cache';
import { NodeInfoCache } from './node-cache';
import { snapshotOf } from './snapshot';
import { mkNode, mkPod } from './testutil';

type Infos = ReturnType<NodeInfoCache['list']>;
const view = (infos: Infos) => infos.map((i) => [i.node.metadata?.name, i.pods.map((p) => p.metadata?.name).join(','), i.requested.milliCPU]);

function cacheOf(nodes: string[], pods: Pod[] = []): NodeInfoCache {
  const c = new NodeInfoCache(1000);
  for (const n of nodes) c.setNode(mkNode(n));
  for (const p of pods) c.setPod(p);
  return c;
}

test('NodeInfoCache keeps assumed pods on their node until the informer shows them bound, forget or expiry, table', () => {
  const x = mkPod('x', { cpu: '1', node: 'a' });
  const z = mkPod('z', { cpu: '500m' });
  const cases: { name: string; steps: (c: NodeInfoCache) => void; want: unknown[]; assumed: number }[] = [
    { name: 'assumed: counts at once, after the informer pods', steps: (c) => c.assume(z, 'a', 0), want: [['a', 'x,z', 1500], ['b', '', 0]], assumed: 1 },
    { name: 'forget: gone', steps: (c) => (c.assume(z, 'a', 0), c.forget(z)), want: [['a', 'x', 1000], ['b', '', 0]], assumed: 0 },
    { name: 'expired after the TTL', steps: (c) => (c.assume(z, 'b', 0), c.expire(1001)), want: [['a', 'x', 1000], ['b', '', 0]], assumed: 0 },
    { name: 'not expired at the TTL', steps: (c) => (c.assume(z, 'b', 0), c.expire(1000)), want: [['a', 'x', 1000], ['b', 'z', 500]], assumed: 1 },
    {
      name: 'the informer shows it bound: its copy replaces the assumed one, counted once',
      steps: (c) => (c.assume(z, 'b', 0), c.setPod(mkPod('z', { cpu: '500m', node: 'b' }))),
      want: [['a', 'x', 1000], ['b', 'z', 500]],
      assumed: 0,
    },
    {
      name: 'bound elsewhere (another scheduler won): on that node only',
      steps: (c) => (c.assume(z, 'b', 0), c.setPod(mkPod('z', { cpu: '500m', node: 'a' }))),
      want: [['a', 'x,z', 1500], ['b', '', 0]],
      assumed: 0,
    },
    { name: 'an unbound update keeps the assumption', steps: (c) => (c.assume(z, 'b', 0), c.setPod({ ...z, status: { phase: 'Pending', conditions: [] } })), want: [['a', 'x', 1000], ['b', 'z', 500]], assumed: 1 },
    { name: 'a new pod of the same name (another uid) ends it', steps: (c) => (c.assume(z, 'b', 0), c.setPod({ ...z, metadata: { ...z.metadata, uid: 'other' } })), want: [['a', 'x', 1000], ['b', '', 0]], assumed: 0 },
    { name: 'deleted: gone', steps: (c) => (c.assume(z, 'b', 0), c.deletePod(z)), want: [['a', 'x', 1000], ['b', '', 0]], assumed: 0 },
    { name: 'assumed again elsewhere: moves', steps: (c) => (c.assume(z, 'a', 0), c.assume(z, 'b', 0)), want: [['a', 'x', 1000], ['b', 'z', 500]], assumed: 1 },
    { name: 'already seen bound when assumed: counted once', steps: (c) => c.assume(x, 'a', 0), want: [['a', 'x', 1000], ['b', '', 0]], assumed: 1 },
    {
      name: 'a pod seen bound and then deleted is not counted again by a stale assumption',
      steps: (c) => (c.assume(z, 'b', 0), c.setPod(mkPod('z', { cpu: '500m', node: 'b' })), c.deletePod(mkPod('z', { node: 'b' }))),
      want: [['a', 'x', 1000], ['b', '', 0]],
      assumed: 0,
    },
  ];
  for (const { name, steps, want, assumed } of cases) {
    const c = cacheOf(['a', 'b'], [x, z]);
    c.snapshot(); // a list taken before the steps, so they go through the rebuild of changed nodes
    steps(c);
    assert.deepEqual(view(c.snapshot().nodes), want, name);
    assert.deepEqual(view(c.list()), want, `${name} (list)`);
    assert.equal(c.assumedCount, assumed, `${name}: assumptions`);
    assert.equal(c.isAssumed(z), assumed > 0 && name !== 'already seen bound when assumed: counted once', `${name}: isAssumed`);
  }
});

test('NodeInfoCache.snapshot agrees with a rebuild from scratch: index, affinity lists, after node and pod changes', () => {
  const anti = (name: string, node?: string): Pod => ({
    ...mkPod(name, { node }),
    spec: { ...mkPod(name, { node }).spec!, affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'h', labelSelector: {} }] } } },
  });
  const pref = (name: string, node?: string): Pod => ({
    ...mkPod(name, { node }),
    spec: { ...mkPod(name, { node }).spec!, affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { topologyKey: 'h' } }] } } },
  });
  const c = cacheOf(['a', 'b', 'c'], [mkPod('plain', { node: 'a' }), anti('anti', 'b'), pref('pref', 'c')]);
  const check = (what: string) => {
    const s = c.snapshot();
    const nodes = s.nodes.map((i) => i.node);
    const pods = s.nodes.flatMap((i) => i.pods);
    const fresh = snapshotOf(buildNodeInfos(nodes, pods, []));
    assert.deepEqual(view(s.nodes), view(fresh.nodes), what);
    for (const i of s.nodes) assert.equal(s.get(i.node.metadata!.name!), i, `${what}: get`);
    assert.equal(s.get('nope'), undefined);
    const names = (l: Infos) => l.map((i) => i.node.metadata?.name);
    assert.deepEqual(names(s.havePodsWithAffinity()), names(fresh.havePodsWithAffinity()), `${what}: affinity`);
    assert.deepEqual(names(s.havePodsWithRequiredAntiAffinity()), names(fresh.havePodsWithRequiredAntiAffinity()), `${what}: anti-affinity`);
    for (const l of [s.havePodsWithAffinity(), s.havePodsWithRequiredAntiAffinity()]) for (const i of l) assert.equal(s.get(i.node.metadata!.name!), i, `${what}: the lists hold the current NodeInfos`);
    return { affinity: names(s.havePodsWithAffinity()), anti: names(s.havePodsWithRequiredAntiAffinity()) };
  };
  assert.deepEqual(check('start'), { affinity: ['b', 'c'], anti: ['b'] });
  c.assume(anti('new'), 'a', 0);
  assert.deepEqual(check('assumed anti-affinity pod on a'), { affinity: ['a', 'b', 'c'], anti: ['a', 'b'] });
  c.setPod(mkPod('plain2', { node: 'b' }));
  check('a plain pod added where an anti-affinity pod is');
  c.deletePod(anti('anti', 'b'));
  assert.deepEqual(check('anti deleted'), { affinity: ['a', 'c'], anti: ['a'] });
  c.forget(anti('new'));
  assert.deepEqual(check('assumption forgotten'), { affinity: ['c'], anti: [] });
  c.deleteNode(mkNode('a'));
  c.setNode(mkNode('d'));
  c.setPod(anti('late', 'd'));
  assert.deepEqual(check('nodes gone and come'), { affinity: ['c', 'd'], anti: ['d'] });
  const before = c.snapshot();
  c.setPod(mkPod('more', { node: 'c' }));
  c.snapshot();
  assert.equal(before.get('c')?.pods.length, 1, 'an earlier snapshot keeps its NodeInfos');
});

test('NodeInfoCache.snapshot counts the nodes having each image after node add, update and delete, table', () => {
  const withImages = (name: string, images: [string, number][]) => {
    const n = mkNode(name);
    n.status!.images = images.map(([img, size]) => ({ names: [img], sizeBytes: size }));
    return n;
  };
  const c = new NodeInfoCache();
  const steps: [string, () => void, Record<string, { size: number; nodes: number } | undefined>][] = [
    ['empty', () => undefined, { app: undefined }],
    ['a added', () => c.setNode(withImages('a', [['app', 10], ['side', 5]])), { app: { size: 10, nodes: 1 }, side: { size: 5, nodes: 1 } }],
    ['b added', () => c.setNode(withImages('b', [['app', 10]])), { app: { size: 10, nodes: 2 }, side: { size: 5, nodes: 1 } }],
    ['a updated without side', () => c.setNode(withImages('a', [['app', 10]])), { app: { size: 10, nodes: 2 }, side: undefined }],
    ['a updated, same images (new object)', () => c.setNode(withImages('a', [['app', 10]])), { app: { size: 10, nodes: 2 }, side: undefined }],
    ['c reports another size: the first node listing it gives it', () => c.setNode(withImages('c', [['app', 99]])), { app: { size: 10, nodes: 3 } }],
    ['a deleted', () => c.deleteNode(withImages('a', [])), { app: { size: 10, nodes: 2 } }],
    ['b deleted: c is the first now', () => c.deleteNode(withImages('b', [])), { app: { size: 99, nodes: 1 } }],
    ['c deleted', () => c.deleteNode(withImages('c', [])), { app: undefined }],
  ];
  for (const [name, step, want] of steps) {
    step();
    const s = c.snapshot();
    const fresh = snapshotOf(s.nodes);
    for (const [img, w] of Object.entries(want)) {
      assert.deepEqual(s.image(img), w, `${name}: ${img}`);
      assert.deepEqual(fresh.image(img), w, `${name}: ${img} (snapshotOf)`);
    }
  }
});
