import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { Writable } from '../../api-object';
import { accessModes, validateAccessModes } from './volume-fields';
import { withStatus } from '../shared/defs';
import { type FieldError, required, validateQuantity } from '../shared/fields';
import { isObject, objectOr } from '../../json';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** PersistentVolumeClaim (core/v1). */

export function validatePersistentVolumeClaim(pvc: PersistentVolumeClaim, old?: PersistentVolumeClaim): FieldError[] {
  const s = pvc.spec;
  if (!isObject(s)) return [required('spec')];
  const errs = validateAccessModes(s.accessModes, 'spec.accessModes');
  const storage = objectOr(objectOr(s.resources).requests).storage;
  if (storage === undefined) errs.push(required('spec.resources[storage]'));
  else errs.push(...validateQuantity(storage, 'spec.resources[storage]'));
  // volumeName may be set once (binding), never changed; resources.requests may change
  if (old && JSON.stringify({ ...old.spec, resources: undefined }) !== JSON.stringify({ ...s, resources: undefined, volumeName: old.spec?.volumeName ? s.volumeName : undefined })) {
    errs.push({ field: 'spec', reason: 'FieldValueForbidden', message: 'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims' });
  }
  return errs;
}

export const PERSISTENT_VOLUME_CLAIM: ResourceDef = {
  ...withStatus, group: '', kind: 'PersistentVolumeClaim', listKind: 'PersistentVolumeClaimList', plural: 'persistentvolumeclaims', singular: 'persistentvolumeclaim',
  shortNames: ['pvc'],
  defaults(o: PersistentVolumeClaim) { const s = (o.spec ??= {}); s.volumeMode ??= 'Filesystem'; },
  prepareForCreate(o: Writable<PersistentVolumeClaim>) { o.status = { phase: 'Pending' }; },
  validate: (o, _c, old) => validatePersistentVolumeClaim(o, old),
  printer: {
    columns: [NAME, ['Status', 'string'], ['Volume', 'string'], ['Capacity', 'string'], ['Access Modes', 'string'], ['StorageClass', 'string'],
      ['VolumeAttributesClass', 'string'], AGE, ['VolumeMode', 'string', 1]],
    cells(o: PersistentVolumeClaim, now) {
      const bound = o.spec?.volumeName;
      return [o.metadata?.name, o.metadata?.deletionTimestamp ? 'Terminating' : o.status?.phase ?? '', bound ?? '', bound ? o.status?.capacity?.storage ?? '' : '',
        bound ? accessModes(o.status?.accessModes) : '', o.spec?.storageClassName ?? '', o.spec?.volumeAttributesClassName ?? '<unset>', objectAge(o, now), o.spec?.volumeMode ?? '<unset>'];
    },
  },
};
