import type { PersistentVolume } from 'kubernetes-types/core/v1';
import type { Writable } from '../../api-object';
import { accessModes, validateAccessModes } from './volume-fields';
import { withStatus } from '../shared/defs';
import { type FieldError, forbidden, immutable, notSupported, required, validateQuantity } from '../shared/fields';
import { type JsonObject, isObject } from '../../json';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** PersistentVolume (core/v1, cluster-scoped). */

const PV_SOURCES = ['hostPath', 'local', 'nfs', 'csi', 'iscsi', 'fc', 'cephfs', 'rbd', 'azureDisk', 'azureFile', 'gcePersistentDisk', 'awsElasticBlockStore', 'flexVolume', 'glusterfs', 'vsphereVolume', 'portworxVolume', 'scaleIO', 'storageos', 'photonPersistentDisk', 'quobyte', 'cinder', 'flocker'];

export function validatePersistentVolume(pv: PersistentVolume, old?: PersistentVolume): FieldError[] {
  const s = pv.spec;
  if (!isObject(s)) return [required('spec')];
  const errs = validateAccessModes(s.accessModes, 'spec.accessModes');
  if (!isObject(s.capacity) || s.capacity.storage === undefined) errs.push(required('spec.capacity'));
  else errs.push(...validateQuantity(s.capacity.storage, 'spec.capacity[storage]'));
  const n = PV_SOURCES.filter((k) => s[k] !== undefined).length;
  if (n === 0) errs.push(required('spec'));
  else if (n > 1) errs.push({ field: 'spec', reason: 'FieldValueForbidden', message: 'Forbidden: may not specify more than 1 volume type' });
  if (s.persistentVolumeReclaimPolicy !== undefined && !['Retain', 'Delete', 'Recycle'].includes(s.persistentVolumeReclaimPolicy as string)) errs.push(notSupported('spec.persistentVolumeReclaimPolicy', s.persistentVolumeReclaimPolicy, ['Delete', 'Recycle', 'Retain']));
  if (old?.spec) {
    const source = (spec: object) => { const x = spec as JsonObject; return Object.fromEntries(PV_SOURCES.filter((k) => x[k] !== undefined).map((k) => [k, x[k]])); };
    if (immutable('spec', source(s), source(old.spec)).length) errs.push(forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
    errs.push(...immutable('spec.volumeMode', s.volumeMode, old.spec.volumeMode));
  }
  return errs;
}

export const PERSISTENT_VOLUME: ResourceDef = {
  ...withStatus, group: '', kind: 'PersistentVolume', listKind: 'PersistentVolumeList', plural: 'persistentvolumes', singular: 'persistentvolume', shortNames: ['pv'],
  namespaced: false,
  defaults(o: PersistentVolume) { const s = (o.spec ??= {}); s.persistentVolumeReclaimPolicy ??= 'Retain'; s.volumeMode ??= 'Filesystem'; },
  prepareForCreate(o: Writable<PersistentVolume>) { o.status = { phase: 'Pending' }; },
  validate: (o, _c, old) => validatePersistentVolume(o, old),
  printer: {
    columns: [NAME, ['Capacity', 'string'], ['Access Modes', 'string'], ['Reclaim Policy', 'string'], ['Status', 'string'], ['Claim', 'string'],
      ['StorageClass', 'string'], ['VolumeAttributesClass', 'string'], ['Reason', 'string'], AGE, ['VolumeMode', 'string', 1]],
    cells(o: PersistentVolume, now) {
      const ref = o.spec?.claimRef;
      return [o.metadata?.name, o.spec?.capacity?.storage ?? '', accessModes(o.spec?.accessModes), o.spec?.persistentVolumeReclaimPolicy ?? '', o.metadata?.deletionTimestamp ? 'Terminating' : o.status?.phase ?? '',
        ref ? `${ref.namespace}/${ref.name}` : '', o.spec?.storageClassName ?? '', o.spec?.volumeAttributesClassName ?? '<unset>', o.status?.reason ?? '', objectAge(o, now), o.spec?.volumeMode ?? '<unset>'];
    },
  },
};
