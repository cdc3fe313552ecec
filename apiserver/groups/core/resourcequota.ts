import type { ResourceQuota } from 'kubernetes-types/core/v1';
import { withStatus } from '../shared/defs';
import { type FieldError, validateQuantity } from '../shared/fields';
import { isObject } from '../../json';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** ResourceQuota (core/v1). */

export function validateResourceQuota(q: ResourceQuota): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(isObject(q.spec?.hard) ? q.spec.hard : {})) errs.push(...validateQuantity(v, `spec.hard[${k}]`));
  return errs;
}

function quotaUsage(q: ResourceQuota, limits: boolean): string {
  const hard = q.status?.hard ?? q.spec?.hard ?? {};
  const used = q.status?.used ?? {};
  return Object.keys(hard).sort().filter((k) => k.startsWith('limits.') === limits)
    .map((k) => `${k}: ${used[k] ?? '0'}/${hard[k]}`).join(', ');
}

export const RESOURCE_QUOTA: ResourceDef = {
  ...withStatus, group: '', kind: 'ResourceQuota', listKind: 'ResourceQuotaList', plural: 'resourcequotas', singular: 'resourcequota', shortNames: ['quota'],
  validate: (o) => validateResourceQuota(o),
  printer: {
    columns: [NAME, AGE, ['Request', 'string'], ['Limit', 'string']],
    cells: (o: ResourceQuota, now) => [o.metadata?.name, objectAge(o, now), quotaUsage(o, false), quotaUsage(o, true)],
  },
};
