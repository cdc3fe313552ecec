import type { StatefulSet, StatefulSetSpec } from 'kubernetes-types/apps/v1';
import { replicasScale } from '../autoscaling/scale';
import { withStatus } from '../shared/defs';
import { duplicate, type FieldError, forbidden, invalid, nonNegInt, notSupported, required } from '../shared/fields';
import { isObject, objectOr } from '../../json';
import { templateDefaults, validateSelectorAndTemplate } from '../shared/pod-template';
import { AGE, images, NAME, names, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** StatefulSet (apps/v1), with the Scale subresource. */

/**
 * Kubernetes' ValidateStatefulSetSpec (apps/validation). As upstream,
 * `serviceName` may be empty: the apiserver never required it (only the
 * OpenAPI schema of older releases marked it so, and 1.32 dropped that).
 */
export function validateStatefulSet(o: StatefulSet, old?: StatefulSet): FieldError[] {
  const s = o.spec;
  if (!isObject(s)) return [required('spec')];
  const errs = validateSelectorAndTemplate(s);
  if (s.replicas !== undefined && !nonNegInt(s.replicas)) errs.push(invalid('spec.replicas', s.replicas, 'must be greater than or equal to 0'));
  if (s.minReadySeconds !== undefined && !nonNegInt(s.minReadySeconds)) errs.push(invalid('spec.minReadySeconds', s.minReadySeconds, 'must be greater than or equal to 0'));
  if (s.podManagementPolicy !== undefined && !['OrderedReady', 'Parallel'].includes(s.podManagementPolicy as string)) errs.push(invalid('spec.podManagementPolicy', s.podManagementPolicy, "must be 'OrderedReady' or 'Parallel'"));
  const strategy = objectOr(s.updateStrategy);
  const strategyType = strategy.type;
  if (strategyType !== undefined && !['RollingUpdate', 'OnDelete'].includes(strategyType as string)) errs.push(notSupported('spec.updateStrategy.type', strategyType, ['OnDelete', 'RollingUpdate']));
  if (strategyType === 'OnDelete' && strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) errs.push(invalid('spec.updateStrategy.rollingUpdate', strategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
  const ru = objectOr(strategy.rollingUpdate);
  if (ru.partition !== undefined && !nonNegInt(ru.partition)) errs.push(invalid('spec.updateStrategy.rollingUpdate.partition', ru.partition, 'must be greater than or equal to 0'));
  if (ru.maxUnavailable !== undefined) errs.push(...validateMaxUnavailable(ru.maxUnavailable));
  const ordStart = objectOr(s.ordinals).start;
  if (ordStart !== undefined && !nonNegInt(ordStart)) errs.push(invalid('spec.ordinals.start', ordStart, 'must be greater than or equal to 0'));
  if (s.template?.spec && isObject(s.template.spec) && s.template.spec.activeDeadlineSeconds !== undefined) errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in StatefulSet is not Supported'));
  const policy = objectOr(s.persistentVolumeClaimRetentionPolicy);
  for (const k of ['whenDeleted', 'whenScaled'] as const) {
    if (policy[k] !== undefined && !['Retain', 'Delete'].includes(policy[k] as string)) errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${k}`, policy[k], ['Retain', 'Delete']));
  }
  if (s.volumeClaimTemplates !== undefined) {
    if (!Array.isArray(s.volumeClaimTemplates)) errs.push(invalid('spec.volumeClaimTemplates', s.volumeClaimTemplates, 'must be a list'));
    else {
      const seen = new Set<string>();
      s.volumeClaimTemplates.forEach((t, i) => {
        const name = objectOr(objectOr(t).metadata).name;
        const f = `spec.volumeClaimTemplates[${i}].metadata.name`;
        if (typeof name !== 'string' || !name) errs.push(required(f));
        else if (seen.has(name)) errs.push(duplicate(f, name));
        else seen.add(name);
      });
    }
  }
  if (old) {
    const frozen = (x: StatefulSet) => JSON.stringify({ ...x.spec, replicas: 0, template: 0, updateStrategy: 0, persistentVolumeClaimRetentionPolicy: 0, minReadySeconds: 0, ordinals: 0, revisionHistoryLimit: 0 });
    if (frozen(o) !== frozen(old)) errs.push({ field: 'spec', reason: 'FieldValueForbidden', message: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden" });
  }
  return errs;
}

/** rollingUpdate.maxUnavailable: a positive integer or a percentage in (0%, 100%]. */
function validateMaxUnavailable(v: unknown): FieldError[] {
  const f = 'spec.updateStrategy.rollingUpdate.maxUnavailable';
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) return [invalid(f, v, 'must be greater than or equal to 0')];
    return v === 0 ? [invalid(f, v, 'cannot be 0')] : [];
  }
  const m = typeof v === 'string' ? /^(\d+)%$/.exec(v) : null;
  if (!m) return [invalid(f, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
  const n = Number(m[1]);
  if (n > 100) return [invalid(f, v, 'must not be greater than 100%')];
  return n === 0 ? [invalid(f, v, 'cannot be 0')] : [];
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
