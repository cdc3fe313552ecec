import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameObject } from './same-object';
import { isObject, objectOr } from './json';

/** The definition: JSON with sorted keys, undefined members dropped, top-level metadata.resourceVersion ignored. */
function byCanonicalJson(a: unknown, b: unknown): boolean {
  const canon = (v: unknown, top = false): unknown => {
    if (Array.isArray(v)) return v.map((x) => canon(x));
    if (!isObject(v)) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      if (v[k] === undefined) continue;
      out[k] = top && k === 'metadata' ? canon({ ...objectOr(v[k]), resourceVersion: undefined }) : canon(v[k]);
    }
    return out;
  };
  return JSON.stringify(canon(a, true)) === JSON.stringify(canon(b, true));
}

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', resourceVersion: '5', labels: { x: 'y' } }, spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }] } };

test('sameObject: the same answer as comparing JSON with sorted keys', () => {
  const cases: [string, unknown, unknown, boolean][] = [
    ['identical', pod, structuredClone(pod), true],
    ['only resourceVersion differs', pod, { ...pod, metadata: { ...pod.metadata, resourceVersion: '6' } }, true],
    ['resourceVersion absent on one side', pod, { ...pod, metadata: { name: 'a', labels: { x: 'y' } } }, true],
    ['key order', { b: 1, a: { d: [1, 2], c: null } }, { a: { c: null, d: [1, 2] }, b: 1 }, true],
    ['undefined member vs absent', { a: 1, b: undefined }, { a: 1 }, true],
    ['undefined member vs null', { a: 1, b: undefined }, { a: 1, b: null }, false],
    ['undefined array item is null', { a: [undefined] }, { a: [null] }, true],
    ['array order matters', { a: [1, 2] }, { a: [2, 1] }, false],
    ['array length', { a: [1] }, { a: [1, 1] }, false],
    ['nested value', pod, { ...pod, spec: { containers: [{ name: 'c', image: 'j', ports: [{ containerPort: 80 }] }] } }, false],
    ['a member added', pod, { ...pod, status: {} }, false],
    ['a label added', pod, { ...pod, metadata: { ...pod.metadata, labels: { x: 'y', z: '1' } } }, false],
    ['resourceVersion below the top is content', { spec: { resourceVersion: '1' } }, { spec: { resourceVersion: '2' } }, false],
    ['metadata missing on one side', { a: 1, metadata: {} }, { a: 1 }, false],
    ['metadata with only resourceVersion vs none', { metadata: { resourceVersion: '1' } }, {}, false],
    ['number vs string', { a: 1 }, { a: '1' }, false],
    ['NaN serialises as null', { a: NaN }, { a: null }, true],
    ['object vs array', { a: {} }, { a: [] }, false],
    ['empty object vs null', { a: {} }, { a: null }, false],
    ['primitives', 3, 3, true],
    ['null vs object', null, {}, false],
  ];
  for (const [name, a, b, want] of cases) {
    assert.equal(byCanonicalJson(a, b), want, `${name}: the definition`);
    assert.equal(sameObject(a, b), want, name);
    assert.equal(sameObject(b, a), want, `${name} (swapped)`);
  }
});
