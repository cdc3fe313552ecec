import type { LabelSelector as MetaLabelSelector, LabelSelectorRequirement } from 'kubernetes-types/meta/v1';

/**
 * The string form of a label selector ("app=web,tier in (a,b),!canary"), as a `labelSelector`
 * query, a `-l` flag or a Scale's `status.selector` carries it: parsing (with Kubernetes'
 * checks of keys and values and its error wording) and matching. Pure.
 */

export type LabelRequirement =
  | { key: string; op: 'exists' | '!' }
  | { key: string; op: '=' | '!='; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] };

export type LabelSelector = LabelRequirement[];
export type Labels = Record<string, string> | undefined;

/** A selector string that does not parse; the message is Kubernetes' ("unable to parse requirement: …"). */
export class SelectorSyntaxError extends Error {}

function bad(msg: string): SelectorSyntaxError {
  return new SelectorSyntaxError(`unable to parse requirement: ${msg}`);
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

/** Parses a selector string into requirements; throws SelectorSyntaxError naming the bad part. */
export function parseRequirements(s: string | undefined): LabelSelector {
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

/**
 * A selector string as a metav1.LabelSelector (matchExpressions only), for code that matches
 * with label-selector.ts. The empty string selects everything.
 */
export function parseSelectorString(s: string): MetaLabelSelector {
  const reqs = parseRequirements(s);
  if (reqs.length === 0) return {};
  const matchExpressions = reqs.map((r): LabelSelectorRequirement => {
    switch (r.op) {
      case 'exists': return { key: r.key, operator: 'Exists' };
      case '!': return { key: r.key, operator: 'DoesNotExist' };
      case '=': return { key: r.key, operator: 'In', values: [r.value] };
      case '!=': return { key: r.key, operator: 'NotIn', values: [r.value] };
      case 'in': return { key: r.key, operator: 'In', values: r.values };
      case 'notin': return { key: r.key, operator: 'NotIn', values: r.values };
    }
  });
  return { matchExpressions };
}
