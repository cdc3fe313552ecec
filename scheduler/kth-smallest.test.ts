import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kthSmallest } from './kth-smallest';

test('kthSmallest gives what sort()[k] gives, table and random', () => {
  const cases: [string[], number, string][] = [
    [['b'], 0, 'b'],
    [['b', 'a'], 0, 'a'],
    [['b', 'a'], 1, 'b'],
    [['node-10', 'node-2', 'node-1'], 1, 'node-10'],
    [['a', 'a', 'b', 'a'], 3, 'b'],
    [['Z', 'a', 'é', 'e'], 2, 'e'],
  ];
  for (const [a, k, want] of cases) assert.equal(kthSmallest([...a], k), want, `${a}[${k}]`);
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  for (let round = 0; round < 200; round++) {
    const a = Array.from({ length: 1 + rnd(60) }, () => `n-${rnd(round % 2 ? 10 : 1000)}`);
    const k = rnd(a.length);
    assert.equal(kthSmallest([...a], k), [...a].sort()[k], `${a.join(' ')}[${k}]`);
  }
});
