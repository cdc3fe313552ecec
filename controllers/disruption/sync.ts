import type { Pod } from 'kubernetes-types/core/v1';
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { type BudgetStatus, DISRUPTED_POD_TIMEOUT_MS, disruptionConditionUpToDate, setDisruptionAllowedCondition, setSyncFailedCondition } from '../../lib/disruption';
import { controllerRef } from '../util/owners';
import { isPodReady } from '../util/pods';
import { matchesSelector } from '../util/selectors';

/**
 * The disruption controller's pure core (Kubernetes' pkg/controller/disruption): from a
 * PodDisruptionBudget, the pods it selects and their controllers' scale, the budget's status:
 * expectedPods, desiredHealthy, currentHealthy, disruptionsAllowed, the evictions still
 * pending in disruptedPods, observedGeneration and the DisruptionAllowed condition.
 */

/** The controllers a pod may belong to, looked up by namespace and name. */
export interface Owners {
  replicaSet(namespace: string, name: string): ReplicaSet | undefined;
  deployment(namespace: string, name: string): Deployment | undefined;
  statefulSet(namespace: string, name: string): StatefulSet | undefined;
}

/** The pods of the budget's namespace its selector matches (no selector: none; `{}`: all). */
export function podsForBudget(pdb: PodDisruptionBudget, pods: Pod[]): Pod[] {
  return pods.filter((p) => p.metadata?.namespace === pdb.metadata?.namespace && matchesSelector(pdb.spec?.selector, p.metadata?.labels));
}

/**
 * An int-or-percent scaled against `total` (intstr.GetScaledValueFromIntOrPercent): a number
 * as it is, "N%" as N% of total rounded up when `roundUp`, else down.
 */
export function scaledValue(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid value "${v}": must be an integer or a percentage`);
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** The scale (spec.replicas) of the controller owning `pod`: a ReplicaSet's Deployment, else the ReplicaSet or StatefulSet. */
function controllerScale(pod: Pod, owners: Owners): { uid: string; scale: number } | undefined {
  const ref = controllerRef(pod)!;
  const ns = pod.metadata?.namespace ?? '';
  const group = (ref.apiVersion ?? '').split('/')[0];
  if (group !== 'apps' && group !== 'extensions') return undefined;
  if (ref.kind === 'ReplicaSet') {
    const rs = owners.replicaSet(ns, ref.name);
    if (!rs || rs.metadata?.uid !== ref.uid) return undefined;
    const rsRef = controllerRef(rs);
    if (rsRef?.kind === 'Deployment') {
      const d = owners.deployment(ns, rsRef.name);
      return d && d.metadata?.uid === rsRef.uid ? { uid: rsRef.uid, scale: d.spec?.replicas ?? 1 } : undefined;
    }
    return { uid: ref.uid, scale: rs.spec?.replicas ?? 1 };
  }
  if (ref.kind === 'StatefulSet') {
    const ss = owners.statefulSet(ns, ref.name);
    return ss && ss.metadata?.uid === ref.uid ? { uid: ref.uid, scale: ss.spec?.replicas ?? 1 } : undefined;
  }
  return undefined;
}

/**
 * The sum of the scales of the controllers of `pods` (each counted once); pods with no
 * controller are returned as unmanaged; a pod whose controller is not known is an error.
 */
export function expectedScale(pods: Pod[], owners: Owners): { expected: number; unmanaged: string[] } {
  const scales = new Map<string, number>();
  const unmanaged: string[] = [];
  for (const pod of pods) {
    const ref = controllerRef(pod);
    if (!ref) {
      unmanaged.push(pod.metadata?.name ?? '');
      continue;
    }
    if (scales.has(ref.uid)) continue;
    const found = controllerScale(pod, owners);
    if (!found) throw new Error(`found no controllers for pod "${pod.metadata?.name}"`);
    scales.set(found.uid, found.scale);
  }
  let expected = 0;
  for (const s of scales.values()) expected += s;
  return { expected, unmanaged };
}

/**
 * expectedPods and desiredHealthy: maxUnavailable and a percentage minAvailable count against
 * the controllers' scale (both percentages rounded up); an integer minAvailable against the
 * selected pods.
 */
export function expectedAndDesired(pdb: PodDisruptionBudget, pods: Pod[], owners: Owners): { expected: number; desired: number; unmanaged: string[] } {
  const { maxUnavailable, minAvailable } = pdb.spec ?? {};
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    const { expected, unmanaged } = expectedScale(pods, owners);
    return { expected, desired: Math.max(0, expected - scaledValue(maxUnavailable, expected, true)), unmanaged };
  }
  if (typeof minAvailable === 'number') return { expected: pods.length, desired: minAvailable, unmanaged: [] };
  if (typeof minAvailable === 'string') {
    const { expected, unmanaged } = expectedScale(pods, owners);
    return { expected, desired: scaledValue(minAvailable, expected, true), unmanaged };
  }
  return { expected: 0, desired: 0, unmanaged: [] };
}

const parseTime = (t: string | undefined) => (t ? Date.parse(t) : NaN);

/**
 * The evictions still awaited: entries of status.disruptedPods for pods that exist, are not
 * terminating yet and were approved less than DISRUPTED_POD_TIMEOUT_MS ago; and when the
 * earliest of them expires (to look again then).
 */
export function pendingDisruptions(pods: Pod[], pdb: PodDisruptionBudget, nowMs: number): { disrupted: Record<string, string>; recheckAtMs?: number } {
  const recorded = pdb.status?.disruptedPods ?? {};
  const disrupted: Record<string, string> = {};
  let recheckAtMs: number | undefined;
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp || !(name in recorded)) continue;
    const expires = parseTime(recorded[name]) + DISRUPTED_POD_TIMEOUT_MS;
    if (!(expires >= nowMs)) continue; // expired (or unreadable): the pod was not deleted after all
    disrupted[name] = recorded[name];
    if (recheckAtMs === undefined || expires < recheckAtMs) recheckAtMs = expires;
  }
  return { disrupted, recheckAtMs };
}

/** Ready pods that are neither terminating nor about to be evicted. */
export function countHealthy(pods: Pod[], disrupted: Record<string, string>, nowMs: number): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const at = disrupted[pod.metadata?.name ?? ''];
    if (at !== undefined && parseTime(at) + DISRUPTED_POD_TIMEOUT_MS > nowMs) continue;
    if (isPodReady(pod)) n++;
  }
  return n;
}

export interface BudgetSync {
  /** The status to write, or undefined when the stored one is current. */
  status?: BudgetStatus;
  /** Look again after this long (a pending eviction expires). */
  recheckAfterMs?: number;
  /** Selected pods with no controller (their budget may be miscounted). */
  unmanaged: string[];
  /** Why the status could not be computed (then `status` is the fail-safe one: no disruptions). */
  error?: string;
}

/** The budget's desired status from the pods it selects (`pods`: the namespace's pods, any). */
export function syncBudget(pdb: PodDisruptionBudget, allPods: Pod[], owners: Owners, now: Date): BudgetSync {
  const pods = podsForBudget(pdb, allPods);
  const old: BudgetStatus = pdb.status ?? {};
  let counts: ReturnType<typeof expectedAndDesired>;
  try {
    counts = expectedAndDesired(pdb, pods, owners);
  } catch (e) {
    const error = (e as Error).message;
    const status: BudgetStatus = { ...old, conditions: old.conditions ? [...old.conditions] : undefined };
    setSyncFailedCondition(status, error, now);
    const same = old.disruptionsAllowed === 0 && JSON.stringify(status.conditions) === JSON.stringify(old.conditions);
    return { status: same ? undefined : status, unmanaged: [], error };
  }
  const nowMs = now.getTime();
  const { disrupted, recheckAtMs } = pendingDisruptions(pods, pdb, nowMs);
  const currentHealthy = countHealthy(pods, disrupted, nowMs);
  // No expected pods is the safe state a budget is in before its first pods are counted.
  const allowed = counts.expected <= 0 ? 0 : Math.max(0, currentHealthy - counts.desired);
  const generation = pdb.metadata?.generation ?? 0;
  const recheckAfterMs = recheckAtMs !== undefined ? Math.max(0, recheckAtMs - nowMs) : undefined;
  const unchanged = old.currentHealthy === currentHealthy && old.desiredHealthy === counts.desired && old.expectedPods === counts.expected
    && old.disruptionsAllowed === allowed && sameMap(old.disruptedPods, disrupted) && old.observedGeneration === generation && disruptionConditionUpToDate(old);
  if (unchanged) return { recheckAfterMs, unmanaged: counts.unmanaged };
  const status: BudgetStatus = {
    currentHealthy, desiredHealthy: counts.desired, expectedPods: counts.expected, disruptionsAllowed: allowed, observedGeneration: generation,
    ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
    ...(old.conditions ? { conditions: [...old.conditions] } : {}),
  };
  setDisruptionAllowedCondition(status, now);
  return { status, recheckAfterMs, unmanaged: counts.unmanaged };
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a![k] === b[k]);
}
