import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sinceUnix } from './log-options';

test('sinceSeconds and sinceTime become Unix seconds', () => {
  assert.equal(sinceUnix(1_700_000_010_000, 10), 1_700_000_000);
  assert.equal(sinceUnix(0, undefined, '2023-11-14T22:13:20Z'), 1_700_000_000);
  assert.equal(sinceUnix(0, undefined, 'garbage'), 0);
  assert.equal(sinceUnix(5_000), 0);
});
