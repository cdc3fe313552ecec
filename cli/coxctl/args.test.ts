import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResourceArgs } from './args';

test('TYPE NAME..., comma lists and TYPE/NAME forms', () => {
  assert.deepEqual(parseResourceArgs(['pods']), [{ type: 'pods', names: [] }]);
  assert.deepEqual(parseResourceArgs(['po', 'a', 'b']), [{ type: 'po', names: ['a', 'b'] }]);
  assert.deepEqual(parseResourceArgs(['pods,deploy,svc']), [
    { type: 'pods', names: [] },
    { type: 'deploy', names: [] },
    { type: 'svc', names: [] },
  ]);
  assert.deepEqual(parseResourceArgs(['deploy/web', 'po/a', 'deploy/api']), [
    { type: 'deploy', names: ['web', 'api'] },
    { type: 'po', names: ['a'] },
  ]);
});

test('mixing forms or giving nothing is an error', () => {
  assert.throws(() => parseResourceArgs([]), /specify the type/);
  assert.throws(() => parseResourceArgs(['pods', 'pod/x']), /resource\/name form/);
  assert.throws(() => parseResourceArgs(['a/b/c']), /resource\/name form/);
});
