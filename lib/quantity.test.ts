import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuantity, cpuMillis, bytesOf, countOf } from './quantity';

test('parseQuantity: table', () => {
  const cases: [string | number | undefined, number | undefined][] = [
    ['1', 1],
    ['0', 0],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['100m', 0.1],
    ['1Ki', 1024],
    ['4Gi', 4 * 2 ** 30],
    ['128Mi', 128 * 2 ** 20],
    ['1k', 1000],
    ['1M', 1e6],
    ['1G', 1e9],
    ['1e3', 1000],
    ['12E-1', 1.2],
    ['5E', 5e18],
    [2, 2],
    ['', undefined],
    ['abc', undefined],
    ['1Kb', undefined],
    ['1 Gi', undefined],
    [undefined, undefined],
  ];
  for (const [input, want] of cases) {
    const got = parseQuantity(input);
    if (want === undefined) assert.equal(got, undefined, String(input));
    else assert.ok(got !== undefined && Math.abs(got - want) < 1e-9 * Math.max(1, want), `${input}: ${got} != ${want}`);
  }
});

test('cpuMillis / bytesOf / countOf', () => {
  const cpu: [string | undefined, number][] = [['2', 2000], ['250m', 250], ['0.1', 100], ['1.0005', 1001], ['1m', 1], [undefined, 0], ['0.5', 500]];
  for (const [q, want] of cpu) assert.equal(cpuMillis(q), want, String(q));
  const mem: [string, number][] = [['4Gi', 4294967296], ['100M', 1e8], ['1.5Ki', 1536], ['512', 512], ['1e3', 1000]];
  for (const [q, want] of mem) assert.equal(bytesOf(q), want, q);
  assert.equal(countOf('110'), 110);
  assert.equal(countOf(undefined), 0);
});
