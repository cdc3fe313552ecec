import type { PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1';
import type { Condition } from 'kubernetes-types/meta/v1';
import { rfc3339 } from './time';

/**
 * What the apiserver's eviction subresource and the disruption controller share about a
 * PodDisruptionBudget's status: the DisruptionAllowed condition and how long an approved
 * eviction is held in status.disruptedPods.
 */

/** A budget's status as read from the API: any field may be missing. */
export type BudgetStatus = Partial<PodDisruptionBudgetStatus>;

/** An eviction recorded in status.disruptedPods is trusted this long; then the pod counts again. */
export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60_000;

export const DISRUPTION_ALLOWED = 'DisruptionAllowed';

/**
 * Sets the DisruptionAllowed condition from status.disruptionsAllowed (True/SufficientPods
 * when above zero, else False/InsufficientPods), with the status's observedGeneration;
 * lastTransitionTime moves only when the condition's status changes.
 */
export function setDisruptionAllowedCondition(status: BudgetStatus, now: Date): void {
  const allowed = (status.disruptionsAllowed ?? 0) > 0;
  setCondition(status, {
    type: DISRUPTION_ALLOWED,
    status: allowed ? 'True' : 'False',
    reason: allowed ? 'SufficientPods' : 'InsufficientPods',
    message: '',
    observedGeneration: status.observedGeneration,
    lastTransitionTime: rfc3339(now),
  });
}

/** The failSafe form: no disruptions, condition False/SyncFailed with the error. */
export function setSyncFailedCondition(status: BudgetStatus, message: string, now: Date): void {
  status.disruptionsAllowed = 0;
  setCondition(status, { type: DISRUPTION_ALLOWED, status: 'False', reason: 'SyncFailed', message, observedGeneration: status.observedGeneration, lastTransitionTime: rfc3339(now) });
}

/** Whether the DisruptionAllowed condition agrees with disruptionsAllowed and observedGeneration. */
export function disruptionConditionUpToDate(status: BudgetStatus | undefined): boolean {
  const c = status?.conditions?.find((x) => x.type === DISRUPTION_ALLOWED);
  if (!c || c.observedGeneration !== status?.observedGeneration) return false;
  return (status?.disruptionsAllowed ?? 0) > 0 ? c.status === 'True' : c.status === 'False';
}

/** meta.SetStatusCondition: replace the condition of that type, keeping its transition time unless its status changed. */
function setCondition(status: BudgetStatus, c: Condition): void {
  const conds = [...(status.conditions ?? [])];
  const i = conds.findIndex((x) => x.type === c.type);
  if (i < 0) conds.push(c);
  else conds[i] = { ...c, lastTransitionTime: conds[i].status === c.status ? conds[i].lastTransitionTime : c.lastTransitionTime };
  status.conditions = conds;
}
