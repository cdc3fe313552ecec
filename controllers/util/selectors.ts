import type { LabelSelector } from 'kubernetes-types/meta/v1';

// The label-selector rule lives in lib/ (the proxy's NetworkPolicy code uses it too).
export { matchesSelector, type Labels } from '../../lib/label-selector';
import type { Labels } from '../../lib/label-selector';

/** Whether a Service-style equality selector (a plain map) matches; an empty map matches nothing. */
export function matchesMap(selector: Record<string, string> | undefined, labels: Labels): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector)) if (l[k] !== v) return false;
  return true;
}

/** Renders a LabelSelector as a selector string (`a=b,c in (d,e)`), e.g. for scale status. */
export function selectorString(selector: LabelSelector | undefined): string {
  if (!selector) return '';
  const parts = Object.entries(selector.matchLabels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const vals = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}
