import { ApiError } from './errors';
import { parseRequirements, SelectorSyntaxError, type LabelSelector, type Labels } from '../lib/label-selector-string';
import type { LabelSelector as MetaLabelSelector } from 'kubernetes-types/meta/v1';

/**
 * Label and field selectors: parse the query-string forms, match objects, and format
 * metav1.LabelSelector the way Kubernetes prints it. Pure.
 */

export type { LabelRequirement, LabelSelector, Labels } from '../lib/label-selector-string';
export { matchesLabels } from '../lib/label-selector-string';

/** Parses a `labelSelector` query string; a bad one is a 400 naming the part. */
export function parseLabelSelector(s: string | undefined): LabelSelector {
  try {
    return parseRequirements(s);
  } catch (err) {
    if (err instanceof SelectorSyntaxError) throw new ApiError('BadRequest', err.message);
    throw err;
  }
}

export interface FieldRequirement { field: string; op: '=' | '!='; value: string }
export type FieldSelector = FieldRequirement[];

export function parseFieldSelector(s: string | undefined, supported?: ReadonlySet<string>): FieldSelector {
  if (!s || !s.trim()) return [];
  return s.split(',').map((p) => p.trim()).filter(Boolean).map((part) => {
    const m = part.match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw new ApiError('BadRequest', `invalid selector: '${s}'; can't understand '${part}'`);
    const field = m[1].trim();
    if (supported && !supported.has(field)) throw new ApiError('BadRequest', `field label not supported: ${field}`);
    return { field, op: m[2] === '!=' ? '!=' : '=', value: m[3].trim() } as FieldRequirement;
  });
}

const FIELD_ALIASES: Record<string, string> = { source: 'source.component' };

/** The string value of a field label on an object ("" when absent). */
function fieldValue(obj: unknown, field: string): string {
  let cur = obj;
  for (const p of (FIELD_ALIASES[field] ?? field).split('.')) {
    if (cur == null) return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur == null) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

export function matchesFields(sel: FieldSelector, obj: unknown): boolean {
  for (const r of sel) {
    const v = fieldValue(obj, r.field);
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}

/** metav1.LabelSelector → internal selector (empty selector matches everything). */
export function fromLabelSelector(ls: MetaLabelSelector | null | undefined): LabelSelector {
  const out: LabelSelector = [];
  for (const [k, v] of Object.entries(ls?.matchLabels ?? {})) out.push({ key: k, op: '=', value: String(v) });
  for (const e of ls?.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In': out.push({ key: e.key, op: 'in', values: e.values ?? [] }); break;
      case 'NotIn': out.push({ key: e.key, op: 'notin', values: e.values ?? [] }); break;
      case 'Exists': out.push({ key: e.key, op: 'exists' }); break;
      case 'DoesNotExist': out.push({ key: e.key, op: '!' }); break;
      default: throw new ApiError('BadRequest', `"${e.operator}" is not a valid label selector operator`);
    }
  }
  return out;
}

/** Kubernetes' String() of a selector: requirements sorted by key, e.g. "app=web,tier in (a,b)". */
function formatSelector(sel: LabelSelector): string {
  const parts = [...sel].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((r) => {
    switch (r.op) {
      case 'exists': return r.key;
      case '!': return `!${r.key}`;
      case '=': return `${r.key}=${r.value}`;
      case '!=': return `${r.key}!=${r.value}`;
      case 'in': return `${r.key} in (${[...r.values].sort().join(',')})`;
      case 'notin': return `${r.key} notin (${[...r.values].sort().join(',')})`;
    }
  });
  return parts.join(',');
}

export function formatLabelSelector(ls: MetaLabelSelector | null | undefined): string {
  return formatSelector(fromLabelSelector(ls));
}

/** labels.FormatLabels: "k=v,k2=v2" sorted, "<none>" when empty. */
export function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${labels![k]}`).join(',') : '<none>';
}
