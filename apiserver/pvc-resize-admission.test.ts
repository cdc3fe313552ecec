import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { RESIZE_REFUSED, resizeRefusal } from './pvc-resize-admission';
import { storageProtectionAdmission } from './storage-protection-admission';
import { PERSISTENT_VOLUME_CLAIM } from './groups/core/persistentvolumeclaim';
import { PERSISTENT_VOLUME } from './groups/core/persistentvolume';
import { CONFIG_MAP } from './groups/core/configmap';

const pvc = (storage: string, cls?: string): PersistentVolumeClaim => ({ metadata: { name: 'c' }, spec: { storageClassName: cls, resources: { requests: { storage } } } });
const sc = (name: string, allowVolumeExpansion?: boolean): StorageClass => ({ metadata: { name }, provisioner: 'p', allowVolumeExpansion });

test('PersistentVolumeClaimResize: growth only through a class that allows expansion, as Kubernetes; table', () => {
  const classes = [sc('local-path'), sc('gold', true), sc('silver', false)];
  const cases: [string, PersistentVolumeClaim, PersistentVolumeClaim, string | undefined][] = [
    ['same size', pvc('1Gi', 'local-path'), pvc('1Gi', 'local-path'), undefined],
    ['smaller (validation decides)', pvc('1Gi', 'local-path'), pvc('512Mi', 'local-path'), undefined],
    ['grows, class allows expansion', pvc('1Gi', 'gold'), pvc('2Gi', 'gold'), undefined],
    ['grows, class does not say (local-path)', pvc('1Gi', 'local-path'), pvc('2Gi', 'local-path'), RESIZE_REFUSED],
    ['grows, class says false', pvc('1Gi', 'silver'), pvc('2Gi', 'silver'), RESIZE_REFUSED],
    ['grows, no class (a static volume)', pvc('1Gi'), pvc('2Gi'), RESIZE_REFUSED],
    ['grows, class "" (a static volume)', pvc('1Gi', ''), pvc('2Gi', ''), RESIZE_REFUSED],
    ['grows, class unknown', pvc('1Gi', 'nope'), pvc('2Gi', 'nope'), RESIZE_REFUSED],
  ];
  for (const [name, old, next, want] of cases) assert.equal(resizeRefusal(next, old, classes), want, name);
  assert.equal(RESIZE_REFUSED, 'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize');
});

test('StorageObjectInUseProtection: claims and volumes are created with their protection finalizer, once; other kinds untouched', async () => {
  const plugin = storageProtectionAdmission(PERSISTENT_VOLUME_CLAIM, PERSISTENT_VOLUME);
  const cases: [string, typeof PERSISTENT_VOLUME, string[] | undefined, string[] | undefined][] = [
    ['a claim', PERSISTENT_VOLUME_CLAIM, undefined, ['kubernetes.io/pvc-protection']],
    ['a claim with a finalizer of its own', PERSISTENT_VOLUME_CLAIM, ['mine'], ['mine', 'kubernetes.io/pvc-protection']],
    ['a claim that has it already', PERSISTENT_VOLUME_CLAIM, ['kubernetes.io/pvc-protection'], ['kubernetes.io/pvc-protection']],
    ['a volume', PERSISTENT_VOLUME, undefined, ['kubernetes.io/pv-protection']],
    ['a ConfigMap', CONFIG_MAP, undefined, undefined],
  ];
  for (const [name, def, finalizers, want] of cases) {
    const obj = { metadata: { name: 'x', finalizers } };
    await plugin.admit!(def, 'ns', obj);
    assert.deepEqual(obj.metadata.finalizers, want, name);
  }
});
