import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCidr, parseCidr } from '../../lib/ipv4';
import { subtractCidrs } from './cidr';

const c = (s: string) => parseCidr(s)!;
const sub = (cidr: string, ...ex: string[]) => subtractCidrs(c(cidr), ex.map(c)).map(formatCidr);

test('subtractCidrs: an ipBlock minus its excepts as disjoint blocks', () => {
  const cases: [string, string[], string[]][] = [
    ['10.0.0.0/8', [], ['10.0.0.0/8']],
    ['10.0.0.0/8', ['192.168.0.0/16'], ['10.0.0.0/8']],
    ['10.0.0.0/24', ['10.0.0.0/8'], []],
    ['10.0.0.0/24', ['10.0.0.0/24'], []],
    ['10.0.0.0/24', ['10.0.0.128/25'], ['10.0.0.0/25']],
    ['10.0.0.0/24', ['10.0.0.5/32'], ['10.0.0.0/30', '10.0.0.4/32', '10.0.0.6/31', '10.0.0.8/29', '10.0.0.16/28', '10.0.0.32/27', '10.0.0.64/26', '10.0.0.128/25']],
    ['0.0.0.0/0', ['128.0.0.0/1'], ['0.0.0.0/1']],
    ['10.0.0.0/30', ['10.0.0.0/32', '10.0.0.3/32'], ['10.0.0.1/32', '10.0.0.2/32']],
  ];
  for (const [cidr, ex, want] of cases) assert.deepEqual(sub(cidr, ...ex), want, `${cidr} except ${ex.join(',')}`);
});

test('subtractCidrs: every address of the block is kept exactly when no except holds it', () => {
  const block = c('10.1.2.0/26');
  const ex = [c('10.1.2.9/32'), c('10.1.2.16/29'), c('10.1.2.40/30')];
  const parts = subtractCidrs(block, ex);
  const inBlock = (ip: number, b: { base: number; prefix: number }) => ip >>> (32 - b.prefix) === b.base >>> (32 - b.prefix);
  for (let ip = block.base; ip < block.base + 64; ip++) {
    const excepted = ex.some((e) => inBlock(ip, e));
    const kept = parts.filter((p) => inBlock(ip, p)).length;
    assert.equal(kept, excepted ? 0 : 1, `address ${ip - block.base}`);
  }
});
