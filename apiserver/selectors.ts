import { ApiError } from './errors';
import type { LabelSelector as MetaLabelSelector } from 'kubernetes-types/meta/v1';

/**
 * Label and field selectors: parse the query-string forms, match objects, and format
 * metav1.LabelSelector the way Kubernetes prints it. Pure.
 */

export type LabelRequirement =
  | { key: string; op: 'exists' | '!' }
  | { key: string; op: '=' | '!='; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] };

export type LabelSelector = LabelRequirement[];
export type Labels = Record<string, string> | undefined;

function bad(msg: string): ApiError {
  return new ApiError('BadRequest', `unable to parse requirement: ${msg}`);
}

/** Split on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  const parts = out.map((p) => p.trim());
  // "a," / ",": Kubernetes' parser wants an identifier after every comma
  if (parts.some((p) => p.length === 0)) throw bad("found '', expected: identifier");
  return parts;
}

const KEY_RE = /^([a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/;
const VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(k: string): string {
  const slash = k.indexOf('/');
  const tooLong = slash >= 0 ? slash > 253 || k.length - slash - 1 > 63 : k.length > 63;
  if (tooLong || !KEY_RE.test(k)) throw bad(`invalid label key "${k.slice(0, 300)}"`);
  return k;
}
function checkValue(v: string): string {
  if (v.length > 63 || !VALUE_RE.test(v)) throw bad(`invalid label value: "${v}"`);
  return v;
}

export function parseLabelSelector(s: string | undefined): LabelSelector {
  if (!s || !s.trim()) return [];
  return splitTop(s).map((part): LabelRequirement => {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^!\s*(\S+)$/))) return { key: checkKey(m[1]), op: '!' };
    if ((m = part.match(/^(\S+)\s+(in|notin)\s*\((.*)\)$/))) {
      if (!m[3].trim()) throw bad(`for 'in', 'notin' operators, values set can't be empty`);
      const values = m[3].split(',').map((v) => checkValue(v.trim()));
      return { key: checkKey(m[1]), op: m[2] as 'in' | 'notin', values };
    }
    if ((m = part.match(/^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/))) {
      return { key: checkKey(m[1]), op: m[2] === '!=' ? '!=' : '=', value: checkValue(m[3].trim()) };
    }
    if ((m = part.match(/^([^=!\s()]+)$/))) return { key: checkKey(m[1]), op: 'exists' };
    throw bad(`"${part}"`);
  });
}

export function matchesLabels(sel: LabelSelector, labels: Labels): boolean {
  const l = labels ?? {};
  for (const r of sel) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists': if (!has) return false; break;
      case '!': if (has) return false; break;
      case '=': if (!has || l[r.key] !== r.value) return false; break;
      case '!=': if (has && l[r.key] === r.value) return false; break;
      case 'in': if (!has || !r.values.includes(l[r.key])) return false; break;
      case 'notin': if (has && r.values.includes(l[r.key])) return false; break;
    }
  }
  return true;
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
