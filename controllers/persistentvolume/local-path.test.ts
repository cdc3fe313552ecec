import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolume, Pod } from 'kubernetes-types/core/v1';
import { deletionStep } from './local-path';

const pv = (o: { node?: string; path?: string } = {}): PersistentVolume => ({
  metadata: { name: 'pvc-1' },
  spec: {
    hostPath: o.path === '' ? undefined : { path: o.path ?? '/var/lib/st/pvc-1', type: 'DirectoryOrCreate' },
    nodeAffinity: o.node === '' ? undefined : { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [o.node ?? 'n1'] }] }] } },
  },
});
const helper = (phase: string): Pod => ({ metadata: { name: 'helper-pod-delete-pvc-1', namespace: 'kube-system' }, status: { phase } });

test('deletionStep: a helper pod on the node removes the directory, then the volume goes, table', () => {
  const cases: [string, PersistentVolume, Pod | undefined, boolean, string][] = [
    ['no helper yet: create one', pv(), undefined, true, 'createHelper'],
    ['helper running: wait', pv(), helper('Running'), true, 'wait'],
    ['helper succeeded: delete the volume', pv(), helper('Succeeded'), true, 'deleteVolume'],
    ['helper failed: retry', pv(), helper('Failed'), true, 'retry'],
    ['node gone: delete the volume, say the directory stays', pv(), undefined, false, 'deleteVolume node n1 no longer exists; its directory /var/lib/st/pvc-1 was not removed'],
    ['no node affinity: nothing to remove', pv({ node: '' }), undefined, true, 'deleteVolume volume pvc-1 names no node and directory; nothing to remove'],
    ['a relative path is never handed to rm', pv({ path: 'st/pvc-1' }), undefined, true, 'deleteVolume volume pvc-1 names no node and directory; nothing to remove'],
  ];
  for (const [name, v, h, nodeExists, want] of cases) {
    const s = deletionStep(v, h, nodeExists, 'busybox:1.36');
    assert.equal(s.kind === 'deleteVolume' && s.leftBehind ? `deleteVolume ${s.leftBehind}` : s.kind, want, name);
  }
});

test('deletionStep: the helper is pinned to the node and removes only the volume directory', () => {
  const s = deletionStep(pv(), undefined, true, 'busybox:1.36');
  assert.equal(s.kind, 'createHelper');
  if (s.kind !== 'createHelper') return;
  assert.equal(s.pod.spec?.nodeName, 'n1');
  assert.deepEqual(s.pod.spec?.volumes?.[0].hostPath, { path: '/var/lib/st', type: 'DirectoryOrCreate' });
  assert.deepEqual(s.pod.spec?.containers[0].command, ['rm', '-rf', '/data/pvc-1']);
  assert.equal(s.pod.spec?.restartPolicy, 'Never');
});
