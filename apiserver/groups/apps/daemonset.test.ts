import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateDaemonSet } from './daemonset';

test('daemonsets: the selector is immutable', () => {
  const fields = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);
  const d = (matchLabels: Record<string, string>) => ({ spec: { selector: { matchLabels }, template: { metadata: { labels: { app: 'a', tier: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } });
  assert.deepEqual(fields(validateDaemonSet(d({ tier: 'x' }), d({ app: 'a' }))), ['spec.selector: Invalid value: {"matchLabels":{"tier":"x"}}: field is immutable']);
});
