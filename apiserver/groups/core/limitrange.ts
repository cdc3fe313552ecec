import type { LimitRange, LimitRangeItem } from 'kubernetes-types/core/v1';
import { base } from '../shared/defs';
import { type FieldError, forbidden, invalid, required, validateQuantity } from '../shared/fields';
import { parseQuantity } from '../../../lib/quantity';
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
    if (l?.type === 'Pod') {
      for (const f of ['default', 'defaultRequest'] as const) {
        if (isObject(l[f]) && Object.keys(l[f]).length) errs.push(forbidden(`spec.limits[${i}].${f}`, "may not be specified when `type` is 'Pod'"));
      }
    }
    if (!errs.length) errs.push(...orderErrors(l, `spec.limits[${i}]`));
  });
  return errs;
}

/** Per resource: min ≤ defaultRequest ≤ default ≤ max (and min ≤ max), in Kubernetes' words. */
function orderErrors(l: LimitRangeItem, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const q = (f: 'min' | 'max' | 'default' | 'defaultRequest', k: string) => {
    const v = (l[f] as List | undefined)?.[k];
    return v === undefined ? undefined : { s: v, n: parseQuantity(v) ?? 0 };
  };
  const names = new Set(['min', 'max', 'default', 'defaultRequest'].flatMap((f) => Object.keys((l[f as 'min'] as List | undefined) ?? {})));
  for (const k of names) {
    const [min, max, dflt, dreq] = [q('min', k), q('max', k), q('default', k), q('defaultRequest', k)];
    if (min && max && min.n > max.n) errs.push(invalid(`${path}.min[${k}]`, min.s, `min value ${min.s} is greater than max value ${max.s}`));
    if (dreq && min && min.n > dreq.n) errs.push(invalid(`${path}.defaultRequest[${k}]`, dreq.s, `min value ${min.s} is greater than default request value ${dreq.s}`));
    if (dreq && max && dreq.n > max.n) errs.push(invalid(`${path}.defaultRequest[${k}]`, dreq.s, `default request value ${dreq.s} is greater than max value ${max.s}`));
    if (dreq && dflt && dreq.n > dflt.n) errs.push(invalid(`${path}.defaultRequest[${k}]`, dreq.s, `default request value ${dreq.s} is greater than default limit value ${dflt.s}`));
    if (dflt && min && min.n > dflt.n) errs.push(invalid(`${path}.default[${k}]`, min.s, `min value ${min.s} is greater than default value ${dflt.s}`));
    if (dflt && max && dflt.n > max.n) errs.push(invalid(`${path}.default[${k}]`, max.s, `default value ${dflt.s} is greater than max value ${max.s}`));
  }
  return errs;
}

export const LIMIT_RANGE: ResourceDef = {
  ...base, group: '', kind: 'LimitRange', listKind: 'LimitRangeList', plural: 'limitranges', singular: 'limitrange', shortNames: ['limits'],
  defaults: (o: LimitRange) => { for (const l of o.spec?.limits ?? []) if (l && typeof l === 'object') defaultLimitRangeItem(l); },
  validate: (o) => validateLimitRange(o),
  printer: { columns: [NAME, CREATED_AT], cells: (o: LimitRange) => [o.metadata?.name, o.metadata?.creationTimestamp] },
};
