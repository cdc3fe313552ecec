import test from 'node:test';
import assert from 'node:assert/strict';
import { ttlCell } from './token';

test('token list TTL cell: time left, never, expired', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(ttlCell(undefined, now), '<forever>');
  assert.equal(ttlCell('2026-01-01T23:00:00Z', now), '23h (2026-01-01T23:00:00Z)');
  assert.equal(ttlCell('2025-12-31T23:59:59Z', now), '<expired> (2025-12-31T23:59:59Z)');
});
