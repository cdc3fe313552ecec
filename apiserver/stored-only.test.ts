import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES } from './registry';
import { STORED_ONLY, storedOnlyWarning } from './stored-only';

test('stored-only kinds: every row names a served resource; a write of one gets its warning, others none', () => {
  // (HorizontalPodAutoscalers were stored only until controllers/hpa/ acted on them)
  for (const key of Object.keys(STORED_ONLY)) {
    const [group, plural] = key.split('/');
    assert.ok(RESOURCES.some((d) => d.group === group && d.plural === plural && !d.review), `${key} is served and stored`);
  }
  for (const [key, warning] of Object.entries(STORED_ONLY)) assert.equal(storedOnlyWarning(key.split('/')[0], key.split('/')[1]), warning);
  assert.equal(storedOnlyWarning('autoscaling', 'horizontalpodautoscalers'), undefined);
  assert.equal(storedOnlyWarning('apps', 'deployments'), undefined);
  assert.equal(storedOnlyWarning('', 'pods'), undefined);
});
