import type { JobSpec } from 'kubernetes-types/batch/v1';
import { type FieldError, immutable, invalid, nonNegInt, notSupported, required } from '../shared/fields';
import { isObject } from '../../json';

/**
 * Validation of the Job fields that shape failure and success (Kubernetes
 * 1.32's ValidateJobSpec, in its wording): podReplacementPolicy,
 * backoffLimitPerIndex / maxFailedIndexes, podFailurePolicy actions,
 * successPolicy and managedBy. Pure.
 */

const MAX_FAILED_INDEXES = 100_000;
const COMPLETIONS_SOFT_LIMIT = 100_000;
const MAX_MANAGED_BY_LENGTH = 63;
const MAX_SUCCESS_POLICY_RULES = 20;
const MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024;
const ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];

/** Parses an index list (`1,3-5`) against `completions`: the number of indexes, or why it is malformed. */
export function countIndexes(s: string, completions: number): number | string {
  let total = 0;
  let last = -1;
  if (s === '') return 0;
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return `cannot parse "${part}" as an index or a range of indexes`;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return `non-increasing order in "${part}"`;
    if (a <= last) return `overlapping or unordered indexes at "${part}"`;
    if (b >= completions) return `too large index: ${b}`;
    total += b - a + 1;
    last = b;
  }
  return total;
}

export function validateJobPolicies(s: JobSpec): FieldError[] {
  const errs: FieldError[] = [];
  const indexed = s.completionMode === 'Indexed';
  const completions = typeof s.completions === 'number' ? s.completions : undefined;
  for (const f of ['backoffLimitPerIndex', 'maxFailedIndexes'] as const) {
    const v = s[f];
    if (v != null && !nonNegInt(v)) errs.push(invalid(`spec.${f}`, v, 'must be greater than or equal to 0'));
    if (v != null && !indexed) errs.push(invalid(`spec.${f}`, v, 'requires indexed completion mode'));
  }
  if (s.maxFailedIndexes != null) {
    if (s.backoffLimitPerIndex == null) errs.push(required('spec.backoffLimitPerIndex', 'when maxFailedIndexes is specified'));
    if (indexed && completions !== undefined && s.maxFailedIndexes > completions) errs.push(invalid('spec.maxFailedIndexes', s.maxFailedIndexes, 'must be less than or equal to completions'));
    if (indexed && s.maxFailedIndexes > MAX_FAILED_INDEXES) errs.push(invalid('spec.maxFailedIndexes', s.maxFailedIndexes, `must be less than or equal to ${MAX_FAILED_INDEXES}`));
  }
  if (indexed && s.backoffLimitPerIndex != null && completions !== undefined && completions > COMPLETIONS_SOFT_LIMIT && s.maxFailedIndexes == null) {
    errs.push(required('spec.maxFailedIndexes', `must be specified when completions is above ${COMPLETIONS_SOFT_LIMIT}`));
  }
  if (s.managedBy != null) {
    const m = s.managedBy;
    if (typeof m !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[-A-Za-z0-9_.~/%]+$/.test(m)) errs.push(invalid('spec.managedBy', m, 'must be a domain-prefixed path (such as "acme.io/foo")'));
    else if (m.length > MAX_MANAGED_BY_LENGTH) errs.push({ field: 'spec.managedBy', reason: 'FieldValueTooLong', message: `Too long: may not be more than ${MAX_MANAGED_BY_LENGTH} bytes` });
  }
  const rules = isObject(s.podFailurePolicy) && Array.isArray(s.podFailurePolicy.rules) ? s.podFailurePolicy.rules : [];
  rules.forEach((r, i) => {
    const path = `spec.podFailurePolicy.rules[${i}].action`;
    if (!isObject(r) || !r.action) errs.push(required(path, `valid values: ${JSON.stringify(ACTIONS)}`));
    else if (r.action === 'FailIndex' && s.backoffLimitPerIndex == null) errs.push(invalid(path, r.action, 'requires the backoffLimitPerIndex to be set'));
    else if (!ACTIONS.includes(r.action)) errs.push(notSupported(path, r.action, ACTIONS));
  });
  if (s.successPolicy != null) {
    if (!indexed) errs.push(invalid('spec.successPolicy', s.successPolicy, 'requires indexed completion mode'));
    else errs.push(...validateSuccessPolicy(s, completions ?? 0));
  }
  const rp = s.podReplacementPolicy;
  if (rp != null) {
    if (s.podFailurePolicy != null) {
      if (rp !== 'Failed') errs.push(notSupported('spec.podReplacementPolicy', rp, ['Failed']));
    } else if (rp !== 'Failed' && rp !== 'TerminatingOrFailed') errs.push(notSupported('spec.podReplacementPolicy', rp, ['Failed', 'TerminatingOrFailed']));
  }
  return errs;
}

function validateSuccessPolicy(s: JobSpec, completions: number): FieldError[] {
  const errs: FieldError[] = [];
  const rules = isObject(s.successPolicy) && Array.isArray(s.successPolicy.rules) ? s.successPolicy.rules : [];
  if (rules.length === 0) errs.push(required('spec.successPolicy.rules', 'at least one rules must be specified when the successPolicy is specified'));
  if (rules.length > MAX_SUCCESS_POLICY_RULES) errs.push({ field: 'spec.successPolicy.rules', reason: 'FieldValueTooMany', message: `Too many: ${rules.length}: must have at most ${MAX_SUCCESS_POLICY_RULES} items` });
  rules.forEach((r, i) => {
    const path = `spec.successPolicy.rules[${i}]`;
    if (!isObject(r) || (r.succeededCount == null && r.succeededIndexes == null)) {
      errs.push(required(path, 'at least one of succeededCount or succeededIndexes must be specified'));
      return;
    }
    let total = 0;
    if (r.succeededIndexes != null) {
      const v = r.succeededIndexes;
      const n = typeof v === 'string' && v.length <= MAX_SUCCEEDED_INDEXES_LENGTH ? countIndexes(v, completions) : 'must be a string of at most 65536 characters';
      if (typeof n === 'string') errs.push(invalid(`${path}.succeededIndexes`, v, `error parsing succeededIndexes: ${n}`));
      else total = n;
    }
    if (r.succeededCount != null) {
      const c = r.succeededCount;
      if (typeof c !== 'number' || !nonNegInt(c)) errs.push(invalid(`${path}.succeededCount`, c, 'must be greater than or equal to 0'));
      else if (c > completions) errs.push(invalid(`${path}.succeededCount`, c, `must be less than or equal to ${completions} (the number of specified completions)`));
      else if (r.succeededIndexes != null && c > total) errs.push(invalid(`${path}.succeededCount`, c, `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`));
    }
  });
  return errs;
}

/** Fields a Job update may not change (besides those job.ts checks). */
export function validateJobPoliciesUpdate(s: JobSpec, old: JobSpec | undefined): FieldError[] {
  return [
    ...immutable('spec.podFailurePolicy', s.podFailurePolicy, old?.podFailurePolicy),
    ...immutable('spec.backoffLimitPerIndex', s.backoffLimitPerIndex, old?.backoffLimitPerIndex),
    ...immutable('spec.managedBy', s.managedBy, old?.managedBy),
    ...immutable('spec.successPolicy', s.successPolicy, old?.successPolicy),
  ];
}
