import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from 'kubernetes-types/core/v1';
import { desiredTaints } from './taint';

const node = (unschedulable: boolean | undefined, taints?: NonNullable<Node['spec']>['taints']): Node => ({ metadata: { name: 'n' }, spec: { unschedulable, taints } });
const T = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
const other = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };

test('desiredTaints: the unschedulable taint follows spec.unschedulable, other taints kept', () => {
  const cases: [string, Node, unknown][] = [
    ['schedulable, no taints: nothing to do', node(undefined), undefined],
    ['cordoned: add', node(true), [T]],
    ['cordoned, other taints: add after them', node(true, [other]), [other, T]],
    ['cordoned and tainted: nothing to do', node(true, [other, T]), undefined],
    ['uncordoned: remove, keep the others', node(false, [T, other]), [other]],
    ['a NoExecute taint of that key is not ours', node(false, [{ ...T, effect: 'NoExecute' }]), undefined],
  ];
  for (const [name, n, want] of cases) assert.deepEqual(desiredTaints(n), want, name);
});
