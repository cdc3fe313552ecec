import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1';
import { admitPodPriority, globalDefaultConflict, type PriorityDecision } from './priority-admission';
import { validatePriorityClass } from './groups/scheduling/priorityclass';
import { PRIORITY_CLASS } from './groups/scheduling/priorityclass';
import { toTable } from './tables';

const pc = (name: string, value: number, extra: Partial<PriorityClass> = {}): PriorityClass => ({ metadata: { name }, value, ...extra });
const pod = (spec: Partial<Pod['spec']> = {}): Pod => ({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec } });

test('Priority admission: a pod gets the priority and preemption policy of its class, the default class, or 0; table', () => {
  const high = pc('high', 1000);
  const never = pc('never', 500, { preemptionPolicy: 'Never' });
  const dflt = pc('dflt', 10, { globalDefault: true });
  const dfltLower = pc('dflt-lower', 5, { globalDefault: true });
  const cases: [string, Pod, PriorityClass[], PriorityDecision][] = [
    ['no class, no default: 0', pod(), [high], { ok: true, priorityClassName: undefined, priority: 0, preemptionPolicy: 'PreemptLowerPriority' }],
    ['no class: the globalDefault', pod(), [high, dflt], { ok: true, priorityClassName: 'dflt', priority: 10, preemptionPolicy: 'PreemptLowerPriority' }],
    ['two defaults: the lower value', pod(), [dflt, dfltLower], { ok: true, priorityClassName: 'dflt-lower', priority: 5, preemptionPolicy: 'PreemptLowerPriority' }],
    ['a class', pod({ priorityClassName: 'high' }), [high, dflt], { ok: true, priorityClassName: 'high', priority: 1000, preemptionPolicy: 'PreemptLowerPriority' }],
    ['a class with Never', pod({ priorityClassName: 'never' }), [never], { ok: true, priorityClassName: 'never', priority: 500, preemptionPolicy: 'Never' }],
    ['unknown class', pod({ priorityClassName: 'nope' }), [high], { ok: false, message: 'no PriorityClass with name nope was found' }],
    ['priority set and agreeing', pod({ priorityClassName: 'high', priority: 1000 }), [high], { ok: true, priorityClassName: 'high', priority: 1000, preemptionPolicy: 'PreemptLowerPriority' }],
    ['priority set and disagreeing', pod({ priorityClassName: 'high', priority: 7 }), [high],
      { ok: false, message: 'the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name' }],
    ['priority set without a class', pod({ priority: 7 }), [], { ok: false, message: 'the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name' }],
    ['policy disagreeing', pod({ priorityClassName: 'never', preemptionPolicy: 'PreemptLowerPriority' }), [never],
      { ok: false, message: 'the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name' }],
  ];
  for (const [name, p, classes, want] of cases) assert.deepEqual(admitPodPriority(p, classes), want, name);
});

test('PriorityClass: only one globalDefault', () => {
  const classes = [pc('a', 1, { globalDefault: true }), pc('b', 2)];
  assert.equal(globalDefaultConflict(pc('c', 3, { globalDefault: true }), classes), 'PriorityClass a is already marked as default. Only one default can exist');
  assert.equal(globalDefaultConflict(pc('a', 1, { globalDefault: true }), classes), undefined, 'the default itself may be updated');
  assert.equal(globalDefaultConflict(pc('c', 3), classes), undefined);
});

test('PriorityClass validation as Kubernetes: user values ≤ 1e9, system- names reserved, value and policy immutable; table', () => {
  const msgs = (o: PriorityClass, old?: PriorityClass) => validatePriorityClass(o, old).map((e) => `${e.field}: ${e.message}`);
  const cases: [string, PriorityClass, PriorityClass | undefined, string[]][] = [
    ['ordinary', pc('high', 1000), undefined, []],
    ['negative', pc('low', -5), undefined, []],
    ['at the user maximum', pc('top', 1_000_000_000), undefined, []],
    ['above the user maximum', pc('top', 1_000_000_001), undefined, ['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']],
    ['no value', { metadata: { name: 'x' } } as PriorityClass, undefined, ['value: Required value']],
    ['the built-in', pc('system-node-critical', 2000001000), undefined, []],
    ['a built-in name, wrong value', pc('system-cluster-critical', 5), undefined,
      ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-cluster-critical PriorityClass must be 2000000000"]],
    ['an unknown system- name', pc('system-mine', 5), undefined,
      ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: name system-mine is not a known system priority class"]],
    ['bad policy', pc('x', 1, { preemptionPolicy: 'Sometimes' }), undefined, ['preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"']],
    ['value changed', pc('x', 2), pc('x', 1), ['value: Forbidden: may not be changed in an update.']],
    ['policy changed', pc('x', 1, { preemptionPolicy: 'Never' }), pc('x', 1, { preemptionPolicy: 'PreemptLowerPriority' }), ['preemptionPolicy: Invalid value: "Never": field is immutable']],
    ['description and globalDefault may change', pc('x', 1, { description: 'd', globalDefault: true }), pc('x', 1), []],
  ];
  for (const [name, o, old, want] of cases) assert.deepEqual(msgs(o, old), want, name);
});

test('PriorityClass: defaults, printer columns (PreemptionPolicy only -o wide), the built-ins refuse deletion', () => {
  const o = pc('high', 1000);
  PRIORITY_CLASS.defaults!(o as never);
  assert.equal(o.preemptionPolicy, 'PreemptLowerPriority');
  const t = toTable('priorityclasses', [{ ...o, metadata: { name: 'high', creationTimestamp: '2026-01-01T00:00:00Z' } }], { now: new Date('2026-01-01T00:00:10Z') });
  assert.deepEqual(t.columnDefinitions.map((c) => [c.name, c.priority]), [['Name', 0], ['Value', 0], ['Global-Default', 0], ['Age', 0], ['PreemptionPolicy', 1]]);
  assert.deepEqual(t.rows[0].cells, ['high', 1000, false, '10s', 'PreemptLowerPriority']);
  assert.throws(() => PRIORITY_CLASS.strategy!.beforeDelete!({ metadata: { name: 'system-node-critical' } } as never), /priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted/);
  assert.doesNotThrow(() => PRIORITY_CLASS.strategy!.beforeDelete!({ metadata: { name: 'high' } } as never));
});
