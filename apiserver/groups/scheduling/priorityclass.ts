import type { PriorityClass } from 'kubernetes-types/scheduling/v1';
import { base } from '../shared/defs';
import { type FieldError, forbidden, immutable, invalid, notSupported, required } from '../shared/fields';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';
import { errors } from '../../errors';
import { HIGHEST_USER_DEFINABLE_PRIORITY, PREEMPTION_POLICIES, SYSTEM_PRIORITY_CLASSES, SYSTEM_PRIORITY_CLASS_PREFIX } from '../../../lib/priority';

/**
 * PriorityClass (scheduling.k8s.io/v1, cluster-scoped): a name for a pod priority. Validation
 * as Kubernetes' ValidatePriorityClass(Update): user classes at most 1,000,000,000, `system-`
 * names only for the built-ins (with their values), value and preemptionPolicy immutable. The
 * built-ins are created by bootstrap.ts and refuse deletion; "only one globalDefault" is
 * checked by Priority admission (priority-admission.ts), which needs the other classes.
 */

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Why `pc` is not a built-in class as it must be, or undefined when it is. */
function systemClassError(pc: PriorityClass): string | undefined {
  const known = SYSTEM_PRIORITY_CLASSES.find((s) => s.name === pc.metadata?.name);
  if (!known) return `name ${pc.metadata?.name} is not a known system priority class`;
  if (known.value !== pc.value) return `value of ${known.name} PriorityClass must be ${known.value}`;
  if ((pc.globalDefault ?? false) !== false) return `globalDefault of ${known.name} PriorityClass must be false`;
  return undefined;
}

export function validatePriorityClass(pc: PriorityClass, old?: PriorityClass): FieldError[] {
  const errs: FieldError[] = [];
  const v: unknown = pc.value;
  if (v === undefined || v === null) errs.push(required('value'));
  else if (!Number.isInteger(v) || (v as number) < INT32_MIN || (v as number) > INT32_MAX) errs.push(invalid('value', v, 'must be a 32-bit integer'));
  else if ((pc.metadata?.name ?? '').startsWith(SYSTEM_PRIORITY_CLASS_PREFIX)) {
    const why = systemClassError(pc);
    if (why) errs.push(forbidden('metadata.name', `priority class names with '${SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: ${why}`));
  } else if ((v as number) > HIGHEST_USER_DEFINABLE_PRIORITY) errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  if (pc.globalDefault !== undefined && typeof pc.globalDefault !== 'boolean') errs.push(invalid('globalDefault', pc.globalDefault, 'must be a boolean'));
  if (pc.preemptionPolicy !== undefined && !PREEMPTION_POLICIES.includes(pc.preemptionPolicy as never)) errs.push(notSupported('preemptionPolicy', pc.preemptionPolicy, PREEMPTION_POLICIES));
  if (old) {
    if (old.value !== pc.value) errs.push(forbidden('value', 'may not be changed in an update.'));
    errs.push(...immutable('preemptionPolicy', pc.preemptionPolicy, old.preemptionPolicy));
  }
  return errs;
}

export const PRIORITY_CLASS: ResourceDef = {
  ...base, group: 'scheduling.k8s.io', kind: 'PriorityClass', listKind: 'PriorityClassList', plural: 'priorityclasses', singular: 'priorityclass', shortNames: ['pc'],
  namespaced: false,
  defaults(obj) { (obj as PriorityClass).preemptionPolicy ??= 'PreemptLowerPriority'; },
  validate: (o, _c, old) => validatePriorityClass(o as PriorityClass, old as PriorityClass | undefined),
  strategy: {
    beforeDelete(obj) {
      const name = obj.metadata?.name ?? '';
      if (SYSTEM_PRIORITY_CLASSES.some((s) => s.name === name)) {
        throw errors.forbidden(`priorityclasses.scheduling.k8s.io "${name}" is forbidden: this is a system priority class and cannot be deleted`, { name, group: 'scheduling.k8s.io', kind: 'priorityclasses' });
      }
    },
  },
  printer: {
    columns: [NAME, ['Value', 'integer'], ['Global-Default', 'boolean'], AGE, ['PreemptionPolicy', 'string', 1]],
    cells: (obj, now) => { const o = obj as PriorityClass; return [o.metadata?.name, o.value, o.globalDefault ?? false, objectAge(o, now), o.preemptionPolicy ?? 'PreemptLowerPriority']; },
  },
};
