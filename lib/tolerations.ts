import type { Taint, Toleration } from 'kubernetes-types/core/v1';

/**
 * Whether toleration `t` tolerates `taint`: the effect matches (or the
 * toleration names none), the key matches (or the toleration has no key and
 * operator Exists), and for operator Equal (the default) the values match.
 * Kubernetes' Toleration.ToleratesTaint.
 */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key !== '' && t.key !== taint.key) return false;
  if ((t.key === undefined || t.key === '') && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

/** The taints every node lifecycle controller and the scheduler agree on. */
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
