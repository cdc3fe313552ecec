import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { NodeAffinity } from './nodeAffinity';
import { mkInfo, mkNode, mkPod, reasonsOf } from '../testutil';

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
