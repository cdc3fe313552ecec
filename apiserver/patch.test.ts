import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergePatch, strategicMerge } from './patch';

test('merge and strategic merge patches', () => {
  assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 } }), { a: 1, b: { d: 3, e: 4 } });
  const orig = { containers: [{ name: 'a', image: 'x', env: [{ name: 'E', value: '1' }] }, { name: 'b', image: 'y' }], finalizers: ['f1', 'f2'] };
  const out = strategicMerge(orig, {
    containers: [{ name: 'a', env: [{ name: 'F', value: '2' }] }, { name: 'b', $patch: 'delete' }],
    '$setElementOrder/containers': [{ name: 'a' }],
    '$deleteFromPrimitiveList/finalizers': ['f1'],
  });
  assert.deepEqual(out, { containers: [{ name: 'a', image: 'x', env: [{ name: 'E', value: '1' }, { name: 'F', value: '2' }] }], finalizers: ['f2'] });
  assert.deepEqual(strategicMerge({ ports: [{ containerPort: 80, name: 'a' }] }, { ports: [{ containerPort: 80, name: 'b' }, { containerPort: 81 }] }), { ports: [{ containerPort: 80, name: 'b' }, { containerPort: 81 }] });
  assert.deepEqual(strategicMerge({ spec: { a: 1, b: 2 } }, { spec: { $patch: 'replace', c: 3 } }), { spec: { c: 3 } });
  assert.deepEqual(strategicMerge({ s: { type: 'RollingUpdate', rollingUpdate: { x: 1 } } }, { s: { $retainKeys: ['type'], type: 'Recreate' } }), { s: { type: 'Recreate' } });
  assert.deepEqual(orig.finalizers, ['f1', 'f2'], 'input untouched');
});
