import type { Lease } from 'kubernetes-types/coordination/v1';
import { base } from '../shared/defs';
import { type FieldError, invalid, nonNegInt } from '../shared/fields';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** Lease (coordination.k8s.io/v1): node heartbeats and leader election. */

export function validateLease(o: Lease): FieldError[] {
  const s = o.spec ?? {};
  const errs: FieldError[] = [];
  for (const f of ['leaseDurationSeconds', 'leaseTransitions'] as const) if (s[f] !== undefined && s[f] !== null && !nonNegInt(s[f])) errs.push(invalid(`spec.${f}`, s[f], 'must be greater than or equal to 0'));
  if (s.leaseDurationSeconds === 0) errs.push(invalid('spec.leaseDurationSeconds', 0, 'must be greater than 0'));
  return errs;
}

export const LEASE: ResourceDef = {
  ...base, group: 'coordination.k8s.io', kind: 'Lease', listKind: 'LeaseList', plural: 'leases', singular: 'lease',
  validate: (o) => validateLease(o),
  printer: { columns: [NAME, ['Holder', 'string'], AGE], cells: (o: Lease, now) => [o.metadata?.name, o.spec?.holderIdentity ?? '', objectAge(o, now)] },
};
