import type { Pod } from 'kubernetes-types/core/v1';
import type { ReplicaSet, ReplicaSetStatus } from 'kubernetes-types/apps/v1';
import { isPodAvailable, isPodReady, podFromTemplate } from '../util/pods';
import { generatedName } from '../../lib/names';
import { newControllerRef } from '../util/owners';

/** Upper bound of creations or deletions one sync issues (Kubernetes' burstReplicas). */
const BURST_REPLICAS = 500;

export interface ReplicaSetPlan {
  /** How many pods to create. */
  create: number;
  /** Pods to delete, best candidates first. */
  delete: Pod[];
}

/**
 * Decides how to move `pods` (active pods owned by `rs`) toward spec.replicas.
 * Never exceeds BURST_REPLICAS in one step.
 */
export function planReplicaSet(rs: ReplicaSet, pods: Pod[]): ReplicaSetPlan {
  const want = rs.spec?.replicas ?? 1;
  const diff = pods.length - want;
  if (diff < 0) return { create: Math.min(-diff, BURST_REPLICAS), delete: [] };
  if (diff > 0) return { create: 0, delete: rankPodsForDeletion(pods).slice(0, Math.min(diff, BURST_REPLICAS)) };
  return { create: 0, delete: [] };
}

function phaseRank(p: Pod): number {
  const phase = p.status?.phase;
  return phase === 'Pending' ? 0 : phase === 'Unknown' || phase === undefined ? 1 : phase === 'Running' ? 2 : 1;
}

function creation(p: Pod): number {
  const t = p.metadata?.creationTimestamp ? Date.parse(p.metadata.creationTimestamp) : NaN;
  return Number.isFinite(t) ? t : 0;
}

/**
 * Orders pods from "delete first" to "delete last" as Kubernetes' ActivePods
 * ranking does: unscheduled before scheduled, Pending before Unknown before
 * Running, not-ready before ready, then newest before oldest, then by name.
 */
export function rankPodsForDeletion(pods: Pod[]): Pod[] {
  const key = (p: Pod): [number, number, number, number] => [
    p.spec?.nodeName ? 1 : 0,
    phaseRank(p),
    isPodReady(p) ? 1 : 0,
    -creation(p),
  ];
  return [...pods].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] - kb[i];
    const na = a.metadata?.name ?? '';
    const nb = b.metadata?.name ?? '';
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
}

/** `<rs>-<5 random characters>`, as generateName gives, chosen client-side. */
export function newPodName(rsName: string, rand?: () => number): string {
  return generatedName(`${rsName}-`, rand);
}

/** A pod for `rs` from its template: labels, annotations and spec copied, owned by the RS. */
export function newPodForReplicaSet(rs: ReplicaSet, name: string): Pod {
  const t = rs.spec?.template;
  return podFromTemplate(t, structuredClone(t?.spec ?? { containers: [] }), { name, namespace: rs.metadata?.namespace, owner: newControllerRef(rs, 'apps/v1', 'ReplicaSet') });
}

/** Status of `rs` given its active owned pods at `nowMs`. */
export function computeReplicaSetStatus(rs: ReplicaSet, pods: Pod[], nowMs: number): ReplicaSetStatus {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReady = rs.spec?.minReadySeconds ?? 0;
  let fully = 0;
  let ready = 0;
  let available = 0;
  for (const p of pods) {
    const l = p.metadata?.labels ?? {};
    if (Object.entries(templateLabels).every(([k, v]) => l[k] === v)) fully++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, minReady, nowMs)) available++;
    }
  }
  const status: ReplicaSetStatus = {
    replicas: pods.length,
    fullyLabeledReplicas: fully,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: rs.metadata?.generation ?? rs.status?.observedGeneration,
  };
  if (rs.status?.conditions?.length) status.conditions = rs.status.conditions;
  return status;
}

/**
 * When some pod is ready but not yet available (minReadySeconds), the delay
 * after which the status must be recomputed; undefined when nothing is waiting.
 */
export function nextAvailabilityCheckMs(rs: ReplicaSet, pods: Pod[], nowMs: number): number | undefined {
  const minReady = rs.spec?.minReadySeconds ?? 0;
  if (!minReady) return undefined;
  let best: number | undefined;
  for (const p of pods) {
    if (!isPodReady(p) || isPodAvailable(p, minReady, nowMs)) continue;
    const c = p.status?.conditions?.find((x) => x.type === 'Ready');
    const since = c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : nowMs;
    const wait = Math.max(1, since + minReady * 1000 - nowMs);
    best = best === undefined ? wait : Math.min(best, wait);
  }
  return best;
}

export function statusEqual(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean {
  const f = (s: ReplicaSetStatus | undefined) => [s?.replicas ?? 0, s?.fullyLabeledReplicas ?? 0, s?.readyReplicas ?? 0, s?.availableReplicas ?? 0, s?.observedGeneration ?? 0].join(',');
  return f(a) === f(b);
}
