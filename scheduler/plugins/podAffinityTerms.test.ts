import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import { matchesSelector } from '../../lib/label-selector';
import { compileSelector, withLabelKeys } from './podAffinityTerms';

test('compileSelector agrees with matchesSelector: table', () => {
  const selectors: (LabelSelector | undefined)[] = [
    undefined,
    {},
    { matchLabels: { app: 'web' } },
    { matchLabels: { app: 'web', tier: 'fe' } },
    { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'db'] }] },
    { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] },
    { matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
    { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] },
    { matchExpressions: [{ key: 'tier', operator: 'Bogus' }] },
    { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['be'] }] },
  ];
  const labelSets: (Record<string, string> | undefined)[] = [undefined, {}, { app: 'web' }, { app: 'db' }, { app: 'web', tier: 'fe' }, { app: 'web', tier: 'be' }, { tier: '' }];
  for (const sel of selectors)
    for (const labels of labelSets) assert.equal(compileSelector(sel)(labels), matchesSelector(sel, labels), `${JSON.stringify(sel)} on ${JSON.stringify(labels)}`);
});

test('withLabelKeys: In for matchLabelKeys, NotIn for mismatchLabelKeys, keys the pod lacks ignored', () => {
  const sel = { matchLabels: { app: 'web' } };
  assert.deepEqual(withLabelKeys(sel, { app: 'web', hash: 'h1', tenant: 't' }, ['hash', 'missing'], ['tenant']), {
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'hash', operator: 'In', values: ['h1'] },
      { key: 'tenant', operator: 'NotIn', values: ['t'] },
    ],
  });
  assert.equal(withLabelKeys(sel, {}, ['hash'], []), sel);
  assert.equal(withLabelKeys(undefined, { hash: 'h1' }, ['hash'], []), undefined);
});
