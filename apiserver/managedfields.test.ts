import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldsOf, toFieldsV1, updateManagedFields } from './managedfields';
import { PRIMITIVE_MERGE, mergeKeyFor } from './patch';
import { isObject } from './json';

/** The definition of a field set: every path as an array of elements, serialised whole. */
function fieldsByPathArrays(obj: unknown, subresource?: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: unknown, path: string[], field: string): void => {
    if (isObject(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0) { out.set(JSON.stringify(path), '{}'); return; }
      for (const k of keys) walk(v[k], [...path, `f:${k}`], k);
      return;
    }
    if (Array.isArray(v)) {
      const key = field === 'ownerReferences' ? 'uid' : mergeKeyFor(field, v, undefined);
      if (key && v.length > 0 && v.every((it) => isObject(it) && it[key] !== undefined)) {
        for (const it of v) {
          const item = [...path, `k:${JSON.stringify({ [key]: it[key] })}`];
          out.set(JSON.stringify([...item, '.']), '');
          for (const k of Object.keys(it)) walk(it[k], [...item, `f:${k}`], k);
        }
        return;
      }
      if (PRIMITIVE_MERGE.has(field) && v.every((it) => !isObject(it) && !Array.isArray(it))) {
        for (const it of v) out.set(JSON.stringify([...path, `v:${JSON.stringify(it)}`]), '');
        return;
      }
    }
    out.set(JSON.stringify(path), JSON.stringify(v ?? null));
  };
  if (!isObject(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if ((subresource === 'status' || subresource === 'approval') !== (k === 'status')) continue;
    if (k === 'metadata') {
      if (!isObject(v)) continue;
      for (const mk of ['labels', 'annotations', 'finalizers', 'ownerReferences']) if (v[mk] !== undefined) walk(v[mk], ['f:metadata', `f:${mk}`], mk);
      continue;
    }
    walk(v, [`f:${k}`], k);
  }
  return out;
}

const pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: {
    name: 'web', labels: { app: 'web', 'quote"d': 'x' }, annotations: {}, finalizers: ['a/b', 'c'],
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'u-1', controller: true }],
  },
  spec: {
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    containers: [
      { name: 'app', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 1'], ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: 'é\u2028' }], resources: { requests: { cpu: '100m' } } },
      { name: 'side', image: 'pause', securityContext: {} },
    ],
    tolerations: [{ key: 'k', operator: 'Exists' }],
    volumes: [{ name: 'v', emptyDir: {} }],
    priority: 0, hostNetwork: false, dnsConfig: null,
  },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null }], podIPs: [{ ip: '10.0.0.1' }], containerStatuses: [{ name: 'app', ready: true, state: { running: { startedAt: 't' } } }] },
};

test('fieldsOf: the same paths and values as serialising each path array', () => {
  const cases: [string, unknown, string | undefined][] = [
    ['a pod', pod, undefined],
    ['a pod\'s status', pod, 'status'],
    ['a keyed list with an item lacking the key (atomic)', { spec: { containers: [{ name: 'a' }, { image: 'x' }] } }, undefined],
    ['an empty list and nested empties', { spec: { containers: [], a: { b: {} }, c: [[]] } }, undefined],
    ['not an object', 'x', undefined],
  ];
  for (const [name, obj, sub] of cases) assert.deepEqual(fieldsOf(obj, sub), fieldsByPathArrays(obj, sub), name);
});

test('updateManagedFields: a status write gives its manager the status fields it changed', () => {
  const created = updateManagedFields([], {}, pod, { manager: 'kubectl', apiVersion: 'v1', time: 't0' });
  assert.deepEqual(created.map((e) => e.manager), ['kubectl']);
  const next = structuredClone(pod);
  next.status.phase = 'Succeeded';
  const after = updateManagedFields(created, pod, next, { manager: 'kubelet', apiVersion: 'v1', time: 't1', subresource: 'status' });
  assert.deepEqual(after.map((e) => [e.manager, e.subresource ?? '']), [['kubectl', ''], ['kubelet', 'status']]);
  assert.deepEqual(after[1]!.fieldsV1, toFieldsV1([JSON.stringify(['f:status', 'f:phase'])]));
});
