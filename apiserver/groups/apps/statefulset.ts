import type { StatefulSet, StatefulSetSpec } from 'kubernetes-types/apps/v1';
import { replicasScale } from '../autoscaling/scale';
import { withStatus } from '../shared/defs';
import { type FieldError, invalid, nonNegInt, notSupported, required } from '../shared/fields';
import { isObject, objectOr } from '../../json';
import { templateDefaults, validateSelectorAndTemplate } from '../shared/pod-template';
import { AGE, images, NAME, names, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** StatefulSet (apps/v1), with the Scale subresource. */

function validateStatefulSet(o: StatefulSet, old?: StatefulSet): FieldError[] {
  const s = o.spec;
  if (!isObject(s)) return [required('spec')];
  const errs = validateSelectorAndTemplate(s);
  if (s.replicas !== undefined && !nonNegInt(s.replicas)) errs.push(invalid('spec.replicas', s.replicas, 'must be greater than or equal to 0'));
  if (s.podManagementPolicy !== undefined && !['OrderedReady', 'Parallel'].includes(s.podManagementPolicy as string)) errs.push(notSupported('spec.podManagementPolicy', s.podManagementPolicy, ['OrderedReady', 'Parallel']));
  const strategyType = objectOr(s.updateStrategy).type;
  if (strategyType !== undefined && !['RollingUpdate', 'OnDelete'].includes(strategyType as string)) errs.push(notSupported('spec.updateStrategy.type', strategyType, ['OnDelete', 'RollingUpdate']));
  if (old) {
    const frozen = (x: StatefulSet) => JSON.stringify({ ...x.spec, replicas: 0, template: 0, updateStrategy: 0, persistentVolumeClaimRetentionPolicy: 0, minReadySeconds: 0, ordinals: 0, revisionHistoryLimit: 0 });
    if (frozen(o) !== frozen(old)) errs.push({ field: 'spec', reason: 'FieldValueForbidden', message: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden" });
  }
  return errs;
}

export const STATEFUL_SET: ResourceDef = {
  ...withStatus, group: 'apps', kind: 'StatefulSet', listKind: 'StatefulSetList', plural: 'statefulsets', singular: 'statefulset', shortNames: ['sts'],
  categories: ['all'], subresources: ['status', 'scale'],
  strategy: { scale: replicasScale },
  defaults(o: StatefulSet) {
    const s = (o.spec ??= {} as StatefulSetSpec); // a missing spec becomes {}; validation then reports its required fields
    s.replicas ??= 1;
    s.podManagementPolicy ??= 'OrderedReady';
    s.updateStrategy ??= { type: 'RollingUpdate' };
    if (s.updateStrategy.type === 'RollingUpdate') { s.updateStrategy.rollingUpdate ??= {}; s.updateStrategy.rollingUpdate.partition ??= 0; }
    s.revisionHistoryLimit ??= 10;
    s.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
    templateDefaults(s.template);
  },
  prepareForCreate(o: StatefulSet) { o.status = { replicas: 0, availableReplicas: 0 }; },
  validate: (o, _c, old) => validateStatefulSet(o, old),
  printer: {
    columns: [NAME, ['Ready', 'string'], AGE, ['Containers', 'string', 1], ['Images', 'string', 1]],
    cells(o: StatefulSet, now) {
      const cs = o.spec?.template?.spec?.containers;
      return [o.metadata?.name, `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`, objectAge(o, now), names(cs), images(cs)];
    },
  },
};
