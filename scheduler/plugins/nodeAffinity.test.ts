import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { ENFORCED_AFFINITY_REASON, NodeAffinity, nodeAffinity } from './nodeAffinity';
import { CycleState } from '../framework';
import { mkInfo, mkNode, mkPod, reasonsOf, scoresOf } from '../testutil';

const FAIL = ["node(s) didn't match Pod's node affinity/selector"];

function withAffinity(terms: NonNullable<NonNullable<NonNullable<Pod['spec']>['affinity']>['nodeAffinity']>['requiredDuringSchedulingIgnoredDuringExecution']): Pod {
  const p = mkPod('p');
  p.spec!.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } };
  return p;
}

test('NodeAffinity: nodeSelector and required affinity, table', () => {
  const node = mkNode('n1', { labels: { disk: 'ssd', zone: 'a', gen: '5' } });
  const cases: [string, Pod, string[] | undefined][] = [
    ['no selector', mkPod('p'), undefined],
    ['selector matches', mkPod('p', { nodeSelector: { disk: 'ssd' } }), undefined],
    ['selector mismatch', mkPod('p', { nodeSelector: { disk: 'hdd' } }), FAIL],
    ['selector missing label', mkPod('p', { nodeSelector: { gpu: 'yes' } }), FAIL],
    ['affinity In', withAffinity({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] }), undefined],
    ['affinity NotIn', withAffinity({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }] }), FAIL],
    ['affinity Gt', withAffinity({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }] }), undefined],
    ['terms are ORed', withAffinity({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'x', operator: 'Exists' }] }, { matchExpressions: [{ key: 'disk', operator: 'Exists' }] }] }), undefined],
    ['matchFields name', withAffinity({ nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }] }), FAIL],
    ['matchFields own name (a DaemonSet pod)', withAffinity({ nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] }), undefined],
    ['matchFields name and expressions both hold', withAffinity({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }], matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] }), undefined],
    ['matchFields name holds, expression does not', withAffinity({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }], matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] }), FAIL],
    ['matchFields NotIn own name', withAffinity({ nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] }] }), FAIL],
    ['empty term matches nothing', withAffinity({ nodeSelectorTerms: [{}] }), FAIL],
  ];
  for (const [name, pod, want] of cases) assert.deepEqual(reasonsOf(NodeAffinity, pod, mkInfo(node)), want, name);
});

test('NodeAffinity score: weights of matching preferred terms, normalized to 0–100, table', () => {
  const pod = mkPod('p');
  pod.spec!.affinity = {
    nodeAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 2, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
        { weight: 5, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } },
        { weight: 0, preference: { matchExpressions: [{ key: 'zone', operator: 'Exists' }] } },
        { weight: 9, preference: {} },
      ],
    },
  };
  const nodes = [
    mkInfo(mkNode('both', { labels: { zone: 'a', disk: 'ssd' } })), // 7
    mkInfo(mkNode('disk', { labels: { zone: 'b', disk: 'ssd' } })), // 5
    mkInfo(mkNode('zone', { labels: { zone: 'a' } })), // 2
    mkInfo(mkNode('none', { labels: { zone: 'b' } })), // 0
  ];
  assert.deepEqual(scoresOf(NodeAffinity, pod, nodes), [100, 71, 28, 0]);
  assert.deepEqual(scoresOf(NodeAffinity, mkPod('plain'), nodes), [0, 0, 0, 0]);
  assert.equal(NodeAffinity.weight, 2);
});

test('NodeAffinity with addedAffinity: enforced before the pod\'s own, preferred terms added', () => {
  const plugin = nodeAffinity({
    addedAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['batch'] }] }] },
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } }],
    },
  });
  const batchA = mkInfo(mkNode('ba', { labels: { pool: 'batch', zone: 'a' } }));
  const batchB = mkInfo(mkNode('bb', { labels: { pool: 'batch', zone: 'b' } }));
  const web = mkInfo(mkNode('w', { labels: { pool: 'web', zone: 'a' } }));
  assert.deepEqual(reasonsOf(plugin, mkPod('p'), web), [ENFORCED_AFFINITY_REASON]);
  assert.equal(plugin.filter(mkPod('p'), web, new CycleState())?.code, 'UnschedulableAndUnresolvable');
  assert.equal(reasonsOf(plugin, mkPod('p'), batchA), undefined);
  assert.deepEqual(reasonsOf(plugin, mkPod('p', { nodeSelector: { zone: 'c' } }), batchA), FAIL);
  assert.deepEqual(scoresOf(plugin, mkPod('p'), [batchA, batchB]), [100, 0]);
});
