import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schedulePod, failureMessage, needsScheduling } from './schedule';
import { defaultProfile } from './plugins/registry';
import { AssumeCache, buildNodeInfos } from './cache';
import { mkInfo, mkNode, mkPod, mkSnapshot } from './testutil';

test('picks the least loaded feasible node', () => {
  const nodes = [mkInfo(mkNode('a'), [mkPod('x', { cpu: '1500m', node: 'a' })]), mkInfo(mkNode('b')), mkInfo(mkNode('c', { ready: 'False' }))];
  const r = schedulePod(mkPod('p', { cpu: '100m' }), mkSnapshot(nodes), defaultProfile());
  assert.deepEqual(r.ok && [r.nodeName, r.feasible], ['b', 2]);
});

test('ties rotate over equal nodes by name', () => {
  const nodes = [mkInfo(mkNode('b')), mkInfo(mkNode('a')), mkInfo(mkNode('c'))];
  const picks = [0, 1, 2, 3].map((i) => {
    const r = schedulePod(mkPod('p'), mkSnapshot(nodes), defaultProfile(), i);
    return r.ok ? r.nodeName : '';
  });
  assert.deepEqual(picks, ['a', 'b', 'c', 'a']);
});

test('no fit: kube-scheduler style per-node reason summary', () => {
  const nodes = [
    mkInfo(mkNode('a', { cpu: '1' })),
    mkInfo(mkNode('b', { cpu: '1' })),
    mkInfo(mkNode('c', { unschedulable: true })),
    mkInfo(mkNode('d', { labels: { disk: 'hdd' } })),
  ];
  const r = schedulePod(mkPod('p', { cpu: '2', memory: '8Gi' }), mkSnapshot(nodes), defaultProfile());
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.message, '0/4 nodes are available: 2 Insufficient cpu, 3 Insufficient memory, 1 node(s) were unschedulable.');
  const one = schedulePod(mkPod('p', { cpu: '3' }), mkSnapshot([mkInfo(mkNode('n'))]), defaultProfile());
  assert.equal(!one.ok && one.message, '0/1 nodes are available: 1 Insufficient cpu.');
  assert.equal(failureMessage(0, new Map()), '0/0 nodes are available: no nodes available to schedule pods.');
});

test('needsScheduling: table', () => {
  const cases: [ReturnType<typeof mkPod>, boolean][] = [
    [mkPod('p'), true],
    [mkPod('p', { node: 'n' }), false],
    [{ ...mkPod('p'), metadata: { name: 'p', deletionTimestamp: 't' } }, false],
    [{ ...mkPod('p'), spec: { containers: [], schedulerName: 'other' } }, false],
    [{ ...mkPod('p'), spec: { containers: [], schedulerName: 'default-scheduler' } }, true],
    [mkPod('p', { phase: 'Failed' }), false],
  ];
  for (const [p, want] of cases) assert.equal(needsScheduling(p), want, JSON.stringify(p.spec));
});

test('assumed pods count against their node until the informer confirms them', () => {
  const cache = new AssumeCache(1000);
  const node = mkNode('n', { cpu: '1' });
  const p1 = mkPod('p1', { cpu: '800m' });
  cache.assume(p1, 'n', 0);
  let infos = buildNodeInfos([node], [p1], cache.list(10));
  assert.equal(infos[0].requested.milliCPU, 800);
  const r = schedulePod(mkPod('p2', { cpu: '800m' }), mkSnapshot(infos), defaultProfile());
  assert.equal(r.ok, false);
  // informer sees it bound: assumption dropped, counted once
  const bound = mkPod('p1', { cpu: '800m', node: 'n' });
  cache.confirm(bound);
  assert.equal(cache.size, 0);
  infos = buildNodeInfos([node], [bound], cache.list(10));
  assert.equal(infos[0].requested.milliCPU, 800);
  // expiry
  cache.assume(mkPod('p3'), 'n', 0);
  assert.equal(cache.list(2000).length, 0);
});
