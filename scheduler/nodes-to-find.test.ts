import { test } from 'node:test';
import assert from 'node:assert/strict';
import { numFeasibleNodesToFind } from './nodes-to-find';
import { schedulePod } from './schedule';
import { defaultProfile } from './plugins/registry';
import { mkInfo, mkNode, mkPod, mkSnapshot } from './testutil';

test('numFeasibleNodesToFind: adaptive default and explicit percentages, as kube-scheduler', () => {
  const cases: [nodes: number, pct: number | undefined, want: number][] = [
    [0, undefined, 0],
    [3, undefined, 3],
    [99, 10, 99],
    [100, undefined, 100], // 49% of 100 = 49, raised to 100
    [250, undefined, 120], // 48%
    [1000, undefined, 420], // 42%
    [5000, undefined, 500], // 10%
    [6000, undefined, 300], // 2% → 5%
    [1000, 10, 100],
    [1000, 5, 100], // 50 raised to the minimum of 100
    [1000, 100, 1000],
    [1000, 30, 300],
  ];
  for (const [nodes, pct, want] of cases) assert.equal(numFeasibleNodesToFind(nodes, pct), want, `${nodes} nodes at ${pct ?? 'adaptive'}%`);
});

test('schedulePod stops once enough nodes fit and reports how many it looked at', () => {
  const infos = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'].map((n, i) => mkInfo(mkNode(n, { unschedulable: i === 2 })));
  const r = schedulePod(mkPod('p'), mkSnapshot(infos), defaultProfile(), 0, { feasibleToFind: 2, start: 1 });
  assert.ok(r.ok);
  assert.deepEqual([r.nodeName, r.feasible, r.processed], ['n1', 2, 3], 'looked at n1, n2 (unschedulable), n3');
  const wrap = schedulePod(mkPod('p'), mkSnapshot(infos), defaultProfile(), 0, { feasibleToFind: 2, start: 5 });
  assert.deepEqual(wrap.ok && [wrap.nodeName, wrap.processed], ['n0', 2], 'n5 then n0: the search wraps');
  const none = schedulePod(mkPod('p', { cpu: '64' }), mkSnapshot(infos), defaultProfile(), 0, { feasibleToFind: 2, start: 4 });
  assert.ok(!none.ok);
  assert.equal(none.diagnosis.size, 6, 'nothing fits: every node looked at and diagnosed');
});
