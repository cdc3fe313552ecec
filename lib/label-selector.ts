import type { LabelSelector } from 'kubernetes-types/meta/v1';

export type Labels = Record<string, string> | undefined;

/**
 * Whether `labels` satisfy a metav1.LabelSelector (matchLabels AND every
 * matchExpression). An empty selector matches everything; an undefined one
 * matches nothing (as in Kubernetes' LabelSelectorAsSelector).
 */
export function matchesSelector(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(l[e.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(l[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
