import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boolParam, param, params } from './query';

test('boolParam reads a boolean as apimachinery does: absent, "0" and "false" (any case) are false; anything else is true', () => {
  assert.equal(boolParam({}, 'watch'), false);
  for (const v of ['0', 'false', 'False', 'FALSE', 'fAlSe']) assert.equal(boolParam({ watch: v }, 'watch'), false, v);
  for (const v of ['1', 'true', 'True', 'TRUE', 't', 'yes', '', 'anything']) assert.equal(boolParam({ watch: v }, 'watch'), true, JSON.stringify(v));
});

test('a repeated parameter counts by its first value', () => {
  assert.equal(boolParam({ follow: ['true', 'false'] }, 'follow'), true);
  assert.equal(boolParam({ follow: ['0', 'true'] }, 'follow'), false);
  assert.equal(param({ limit: ['1', '2'] }, 'limit'), '1');
});

test('param and params', () => {
  assert.equal(param({}, 'limit'), undefined);
  assert.deepEqual(params({ command: 'ls' }, 'command'), ['ls']);
  assert.deepEqual(params({ command: ['ls', '-l'] }, 'command'), ['ls', '-l']);
  assert.deepEqual(params({}, 'command'), []);
});
