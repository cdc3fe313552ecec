import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './errors';
import { boolParam, param, params, parseBool } from './query';

test('parseBool reads booleans as Go strconv.ParseBool does', () => {
  for (const v of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parseBool('watch', v), true, v);
  for (const v of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseBool('watch', v), false, v);
  for (const v of ['yes', 'tRUE', 'on', '2', ' true', 'y']) {
    assert.throws(() => parseBool('watch', v), (e: unknown) => e instanceof ApiError && e.code === 400 && e.message.startsWith('watch: Invalid value'), v);
  }
});

test('boolParam: absent or empty gives the default; the last of repeated values counts', () => {
  assert.equal(boolParam({}, 'follow'), false);
  assert.equal(boolParam({}, 'stdout', true), true);
  assert.equal(boolParam({ follow: '' }, 'follow', true), true);
  assert.equal(boolParam({ follow: 'True' }, 'follow'), true);
  assert.equal(boolParam({ follow: ['true', 'F'] }, 'follow', true), false);
  assert.throws(() => boolParam({ force: 'maybe' }, 'force'), /force: Invalid value: "maybe"/);
});

test('param and params', () => {
  assert.equal(param({ limit: ['1', '2'] }, 'limit'), '2');
  assert.equal(param({}, 'limit'), undefined);
  assert.deepEqual(params({ command: 'ls' }, 'command'), ['ls']);
  assert.deepEqual(params({ command: ['ls', '-l'] }, 'command'), ['ls', '-l']);
  assert.deepEqual(params({}, 'command'), []);
});
