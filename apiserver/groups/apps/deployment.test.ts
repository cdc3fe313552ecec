import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateReplicatedWorkload } from '../shared/pod-template';

test('deployments and replicasets: the selector is immutable', () => {
  const fields = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);
  const d = (matchLabels: Record<string, string>) => ({ spec: { selector: { matchLabels }, template: { metadata: { labels: { app: 'a', tier: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } });
  assert.deepEqual(fields(validateReplicatedWorkload(d({ app: 'a', tier: 'x' }), d({ app: 'a' }))), ['spec.selector: Invalid value: {"matchLabels":{"app":"a","tier":"x"}}: field is immutable']);
  assert.deepEqual(validateReplicatedWorkload(d({ app: 'a' }), d({ app: 'a' })), []);
});
