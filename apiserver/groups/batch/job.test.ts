import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobSpec } from 'kubernetes-types/batch/v1';
import { defaultJobSpec, validateJob } from './job';

test('jobs: completions is immutable, parallelism is not', () => {
  const fields = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);
  const job = (s: object) => ({ spec: { selector: { matchLabels: { j: '1' } }, template: { metadata: { labels: { j: '1' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } }, completions: 1, parallelism: 1, completionMode: 'NonIndexed', ...s } });
  assert.deepEqual(fields(validateJob(job({ completions: 3 }), job({}))), ['spec.completions: Invalid value: 3: field is immutable']);
  assert.deepEqual(validateJob(job({ parallelism: 4 }), job({})), [], 'parallelism changes');
});

test('jobs: 1.32 failure and success policy fields are validated with Kubernetes\' messages', () => {
  const fields = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);
  const job = (s: object) => ({ spec: { selector: { matchLabels: { j: '1' } }, template: { metadata: { labels: { j: '1' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } }, completions: 4, parallelism: 1, completionMode: 'NonIndexed', ...s } });
  const cases: [string, object, string[]][] = [
    ['per-index on a NonIndexed job', { backoffLimitPerIndex: 1 }, ['spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode']],
    ['maxFailedIndexes alone', { completionMode: 'Indexed', maxFailedIndexes: 1 }, ['spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified']],
    ['maxFailedIndexes over completions', { completionMode: 'Indexed', backoffLimitPerIndex: 1, maxFailedIndexes: 5 }, ['spec.maxFailedIndexes: Invalid value: 5: must be less than or equal to completions']],
    ['FailIndex without per-index', { completionMode: 'Indexed', podReplacementPolicy: 'Failed', podFailurePolicy: { rules: [{ action: 'FailIndex', onExitCodes: { operator: 'In', values: [1] } }] } }, ['spec.podFailurePolicy.rules[0].action: Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set']],
    ['podFailurePolicy allows only Failed', { podReplacementPolicy: 'TerminatingOrFailed', podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [1] } }] } }, ['spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed": supported values: "Failed"']],
    ['unknown replacement policy', { podReplacementPolicy: 'Never' }, ['spec.podReplacementPolicy: Unsupported value: "Never": supported values: "Failed", "TerminatingOrFailed"']],
    ['successPolicy on NonIndexed', { successPolicy: { rules: [{ succeededCount: 1 }] } }, ['spec.successPolicy: Invalid value: {"rules":[{"succeededCount":1}]}: requires indexed completion mode']],
    ['empty success rule', { completionMode: 'Indexed', successPolicy: { rules: [{}] } }, ['spec.successPolicy.rules[0]: Required value: at least one of succeededCount or succeededIndexes must be specified']],
    ['succeededCount over the listed indexes', { completionMode: 'Indexed', successPolicy: { rules: [{ succeededIndexes: '0-1', succeededCount: 3 }] } }, ['spec.successPolicy.rules[0].succeededCount: Invalid value: 3: must be less than or equal to 2 (the number of indexes in the specified succeededIndexes field)']],
    ['index beyond completions', { completionMode: 'Indexed', successPolicy: { rules: [{ succeededIndexes: '2,9' }] } }, ['spec.successPolicy.rules[0].succeededIndexes: Invalid value: "2,9": error parsing succeededIndexes: too large index: 9']],
    ['managedBy not a path', { managedBy: 'my controller' }, ['spec.managedBy: Invalid value: "my controller": must be a domain-prefixed path (such as "acme.io/foo")']],
    ['all valid', { completionMode: 'Indexed', backoffLimitPerIndex: 1, maxFailedIndexes: 2, podReplacementPolicy: 'Failed', managedBy: 'example.com/mine', successPolicy: { rules: [{ succeededIndexes: '0,2-3', succeededCount: 2 }] } }, []],
  ];
  for (const [name, spec, want] of cases) assert.deepEqual(fields(validateJob(job(spec))), want, name);
  assert.deepEqual(fields(validateJob(job({ managedBy: 'example.com/b' }), job({ managedBy: 'example.com/a' }))), ['spec.managedBy: Invalid value: "example.com/b": field is immutable']);
});

test('jobs: a podFailurePolicy defaults podReplacementPolicy to Failed', () => {
  const s = { template: {}, podFailurePolicy: { rules: [] } } as unknown as JobSpec;
  defaultJobSpec(s);
  assert.equal(s.podReplacementPolicy, 'Failed');
  const t = { template: {} } as unknown as JobSpec;
  defaultJobSpec(t);
  assert.equal(t.podReplacementPolicy, 'TerminatingOrFailed');
});
