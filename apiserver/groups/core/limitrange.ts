import type { LimitRange, LimitRangeItem } from 'kubernetes-types/core/v1';
import { base } from '../shared/defs';
import { type FieldError, required, validateQuantity } from '../shared/fields';
import { isObject } from '../../json';
import { CREATED_AT, NAME } from '../shared/printers';
import type { ResourceDef } from '../types';

/** LimitRange (core/v1). */

type List = Record<string, string>;

/** Kubernetes' LimitRange defaults for a Container item: default ← max, defaultRequest ← default, then ← min. */
export function defaultLimitRangeItem(item: LimitRangeItem): void {
  if (item.type !== 'Container') return;
  const dflt: List = { ...(item.default ?? {}) };
  const dreq: List = { ...(item.defaultRequest ?? {}) };
  for (const [k, v] of Object.entries(item.max ?? {})) if (dflt[k] === undefined) dflt[k] = v;
  for (const [k, v] of Object.entries(dflt)) if (dreq[k] === undefined) dreq[k] = v;
  for (const [k, v] of Object.entries(item.min ?? {})) if (dreq[k] === undefined) dreq[k] = v;
  if (Object.keys(dflt).length) item.default = dflt;
  if (Object.keys(dreq).length) item.defaultRequest = dreq;
}


export function validateLimitRange(lr: LimitRange): FieldError[] {
  const errs: FieldError[] = [];
  const limits = lr.spec?.limits;
  if (!Array.isArray(limits)) return [required('spec.limits')];
  limits.forEach((l, i) => {
    if (!l?.type) errs.push(required(`spec.limits[${i}].type`));
    for (const f of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'] as const) {
      const bound: unknown = l?.[f];
      for (const [k, v] of Object.entries(isObject(bound) ? bound : {})) errs.push(...validateQuantity(v, `spec.limits[${i}].${f}[${k}]`));
    }
  });
  return errs;
}

export const LIMIT_RANGE: ResourceDef = {
  ...base, group: '', kind: 'LimitRange', listKind: 'LimitRangeList', plural: 'limitranges', singular: 'limitrange', shortNames: ['limits'],
  defaults: (o: LimitRange) => { for (const l of o.spec?.limits ?? []) if (l && typeof l === 'object') defaultLimitRangeItem(l); },
  validate: (o) => validateLimitRange(o),
  printer: { columns: [NAME, CREATED_AT], cells: (o: LimitRange) => [o.metadata?.name, o.metadata?.creationTimestamp] },
};
