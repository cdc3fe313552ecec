import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLimiter } from './byte-limiter';

test('the byte limiter truncates the total and reports done', () => {
  const l = new ByteLimiter(5);
  assert.equal(l.take(Buffer.from('abc')).toString(), 'abc');
  assert.equal(l.done, false);
  assert.equal(l.take(Buffer.from('defg')).toString(), 'de');
  assert.equal(l.done, true);
  assert.equal(l.take(Buffer.from('h')).length, 0);
  const none = new ByteLimiter(0);
  assert.equal(none.take(Buffer.from('abc')).toString(), 'abc');
  assert.equal(none.done, false);
});
