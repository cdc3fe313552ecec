import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateJob } from './job';

test('jobs: completions is immutable, parallelism is not', () => {
  const fields = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);
  const job = (s: object) => ({ spec: { selector: { matchLabels: { j: '1' } }, template: { metadata: { labels: { j: '1' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } }, completions: 1, parallelism: 1, completionMode: 'NonIndexed', ...s } });
  assert.deepEqual(fields(validateJob(job({ completions: 3 }), job({}))), ['spec.completions: Invalid value: 3: field is immutable']);
  assert.deepEqual(validateJob(job({ parallelism: 4 }), job({})), [], 'parallelism changes');
});
