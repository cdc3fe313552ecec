import type { Pod } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { type BudgetStatus, setDisruptionAllowedCondition } from '../../../../lib/disruption';
import { rfc3339 } from '../../../../lib/time';
import { ApiError, errors } from '../../../errors';
import { isObject, objectOr } from '../../../json';
import { fromLabelSelector, matchesLabels } from '../../../selectors';

/**
 * The pure rules of POST pods/NAME/eviction (Kubernetes' pod eviction subresource): which
 * pods skip the disruption budgets, which budgets select a pod, and the check-and-decrement
 * of a budget's status. handlers/eviction.ts does the reads and writes around them.
 */

/** Evictions approved but not yet seen by the disruption controller beyond this: refused. */
const MAX_DISRUPTED_PODS = 2000;

/** The Eviction body (policy/v1 or policy/v1beta1): its deleteOptions, checked against the URL. */
export function parseEviction(body: unknown, name: string, namespace: string): { deleteOptions: unknown } {
  if (!isObject(body)) throw errors.badRequest('expected an Eviction object');
  if (body.kind !== undefined && body.kind !== 'Eviction') throw errors.badRequest(`not a Eviction object: ${String(body.kind)}`);
  if (body.apiVersion !== undefined && body.apiVersion !== 'policy/v1' && body.apiVersion !== 'policy/v1beta1') {
    throw errors.badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (policy/v1 or policy/v1beta1)`);
  }
  const meta = objectOr(body.metadata);
  if (meta.name !== name) throw errors.badRequest('name in URL does not match name in Eviction object');
  if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
    throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  if (body.deleteOptions !== undefined && body.deleteOptions !== null && !isObject(body.deleteOptions)) throw errors.badRequest('deleteOptions must be an object');
  return { deleteOptions: body.deleteOptions ?? undefined };
}

/** Finished, pending or already terminating pods are deleted without asking their budgets. */
export function canIgnorePDB(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata?.deletionTimestamp;
}

/** Pods whose delete must be pinned to the resourceVersion read (not terminal, not terminating). */
export function shouldEnforceResourceVersion(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !(phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp);
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The budgets in the pod's namespace whose selector matches it (no selector: none; invalid: skipped). */
export function budgetsFor(pod: Pod, pdbs: PodDisruptionBudget[]): PodDisruptionBudget[] {
  return pdbs.filter((pdb) => {
    if (pdb.metadata?.namespace !== pod.metadata?.namespace || !pdb.spec?.selector) return false;
    try {
      return matchesLabels(fromLabelSelector(pdb.spec.selector), pod.metadata?.labels);
    } catch {
      return false;
    }
  });
}

/**
 * An unready pod may go without spending the budget when the budget lets unhealthy pods go
 * (AlwaysAllow), or (IfHealthyBudget, the default) when the application is healthy anyway.
 */
export function unhealthyPodMayGo(pod: Pod, pdb: PodDisruptionBudget): boolean {
  if (isPodReady(pod)) return false;
  if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return true;
  const s: BudgetStatus = pdb.status ?? {};
  return (s.currentHealthy ?? 0) >= (s.desiredHealthy ?? 0) && (s.desiredHealthy ?? 0) > 0;
}

/** 429 for a budget the disruption controller has not caught up with (a client should retry). */
export function budgetBeingProcessed(pdbName: string): ApiError {
  return new ApiError('TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.",
    { causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdbName} is still being processed by the server.` }], retryAfterSeconds: 10 });
}

/**
 * The budget's status once it allows evicting `podName`: disruptionsAllowed one less and the
 * pod in disruptedPods (left out on a dry run, as Kubernetes does). Throws the 429 (or 403)
 * when the budget does not allow it.
 */
export function decrementBudget(pdb: PodDisruptionBudget, podName: string, now: Date, dryRun: boolean): BudgetStatus {
  const s: BudgetStatus = pdb.status ?? {};
  const name = pdb.metadata?.name ?? '';
  if ((s.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0)) throw budgetBeingProcessed(name);
  const forbidden = (why: string) => errors.forbidden(`poddisruptionbudget.policy "${name}" is forbidden: ${why}`, { name, group: 'policy', kind: 'poddisruptionbudget' });
  const allowed = s.disruptionsAllowed ?? 0;
  if (allowed < 0) throw forbidden('pdb disruptions allowed is negative');
  if (Object.keys(s.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) throw forbidden('DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  if (allowed === 0) {
    throw new ApiError('TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.",
      { causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${name} needs ${s.desiredHealthy ?? 0} healthy pods and has ${s.currentHealthy ?? 0} currently` }] });
  }
  const next: BudgetStatus = { ...s, disruptionsAllowed: allowed - 1 };
  if (next.disruptionsAllowed === 0) setDisruptionAllowedCondition(next, now);
  if (!dryRun) next.disruptedPods = { ...(s.disruptedPods ?? {}), [podName]: rfc3339(now) };
  return next;
}

/** The pod's status with DisruptionTarget=True (EvictionByEvictionAPI), set before it is deleted. */
export function withDisruptionTarget(pod: Pod, now: Date): Pod {
  const conds = (pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
  const old = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
  const cond = { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: old?.status === 'True' ? old.lastTransitionTime : rfc3339(now) };
  return { ...pod, status: { ...pod.status, conditions: [...conds, cond] } };
}
