import type { LabelSelector, LabelSelectorRequirement } from 'kubernetes-types/meta/v1';

/**
 * Parses the string form of a label selector ("app=web,tier in (a,b),!canary"), as a Scale's
 * `status.selector` or a `-l` flag carries it, into a metav1.LabelSelector whose
 * matchExpressions `matchesSelector` (label-selector.ts) evaluates. The empty string selects
 * everything. Throws an Error naming the bad part.
 */
export function parseSelectorString(s: string): LabelSelector {
  const parts = splitTopLevel(s.trim());
  if (parts.length === 1 && parts[0] === '') return {};
  const matchExpressions: LabelSelectorRequirement[] = parts.map((raw) => {
    const part = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^!\s*([^\s=!(),]+)$/.exec(part))) return { key: m[1], operator: 'DoesNotExist' };
    if ((m = /^([^\s=!(),]+)\s+(in|notin)\s*\((.*)\)$/.exec(part))) {
      const values = m[3].split(',').map((v) => v.trim());
      if (values.length === 1 && values[0] === '') throw new Error(`unable to parse requirement: for 'in', 'notin' operators, values set can't be empty`);
      return { key: m[1], operator: m[2] === 'in' ? 'In' : 'NotIn', values };
    }
    if ((m = /^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(part))) return { key: m[1], operator: m[2] === '!=' ? 'NotIn' : 'In', values: [m[3]] };
    if ((m = /^([^\s=!(),]+)$/.exec(part))) return { key: m[1], operator: 'Exists' };
    throw new Error(`unable to parse requirement: ${JSON.stringify(part)}`);
  });
  return { matchExpressions };
}

/** Splits on commas outside parentheses. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  if (out.length > 1 && out.some((p) => p.trim() === '')) throw new Error("unable to parse requirement: found '', expected: identifier");
  return out;
}
