import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cloneJson } from './clone';

test('cloneJson: a deep, independent copy of parsed JSON, "__proto__" keys kept as keys', () => {
  const src = JSON.parse('{"metadata":{"name":"a","labels":{"x":"1"},"finalizers":["f"]},"spec":{"n":null,"list":[{"k":[1,2]}],"b":true},"__proto__":{"polluted":1}}');
  const c = cloneJson(src);
  assert.deepEqual(c, src);
  assert.notEqual(c.metadata, src.metadata);
  c.metadata.labels.x = '2';
  c.spec.list[0].k.push(3);
  assert.equal(src.metadata.labels.x, '1');
  assert.deepEqual(src.spec.list[0].k, [1, 2]);
  assert.equal(Object.getPrototypeOf(c), Object.prototype);
  assert.deepEqual(Object.keys(c), ['metadata', 'spec', '__proto__']);
  assert.equal(({} as any).polluted, undefined);
  assert.equal(c.polluted, undefined);
});

test('cloneJson: values that are not plain JSON go through structuredClone', () => {
  const d = new Date(0);
  const c = cloneJson({ when: d, raw: new Uint8Array([1, 2]) });
  assert.ok(c.when instanceof Date && c.when !== d && c.when.getTime() === 0);
  assert.deepEqual([...c.raw], [1, 2]);
  assert.equal(cloneJson(undefined), undefined);
  assert.equal(cloneJson('s'), 's');
});
