import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionMet, evalJsonPath, parseJsonPath, parseWaitFor, splitJsonPathInput } from './wait-condition';
import { waitTimeout } from './wait';

const pod = {
  metadata: { name: 'p', generation: 2 },
  status: { phase: 'Running', observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True' }, { type: 'Old', status: 'True', observedGeneration: 1 }], containerStatuses: [{ name: 'a' }, { name: 'b' }] },
};

test('--for forms', () => {
  assert.deepEqual(parseWaitFor('delete'), { kind: 'delete' });
  assert.deepEqual(parseWaitFor('condition=Ready'), { kind: 'condition', name: 'Ready', value: 'true' });
  assert.deepEqual(parseWaitFor('condition=Available=False'), { kind: 'condition', name: 'Available', value: 'False' });
  assert.equal(parseWaitFor('jsonpath={.status.phase}=Running').kind, 'jsonpath');
  assert.throws(() => parseWaitFor('ready'), /unrecognized condition: "ready"/);
  assert.throws(() => parseWaitFor('jsonpath={.a}='), /has to have a value after equal sign/);
  assert.deepEqual(splitJsonPathInput('{.a[?(@.b=="c")].d}=x'), ['{.a[?(@.b=="c")].d}', 'x']);
});

test('conditions: case-insensitive, stale generations do not count', () => {
  assert.equal(conditionMet(pod, parseWaitFor('condition=ready')), true);
  assert.equal(conditionMet(pod, parseWaitFor('condition=Ready=false')), false);
  assert.equal(conditionMet(pod, parseWaitFor('condition=Old')), false);
  assert.equal(conditionMet(pod, parseWaitFor('condition=Missing')), false);
});

test('jsonpath: fields, filters, indices; one plain value only', () => {
  assert.deepEqual(evalJsonPath(pod, parseJsonPath('{.status.conditions[?(@.type=="Ready")].status}')), ['True']);
  assert.deepEqual(evalJsonPath(pod, parseJsonPath('.status.containerStatuses[1].name')), ['b']);
  assert.deepEqual(evalJsonPath(pod, parseJsonPath('{.status.nothing}')), []);
  assert.equal(conditionMet(pod, parseWaitFor('jsonpath={.status.phase}=Running')), true);
  assert.equal(conditionMet(pod, parseWaitFor('jsonpath={.status.phase}')), true);
  assert.equal(conditionMet(pod, parseWaitFor('jsonpath={.status.phase}=Pending')), false);
  assert.throws(() => conditionMet(pod, parseWaitFor('jsonpath={.status.containerStatuses[*].name}=a')), /more than one value/);
  assert.throws(() => conditionMet(pod, parseWaitFor('jsonpath={.status}=x')), /nested object or list/);
});

test('--timeout: durations, 0 checks once, negative waits a week', () => {
  assert.equal(waitTimeout(undefined), 30_000);
  assert.equal(waitTimeout('1m30s'), 90_000);
  assert.equal(waitTimeout('0'), 0);
  assert.equal(waitTimeout('-1s'), 168 * 3600_000);
  assert.throws(() => waitTimeout('soon'), /invalid argument "soon" for "--timeout" flag/);
});
