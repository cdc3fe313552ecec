import type { ServiceAccount } from 'kubernetes-types/core/v1';
import { base } from '../shared/defs';
import { duplicate, type FieldError } from '../shared/fields';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** ServiceAccount (core/v1); pods get theirs from serviceaccount-admission.ts. */

export function validateServiceAccount(o: ServiceAccount): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string | undefined>();
  (Array.isArray(o.secrets) ? o.secrets : []).forEach((s, i) => {
    if (s?.name && seen.has(s.name)) errs.push(duplicate(`secrets[${i}].name`, s.name));
    seen.add(s?.name);
  });
  return errs;
}

export const SERVICE_ACCOUNT: ResourceDef = {
  ...base, group: '', kind: 'ServiceAccount', listKind: 'ServiceAccountList', plural: 'serviceaccounts', singular: 'serviceaccount', shortNames: ['sa'],
  validate: (o) => validateServiceAccount(o),
  printer: { columns: [NAME, ['Secrets', 'string'], AGE], cells: (o: ServiceAccount, now) => [o.metadata?.name, (o.secrets ?? []).length, objectAge(o, now)] },
};
