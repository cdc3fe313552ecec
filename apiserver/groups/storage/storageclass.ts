import type { StorageClass } from 'kubernetes-types/storage/v1';
import { base } from '../shared/defs';
import { type FieldError, notSupported, required } from '../shared/fields';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** StorageClass (storage.k8s.io/v1, cluster-scoped). */

export function validateStorageClass(o: StorageClass, old?: StorageClass): FieldError[] {
  const errs: FieldError[] = [];
  if (!o.provisioner) errs.push(required('provisioner'));
  if (o.reclaimPolicy !== undefined && !['Delete', 'Retain'].includes(o.reclaimPolicy)) errs.push(notSupported('reclaimPolicy', o.reclaimPolicy, ['Delete', 'Retain']));
  if (o.volumeBindingMode !== undefined && !['Immediate', 'WaitForFirstConsumer'].includes(o.volumeBindingMode)) errs.push(notSupported('volumeBindingMode', o.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']));
  if (old) for (const f of ['provisioner', 'parameters', 'reclaimPolicy', 'volumeBindingMode'] as const) {
    if (JSON.stringify(old[f]) !== JSON.stringify(o[f])) errs.push({ field: f, reason: 'FieldValueForbidden', message: 'Forbidden: updates to ' + f + ' are forbidden.' });
  }
  return errs;
}

export const STORAGE_CLASS: ResourceDef = {
  ...base, group: 'storage.k8s.io', kind: 'StorageClass', listKind: 'StorageClassList', plural: 'storageclasses', singular: 'storageclass', shortNames: ['sc'],
  namespaced: false,
  defaults(obj) { const o = obj as StorageClass; o.reclaimPolicy ??= 'Delete'; o.volumeBindingMode ??= 'Immediate'; },
  validate: (o, _c, old) => validateStorageClass(o as StorageClass, old as StorageClass | undefined),
  printer: {
    columns: [NAME, ['Provisioner', 'string'], ['ReclaimPolicy', 'string'], ['VolumeBindingMode', 'string'], ['AllowVolumeExpansion', 'string'], AGE],
    cells(obj, now) {
      const o = obj as StorageClass;
      const ann = o.metadata?.annotations ?? {};
      const def = ann['storageclass.kubernetes.io/is-default-class'] === 'true' || ann['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
      return [`${o.metadata?.name}${def ? ' (default)' : ''}`, o.provisioner ?? '', o.reclaimPolicy ?? 'Delete', o.volumeBindingMode ?? 'Immediate', o.allowVolumeExpansion === true ? 'true' : 'false', objectAge(o, now)];
    },
  },
};
