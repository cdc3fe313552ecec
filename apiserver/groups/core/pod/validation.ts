import { isDeepStrictEqual } from 'node:util';
import { type FieldError, forbidden, invalid } from '../../shared/fields';
import { validatePodSpec } from '../../shared/pod-template';
import type { Pod } from 'kubernetes-types/core/v1';

/** Validation of Pods: the pod spec, and what an update may change (Kubernetes' ValidatePodUpdate). Pure. */

export function validatePod(pod: Pod, old?: Pod): FieldError[] {
  const errs = validatePodSpec(pod.spec, 'spec');
  if (old) errs.push(...validatePodUpdate(pod, old));
  return errs;
}

const POD_UPDATE_MSG = 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,'
  + '`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/**
 * A pod's spec is immutable but for container images, activeDeadlineSeconds (set, or lowered),
 * tolerations (additions only) and the removal of scheduling gates (Kubernetes' ValidatePodUpdate).
 */
function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const next = pod.spec;
  const prev = old.spec;
  if (!next || typeof next !== 'object' || !prev || typeof prev !== 'object') return [];
  const errs: FieldError[] = [];
  const ad = next.activeDeadlineSeconds;
  const oldAd = prev.activeDeadlineSeconds;
  if (oldAd != null && (ad == null || ad > oldAd)) errs.push(invalid('spec.activeDeadlineSeconds', ad ?? null, 'must be less than or equal to previous value'));
  const oldTol: unknown[] = Array.isArray(prev.tolerations) ? prev.tolerations : [];
  const newTol: unknown[] = Array.isArray(next.tolerations) ? next.tolerations : [];
  if (oldTol.some((t) => !newTol.some((n) => isDeepStrictEqual(n, t)))) errs.push(forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
  const oldGates: unknown[] = Array.isArray(prev.schedulingGates) ? prev.schedulingGates : [];
  const newGates: unknown[] = Array.isArray(next.schedulingGates) ? next.schedulingGates : [];
  if (newGates.some((g) => !oldGates.some((o) => isDeepStrictEqual(o, g)))) errs.push(forbidden('spec.schedulingGates', 'only deletion is allowed, but found new scheduling gate'));
  // compare what is left once the mutable fields are taken from the old spec
  const masked: Record<string, unknown> = { ...next, activeDeadlineSeconds: prev.activeDeadlineSeconds, tolerations: prev.tolerations, schedulingGates: prev.schedulingGates };
  if (next.terminationGracePeriodSeconds === 1 && typeof prev.terminationGracePeriodSeconds === 'number' && prev.terminationGracePeriodSeconds < 0) masked.terminationGracePeriodSeconds = prev.terminationGracePeriodSeconds;
  for (const list of ['containers', 'initContainers'] as const) {
    const cur = next[list];
    const was = prev[list];
    if (Array.isArray(cur) && Array.isArray(was) && cur.length === was.length) {
      masked[list] = cur.map((c, i) => (c && typeof c === 'object' ? { ...c, image: was[i]?.image } : c));
    }
  }
  for (const k of Object.keys(masked)) if (masked[k] === undefined) delete masked[k];
  const prevClean = Object.fromEntries(Object.entries(prev).filter(([, v]) => v !== undefined));
  if (!isDeepStrictEqual(masked, prevClean)) errs.push(forbidden('spec', POD_UPDATE_MSG));
  return errs;
}
