import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSecret } from './secret';

test('secrets: the type is immutable', () => {
  const fields = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);
  assert.deepEqual(fields(validateSecret({ type: 'b', data: {} }, { type: 'a', data: {} })), ['type: Invalid value: "b": field is immutable']);
});
