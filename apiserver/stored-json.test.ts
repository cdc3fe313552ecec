import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withResourceVersion } from './stored-json';
import { decodeKv } from './watchcache';
import { encode } from './resources';
import type { ApiObject } from './api-object';

/** What the spliced text must equal: the parsed object, its resourceVersion set, serialised. */
function byStringify(text: string, rv: string): string {
  const obj = JSON.parse(text) as { metadata: Record<string, unknown> };
  obj.metadata.resourceVersion = rv;
  return JSON.stringify(obj);
}

test('withResourceVersion: the stored text with resourceVersion added, as JSON.stringify of the parsed object', () => {
  const objects: unknown[] = [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'ns', labels: { 'a"metadata": {': '}]' }, managedFields: [{ fieldsV1: { 'f:metadata': { 'k:{"name":"x"}': {} } } }] }, spec: { containers: [{ name: 'c', args: ['"metadata":{', '\\', '}'] }] } },
    { kind: 'Event', apiVersion: 'v1', message: '"metadata":{"x":1}', metadata: {} },
    { data: { metadata: { nested: true } }, metadata: { name: 'n', annotations: { '\\': '\\"' } } },
    { metadata: { name: 'é😀\u2028' }, list: [[], {}, [{}]] },
  ];
  for (const o of objects) {
    const text = encode(o as ApiObject).toString();
    assert.equal(withResourceVersion(text, '42'), byStringify(text, '42'), text);
  }
  // no metadata object at the top: the caller serialises
  assert.equal(withResourceVersion('{"kind":"X","spec":{"metadata":{}}}', '1'), undefined);
  assert.equal(withResourceVersion('{"metadata":null}', '1'), undefined);
  assert.equal(withResourceVersion('{"kind":"metadata","x":[]}', '1'), undefined);
});

test('decodeKv: the served JSON equals the object it returns, also for values the storage did not write', () => {
  const kv = (value: string) => ({ key: '/k', value: Buffer.from(value), createRevision: 1, modRevision: 7, version: 1 });
  for (const value of [
    encode({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { x: '1' } } as unknown as ApiObject).toString(),
    '{"kind":"X"}',
    '{"metadata":{"name":"a","resourceVersion":"3"},"x":1}',
    '{"metadata":null}',
  ]) {
    const c = decodeKv(kv(value));
    assert.equal(c.json, JSON.stringify(c.obj), value);
    assert.equal(c.obj.metadata.resourceVersion, '7');
  }
});
