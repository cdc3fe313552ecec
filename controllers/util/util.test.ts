import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesSelector, matchesMap, selectorString } from './selectors';
import { canonicalJson, computeHash } from './hash';
import { slowStartBatch } from './batch';
import { isPodAvailable } from './pods';

test('matchesSelector: table', () => {
  const cases: [Parameters<typeof matchesSelector>[0], Record<string, string> | undefined, boolean][] = [
    [{ matchLabels: { app: 'a' } }, { app: 'a', x: 'y' }, true],
    [{ matchLabels: { app: 'a' } }, { app: 'b' }, false],
    [{}, { any: 'thing' }, true],
    [undefined, { app: 'a' }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe', 'be'] }] }, { tier: 'be' }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe'] }] }, {}, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['fe'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, { tier: '' }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, { tier: 'x' }, false],
  ];
  for (const [sel, labels, want] of cases) assert.equal(matchesSelector(sel, labels), want, JSON.stringify({ sel, labels }));
  assert.equal(matchesMap({}, { a: 'b' }), false);
  assert.equal(matchesMap({ a: 'b' }, { a: 'b', c: 'd' }), true);
  assert.equal(selectorString({ matchLabels: { b: '2', a: '1' }, matchExpressions: [{ key: 'c', operator: 'Exists' }] }), 'a=1,b=2,c');
});

test('hash is canonical (key order does not matter), stable and safe-alphabet', () => {
  assert.equal(canonicalJson({ b: 1, a: [1, { d: 2, c: undefined }] }), '{"a":[1,{"d":2}],"b":1}');
  const t1 = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
  const t2 = { spec: { containers: [{ image: 'busybox', name: 'c' }] }, metadata: { labels: { app: 'web' } } };
  assert.equal(computeHash(t1), computeHash(t2));
  assert.notEqual(computeHash(t1), computeHash(t1, 1));
  assert.match(computeHash(t1), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.equal(computeHash(t1), computeHash(JSON.parse(JSON.stringify(t1))));
});

test('slowStartBatch doubles batches and stops at the first failing batch', async () => {
  const calls: number[] = [];
  const r = await slowStartBatch(10, 1, async (i) => {
    calls.push(i);
  });
  assert.deepEqual(r, { successes: 10, errors: [] });
  assert.equal(calls.length, 10);
  let n = 0;
  const r2 = await slowStartBatch(10, 1, async () => {
    n++;
    if (n >= 2) throw new Error('quota');
  });
  assert.equal(r2.successes, 1);
  assert.equal(r2.errors.length, 2);
  assert.equal(n, 3, 'batches 1 and 2, then stop');
});

test('isPodAvailable honours minReadySeconds', () => {
  const pod = { status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] } };
  const t0 = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(isPodAvailable(pod, 0, t0), true);
  assert.equal(isPodAvailable(pod, 10, t0 + 5000), false);
  assert.equal(isPodAvailable(pod, 10, t0 + 10000), true);
});
