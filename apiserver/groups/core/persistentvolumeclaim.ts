import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { Writable } from '../../api-object';
import { accessModes, validateAccessModes } from './volume-fields';
import { withStatus } from '../shared/defs';
import { type FieldError, required, validateQuantity } from '../shared/fields';
import { isObject, objectOr } from '../../json';
import { parseQuantity } from '../../../lib/quantity';
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
  if (old) errs.push(...validateClaimUpdate(pvc, old));
  return errs;
}

/** Key order does not matter. */
const canon = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (isObject(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x));

/**
 * Kubernetes' rules for a claim update (1.32, with RecoverVolumeExpansionFailure on): the spec
 * is immutable, except that `volumeName` may be set once (binding) and a Bound claim's storage
 * request may change. It may grow (whether the class allows that is PersistentVolumeClaimResize
 * admission's call, pvc-resize-admission.ts) and may come back down only while it stays above
 * `status.capacity` (undoing an expansion that has not happened): a volume never shrinks.
 */
function validateClaimUpdate(pvc: PersistentVolumeClaim, old: PersistentVolumeClaim): FieldError[] {
  const errs: FieldError[] = [];
  const bound = pvc.status?.phase === 'Bound';
  const comparable = (spec: PersistentVolumeClaim['spec'], volumeName: string | undefined) => {
    const requests = { ...objectOr(objectOr(spec?.resources).requests) };
    if (bound) delete requests.storage;
    return canon({ ...spec, resources: { ...objectOr(spec?.resources), requests }, volumeName });
  };
  if (comparable(old.spec, old.spec?.volumeName) !== comparable(pvc.spec, old.spec?.volumeName ? pvc.spec?.volumeName : undefined)) {
    errs.push({ field: 'spec', reason: 'FieldValueForbidden', message: 'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims' });
  }
  const size = (q: unknown) => parseQuantity(q) ?? 0;
  const next = size(pvc.spec?.resources?.requests?.storage);
  if (next < size(old.spec?.resources?.requests?.storage) && next <= size(old.status?.capacity?.storage)) {
    errs.push({ field: 'spec.resources.requests.storage', reason: 'FieldValueForbidden', message: 'Forbidden: field can not be less than status.capacity' });
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
