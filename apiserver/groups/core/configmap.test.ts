import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfigMap } from './configmap';

test('configmaps marked immutable keep their data and the mark', () => {
  const fields = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);
  const cm = { immutable: true, data: { a: '1' } };
  assert.deepEqual(fields(validateConfigMap({ ...cm, data: { a: '2' } }, cm)), ['data: Forbidden: field is immutable when `immutable` is set']);
  assert.deepEqual(fields(validateConfigMap({ data: { a: '1' } }, cm)), ['immutable: Forbidden: field is immutable when `immutable` is set']);
  assert.deepEqual(validateConfigMap({ data: { a: '2' } }, { data: { a: '1' } }), []);
});
