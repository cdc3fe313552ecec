import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCidr, parseCidr } from '../../lib/ipv4';
import { allocateCidr } from './cidr';

test('parseCidr normalizes and rejects garbage', () => {
  assert.equal(formatCidr(parseCidr('10.244.3.7/16')!), '10.244.0.0/16');
  for (const bad of ['10.244.0.0', '10.244.0.0/33', '300.1.1.1/8', 'x/8', '1.2.3/8']) assert.equal(parseCidr(bad), undefined, bad);
});

test('allocateCidr: table', () => {
  const cluster = parseCidr('10.244.0.0/16')!;
  const cases: [string[], string | undefined][] = [
    [[], '10.244.0.0/24'],
    [['10.244.0.0/24'], '10.244.1.0/24'],
    [['10.244.0.0/24', '10.244.2.0/24'], '10.244.1.0/24'],
    [['10.245.0.0/24', '10.244.0.0/25'], '10.244.0.0/24'],
    [Array.from({ length: 256 }, (_, i) => `10.244.${i}.0/24`), undefined],
  ];
  for (const [used, want] of cases) assert.equal(allocateCidr(cluster, 24, used), want, JSON.stringify(used.slice(0, 3)));
  assert.equal(allocateCidr(parseCidr('10.0.0.0/8')!, 24, []), '10.0.0.0/24');
  assert.throws(() => allocateCidr(cluster, 8, []));
});
