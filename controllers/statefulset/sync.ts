import type { ControllerRevision, StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import type { OwnerReference } from 'kubernetes-types/meta/v1';
import { resolveIntOrPercent } from '../deployment/sync';
import { isPodAvailable, isPodReady } from '../util/pods';
import { claimOwners, newClaim, newPod, ordinalOf, podRevision, sameOwners, startOrdinal } from './identity';
import { templateOf } from './revisions';

/**
 * One step of a StatefulSet, computed from observed state only (Kubernetes'
 * stateful set control): the pod and claim writes to make now, in order, and
 * the status to write. Pods are identified by name `<set>-<ordinal>`, so
 * applying a plan twice (a stale cache, a restarted controller) cannot make a
 * second pod for an ordinal: the create of an existing name fails.
 *
 * - Ordinals in [start, start+replicas) are replicas; others are condemned.
 * - A missing replica gets its claims, then its pod. A pod that is
 *   terminating is waited out before anything replaces it.
 * - OrderedReady: creation stops at the first replica that is not Running,
 *   Ready and available (minReadySeconds); condemned pods go one at a time,
 *   highest ordinal first, only when every replica is healthy.
 *   Parallel: everything at once, no waiting.
 * - Failed or Succeeded pods are deleted (and recreated once gone).
 * - RollingUpdate: once the above is settled, the highest ordinal ≥ partition
 *   whose revision is not the update revision is deleted (recreated at the
 *   update revision), one at a time, each after the one above is available;
 *   with `maxUnavailable` set, up to that many unavailable at once.
 *   OnDelete: pods change revision only when someone deletes them.
 */

export type StatefulSetAction =
  | { type: 'createClaim'; claim: PersistentVolumeClaim; pod: string }
  | { type: 'createPod'; pod: Pod }
  | { type: 'deletePod'; pod: Pod; reason: 'failed' | 'scaleDown' | 'update' }
  | { type: 'updateClaimOwners'; claim: PersistentVolumeClaim; ownerReferences: OwnerReference[] };

export interface StatefulSetPlan {
  /** Writes in the order they must be made; stop at the first that fails. */
  actions: StatefulSetAction[];
  status: StatefulSetStatus;
  /** When a ready pod becomes available (minReadySeconds) and progress can resume, in ms. */
  requeueAfterMs?: number;
  /** What the set is waiting for when it stopped early (for logs and tests). */
  waiting?: string;
}

export interface StatefulSetInput {
  set: StatefulSet;
  current: ControllerRevision;
  update: ControllerRevision;
  /** Pods the set controls (by uid), any state. */
  pods: Pod[];
  /** Looks up a claim of the set's namespace by name. */
  claim(name: string): PersistentVolumeClaim | undefined;
  nowMs: number;
}

const terminating = (p: Pod) => !!p.metadata?.deletionTimestamp;
const runningAndReady = (p: Pod) => p.status?.phase === 'Running' && isPodReady(p);

export function planStatefulSet(input: StatefulSetInput): StatefulSetPlan {
  const { set, current, update, pods, nowMs } = input;
  const setName = set.metadata?.name ?? '';
  const want = set.spec?.replicas ?? 1;
  const start = startOrdinal(set);
  const minReady = set.spec?.minReadySeconds ?? 0;
  const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
  const available = (p: Pod) => runningAndReady(p) && isPodAvailable(p, minReady, nowMs);
  const unavailable = (p: Pod | undefined) => !p || terminating(p) || !available(p);

  const slots: (Pod | undefined)[] = Array.from({ length: want }, () => undefined);
  const condemned: Pod[] = [];
  for (const p of pods) {
    const ord = ordinalOf(setName, p.metadata?.name);
    if (ord < 0) continue;
    if (ord >= start && ord < start + want) slots[ord - start] = p;
    else condemned.push(p);
  }
  condemned.sort((a, b) => ordinalOf(setName, b.metadata?.name) - ordinalOf(setName, a.metadata?.name));

  const plan: StatefulSetPlan = { actions: [], status: computeStatus(set, current, update, pods, nowMs) };
  plan.requeueAfterMs = nextAvailabilityMs(pods, minReady, nowMs);
  if (set.metadata?.deletionTimestamp) return plan;

  const firstUnavailable = slots.find((p) => unavailable(p)) ?? [...condemned].reverse().find((p) => unavailable(p));
  const stop = (why: string) => {
    plan.waiting ??= why;
    return true;
  };

  // Which revision a newly created pod gets: below the partition it keeps the current one.
  const ru = set.spec?.updateStrategy?.rollingUpdate;
  const rolling = (set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const atCurrent = (ord: number) => rolling && (ru ? ord < start + (ru.partition ?? 0) : ord < start + (set.status?.currentReplicas ?? 0));
  const created = new Map<number, Pod>();

  const templates = set.spec?.volumeClaimTemplates ?? [];
  const missingClaims = (ord: number, podName: string): boolean => {
    let stale = false;
    for (const t of templates) {
      const c = newClaim(set, t, ord);
      const existing = input.claim(c.metadata!.name!);
      if (!existing) plan.actions.push({ type: 'createClaim', claim: c, pod: podName });
      else if (existing.metadata?.deletionTimestamp) stale = true;
    }
    return stale;
  };
  const fixClaimOwners = (p: Pod, ord: number, inRange: boolean) => {
    for (const t of templates) {
      const c = input.claim(newClaim(set, t, ord).metadata!.name!);
      if (!c || c.metadata?.deletionTimestamp) continue;
      const refs = claimOwners(set, c, p, inRange);
      if (!sameOwners(c.metadata?.ownerReferences, refs)) plan.actions.push({ type: 'updateClaimOwners', claim: c, ownerReferences: refs });
    }
  };

  // 1. Replicas, in ordinal order.
  const processReplica = (i: number): boolean => {
    const ord = start + i;
    const p = slots[i];
    if (p && (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded')) {
      if (!terminating(p)) plan.actions.push({ type: 'deletePod', pod: p, reason: 'failed' });
      return stop(`pod ${p.metadata?.name} ${p.status?.phase}: replaced once gone`);
    }
    if (!p) {
      const name = `${setName}-${ord}`;
      if (missingClaims(ord, name)) return stop(`a claim of ${name} is being deleted`);
      const rev = atCurrent(ord) ? current : update;
      const pod = newPod(set, templateOf(rev), rev.metadata?.name ?? '', ord);
      plan.actions.push({ type: 'createPod', pod });
      created.set(i, pod);
      return monotonic ? stop(`created ${name}`) : false;
    }
    if (p.status?.phase === 'Pending' && missingClaims(ord, p.metadata?.name ?? '')) return stop(`a claim of ${p.metadata?.name} is being deleted`);
    if (terminating(p)) return monotonic ? stop(`pod ${p.metadata?.name} terminating`) : false;
    if (!runningAndReady(p)) return monotonic ? stop(`pod ${p.metadata?.name} not Running and Ready`) : false;
    if (!available(p)) return monotonic ? stop(`pod ${p.metadata?.name} not available (minReadySeconds)`) : false;
    fixClaimOwners(p, ord, true);
    return false;
  };
  const runAll = <T>(items: T[], fn: (i: number) => boolean): boolean => {
    if (monotonic) {
      for (let i = 0; i < items.length; i++) if (fn(i)) return true;
      return false;
    }
    for (let i = 0; i < items.length; i++) fn(i);
    return false;
  };
  if (runAll(slots, processReplica)) return plan;

  // 2. Condemned pods: claims handed to the pod (whenScaled: Delete), then the pod, highest ordinal first.
  for (const c of condemned) if (!terminating(c)) fixClaimOwners(c, ordinalOf(setName, c.metadata?.name), false);
  const processCondemned = (i: number): boolean => {
    const c = condemned[i];
    if (terminating(c)) return monotonic ? stop(`pod ${c.metadata?.name} terminating (scale down)`) : false;
    if (monotonic && c !== firstUnavailable && !available(c)) return stop(`pod ${firstUnavailable?.metadata?.name ?? c.metadata?.name} unavailable: no scale down`);
    plan.actions.push({ type: 'deletePod', pod: c, reason: 'scaleDown' });
    return monotonic ? stop(`deleted ${c.metadata?.name} (scale down)`) : false;
  };
  if (runAll(condemned, processCondemned)) return plan;

  // 3. Rolling update.
  if (!rolling) return plan;
  const updateMin = ru?.partition ?? 0;
  const revisionAt = (i: number) => (slots[i] ? podRevision(slots[i]!) : podRevision(created.get(i)!));
  if (ru?.maxUnavailable !== undefined) {
    const maxUnavailable = Math.max(1, resolveIntOrPercent(ru.maxUnavailable, want, false, 1));
    const down = slots.filter((p) => unavailable(p)).length;
    let budget = maxUnavailable - down;
    for (let i = want - 1; i >= updateMin && budget > 0; i--) {
      const p = slots[i];
      if (p && podRevision(p) !== update.metadata?.name && !terminating(p)) {
        plan.actions.push({ type: 'deletePod', pod: p, reason: 'update' });
        budget--;
      }
    }
    if (budget <= 0 && plan.actions.length === 0) stop(`${down} pods unavailable (maxUnavailable ${maxUnavailable})`);
    return plan;
  }
  for (let i = want - 1; i >= updateMin; i--) {
    const p = slots[i];
    if (p && revisionAt(i) !== update.metadata?.name && !terminating(p)) {
      plan.actions.push({ type: 'deletePod', pod: p, reason: 'update' });
      stop(`deleted ${p.metadata?.name} (update)`);
      return plan;
    }
    if (unavailable(p)) {
      stop(`pod ${p?.metadata?.name ?? `${setName}-${start + i}`} unavailable: update waits`);
      return plan;
    }
  }
  return plan;
}

/** Status from the pods as observed (Kubernetes' replica status plus completeRollingUpdate). */
export function computeStatus(set: StatefulSet, current: ControllerRevision, update: ControllerRevision, pods: Pod[], nowMs: number): StatefulSetStatus {
  const minReady = set.spec?.minReadySeconds ?? 0;
  const want = set.spec?.replicas ?? 1;
  const s = { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 };
  for (const p of pods) {
    s.replicas++;
    if (runningAndReady(p)) {
      s.readyReplicas++;
      if (isPodAvailable(p, minReady, nowMs)) s.availableReplicas++;
    }
    if (!terminating(p)) {
      if (podRevision(p) === current.metadata?.name) s.currentReplicas++;
      if (podRevision(p) === update.metadata?.name) s.updatedReplicas++;
    }
  }
  const status: StatefulSetStatus = {
    observedGeneration: set.metadata?.generation,
    replicas: s.replicas,
    readyReplicas: s.readyReplicas,
    currentReplicas: s.currentReplicas,
    updatedReplicas: s.updatedReplicas,
    availableReplicas: s.availableReplicas,
    currentRevision: current.metadata?.name,
    updateRevision: update.metadata?.name,
    collisionCount: set.status?.collisionCount ?? 0,
  };
  const rolling = (set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  if (rolling && s.updatedReplicas === want && s.readyReplicas === want && s.replicas === want) {
    status.currentReplicas = s.updatedReplicas;
    status.currentRevision = update.metadata?.name;
  }
  if (set.status?.conditions?.length) status.conditions = set.status.conditions;
  return status;
}

/** Delay until the next ready pod becomes available under minReadySeconds, if any waits. */
function nextAvailabilityMs(pods: Pod[], minReady: number, nowMs: number): number | undefined {
  if (!minReady) return undefined;
  let best: number | undefined;
  for (const p of pods) {
    if (!runningAndReady(p) || isPodAvailable(p, minReady, nowMs)) continue;
    const since = Date.parse(p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '') || nowMs;
    const wait = Math.max(1, since + minReady * 1000 - nowMs);
    best = best === undefined ? wait : Math.min(best, wait);
  }
  return best;
}

export function statusEqual(a: StatefulSetStatus | undefined, b: StatefulSetStatus): boolean {
  const keys = ['observedGeneration', 'replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'currentRevision', 'updateRevision', 'collisionCount'] as const;
  return keys.every((k) => (a?.[k] ?? 0) === (b[k] ?? 0));
}
