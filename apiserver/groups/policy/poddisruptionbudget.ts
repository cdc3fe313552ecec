import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { withStatus } from '../shared/defs';
import { type FieldError, invalid, nonNegInt, required } from '../shared/fields';
import { isObject } from '../../json';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** PodDisruptionBudget (policy/v1). */

export function validatePDB(o: PodDisruptionBudget): FieldError[] {
  const s = o.spec;
  if (!isObject(s)) return [required('spec')];
  const errs: FieldError[] = [];
  if (s.minAvailable !== undefined && s.maxUnavailable !== undefined) errs.push({ field: 'spec', reason: 'FieldValueInvalid', message: 'Invalid value: minAvailable and maxUnavailable cannot be both set' });
  for (const f of ['minAvailable', 'maxUnavailable']) {
    const v = s[f];
    if (v === undefined) continue;
    if (typeof v === 'number' ? !nonNegInt(v) : !/^\d+%$/.test(String(v))) errs.push(invalid(`spec.${f}`, v, typeof v === 'number' ? 'must be greater than or equal to 0' : "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"));
  }
  return errs;
}

const naOr = (v: unknown) => (v === undefined || v === null ? 'N/A' : String(v));

export const POD_DISRUPTION_BUDGET: ResourceDef = {
  ...withStatus, group: 'policy', kind: 'PodDisruptionBudget', listKind: 'PodDisruptionBudgetList', plural: 'poddisruptionbudgets', singular: 'poddisruptionbudget',
  shortNames: ['pdb'],
  prepareForCreate(o: PodDisruptionBudget) { o.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 }; },
  validate: (o) => validatePDB(o),
  printer: {
    columns: [NAME, ['Min Available', 'string'], ['Max Unavailable', 'string'], ['Allowed Disruptions', 'integer'], AGE],
    cells: (o: PodDisruptionBudget, now) => [o.metadata?.name, naOr(o.spec?.minAvailable), naOr(o.spec?.maxUnavailable), o.status?.disruptionsAllowed ?? 0, objectAge(o, now)],
  },
};
