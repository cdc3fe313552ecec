import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairUpdate, parsePairs, splitResourcesAndPairs } from './label';

test('resources come before pairs', () => {
  assert.deepEqual(splitResourcesAndPairs(['deploy', 'web', 'a=1', 'b-'], 'label'), { resources: ['deploy', 'web'], pairs: ['a=1', 'b-'] });
  assert.throws(() => splitResourcesAndPairs(['deploy', 'a=1', 'web'], 'label'), /^Error: all resources must be specified before label changes: web$/);
});

test('pair syntax errors in kubectl words', () => {
  assert.throws(() => parsePairs(['a=b=c'], 'label'), /^Error: invalid label spec: a=b=c$/);
  assert.throws(() => parsePairs(['a'], 'label'), /^Error: unknown label spec: a$/);
  assert.throws(() => parsePairs(['a=-x'], 'label'), /^Error: invalid label value: "a=-x": a valid label must be an empty string/);
  assert.throws(() => parsePairs(['a=1', 'a-'], 'label'), /^Error: can not both modify and remove a label in the same command$/);
  assert.throws(() => parsePairs(['a', 'b'], 'annotation'), /^Error: invalid annotation format: a, b$/);
  assert.deepEqual(parsePairs(['url=http://x/?a=b', 'old-'], 'annotation'), { set: new Map([['url', 'http://x/?a=b']]), remove: ['old'] });
});

test('label outcomes and the --overwrite error', () => {
  const set = (k: string, v: string) => new Map([[k, v]]);
  assert.deepEqual(pairUpdate('label', { app: 'web' }, set('tier', 'front'), [], false), { patch: { metadata: { labels: { tier: 'front' } } }, outcome: 'labeled', missing: [] });
  assert.equal(pairUpdate('label', { app: 'web' }, set('app', 'web'), [], false).outcome, 'not labeled');
  assert.deepEqual(pairUpdate('label', { app: 'web' }, new Map(), ['app', 'gone'], false), { patch: { metadata: { labels: { app: null } } }, outcome: 'unlabeled', missing: ['gone'] });
  assert.equal(pairUpdate('label', { app: 'web' }, set('x', '1'), ['app'], false).outcome, 'modified');
  assert.throws(() => pairUpdate('label', { app: 'web' }, set('app', 'db'), [], false), /^Error: 'app' already has a value \(web\), and --overwrite is false$/);
  assert.equal(pairUpdate('label', { app: 'web' }, set('app', 'db'), [], true).outcome, 'labeled');
});

test('annotate: always "annotated"; the overwrite error lists every clash', () => {
  assert.equal(pairUpdate('annotation', {}, new Map(), ['x'], false).outcome, 'annotated');
  assert.throws(
    () => pairUpdate('annotation', { a: '1', b: '2' }, new Map([['a', '9'], ['b', '8']]), [], false),
    /^Error: --overwrite is false but found the following declared annotation\(s\): 'a' already has a value \(1\); 'b' already has a value \(2\)$/,
  );
  assert.equal(pairUpdate('annotation', { 'kubernetes.io/change-cause': 'x' }, new Map([['kubernetes.io/change-cause', 'y']]), [], false).outcome, 'annotated');
});
