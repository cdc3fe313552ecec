import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inServiceRange, parseServiceCidr, pickFree, pickServiceIP } from './allocators';

test('allocators: CIDR membership, free values, service IPs', () => {
  const c = parseServiceCidr('10.96.0.0/12');
  assert.ok(inServiceRange(c, '10.111.255.254') && !inServiceRange(c, '10.112.0.1') && !inServiceRange(c, '10.96.0.0'));
  assert.equal(pickFree(1, 3, new Set([1, 2])), 3);
  assert.equal(pickFree(1, 2, new Set([1, 2])), undefined);
  assert.notEqual(pickServiceIP(parseServiceCidr('10.0.0.0/30'), []), '10.0.0.1');
});
