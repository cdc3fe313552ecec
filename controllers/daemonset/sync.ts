import type { DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { isPodAvailable, isPodReady } from '../util/pods';
import { HASH_LABEL, nodeShouldRunDaemonPod, targetNodeName } from './placement';

/**
 * One step of a DaemonSet, from observed state only (Kubernetes' daemon
 * controller): which nodes need a pod, which pods go, and the status. Pods are
 * the DaemonSet's own (controller reference and selector), grouped by the node
 * they are on or meant for. A node never gets a second pod while one is still
 * terminating there, unless maxSurge allows it.
 */

/** Upper bound of creations or deletions one sync issues (Kubernetes' burstReplicas). */
export const BURST = 250;

export interface DaemonSetPlan {
  /** Nodes that need a daemon pod. */
  create: string[];
  /** Pods to delete (excess, misplaced, succeeded, replaced by the rolling update). */
  delete: Pod[];
  /** Failed pods to delete and recreate, subject to the controller's per-node backoff. */
  failed: { pod: Pod; node: string }[];
}

const emptyPlan = (): DaemonSetPlan => ({ create: [], delete: [], failed: [] });

function creation(p: Pod): number {
  return Date.parse(p.metadata?.creationTimestamp ?? '') || 0;
}

/** Scheduled first, then oldest first, then by name (Kubernetes' podByCreationTimestampAndPhase). */
export function oldestFirst(pods: Pod[]): Pod[] {
  return [...pods].sort((a, b) => {
    const sa = a.spec?.nodeName ? 0 : 1;
    const sb = b.spec?.nodeName ? 0 : 1;
    if (sa !== sb) return sa - sb;
    const d = creation(a) - creation(b);
    if (d !== 0) return d;
    const na = a.metadata?.name ?? '';
    const nb = b.metadata?.name ?? '';
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
}

/** The pods by the node they are on or meant for; pods naming no node are left out. */
export function podsByNode(pods: Pod[]): Map<string, Pod[]> {
  const m = new Map<string, Pod[]>();
  for (const p of pods) {
    const n = targetNodeName(p);
    if (!n) continue;
    const list = m.get(n) ?? [];
    list.push(p);
    m.set(n, list);
  }
  return m;
}

export function isPodUpdated(pod: Pod, hash: string): boolean {
  return pod.metadata?.labels?.[HASH_LABEL] === hash;
}

function resolve(v: number | string | undefined, total: number): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (m) return Math.ceil((Number(m[1]) * total) / 100);
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** maxSurge and maxUnavailable as numbers of nodes (percentages of `desired`, rounded up); both 0 means unavailable 1. */
export function surgeAndUnavailable(ds: DaemonSet, desired: number): { maxSurge: number; maxUnavailable: number } {
  if (ds.spec?.updateStrategy?.type === 'OnDelete') return { maxSurge: 0, maxUnavailable: 0 };
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  const maxSurge = resolve(ru?.maxSurge, desired);
  let maxUnavailable = resolve(ru?.maxUnavailable ?? 1, desired);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

function allowsSurge(ds: DaemonSet): boolean {
  return surgeAndUnavailable(ds, 1).maxSurge > 0;
}

/**
 * Kubernetes' manage step, node by node: a node that should run the daemon and
 * has no pod gets one; a node that may keep it keeps the oldest running pod
 * (with maxSurge, an old and a new one while the new one is not available);
 * failed pods are replaced (after backoff), succeeded ones removed; a node that
 * must not run it loses its pods. Unscheduled pods meant for a node that no
 * longer exists are deleted.
 */
export function planManage(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, hash: string, nowMs: number): DaemonSetPlan {
  const plan = emptyPlan();
  const surge = allowsSurge(ds);
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const names = new Set<string>();
  for (const node of nodes) {
    const name = node.metadata?.name ?? '';
    names.add(name);
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const pods = byNode.get(name) ?? [];
    if (shouldRun && pods.length === 0) {
      plan.create.push(name);
      continue;
    }
    if (shouldContinueRunning) {
      const running: Pod[] = [];
      for (const p of pods) {
        if (p.metadata?.deletionTimestamp) continue;
        if (p.status?.phase === 'Failed') plan.failed.push({ pod: p, node: name });
        else if (p.status?.phase === 'Succeeded') plan.delete.push(p);
        else running.push(p);
      }
      const sorted = oldestFirst(running);
      if (!surge) {
        plan.delete.push(...sorted.slice(1));
        continue;
      }
      if (sorted.length === 0) {
        if (shouldRun) plan.create.push(name);
        continue;
      }
      if (sorted.length === 1) continue;
      // Surging: keep the oldest new pod and the oldest old one; the old one goes once the new one is available.
      let oldestNew: Pod | undefined;
      let oldestOld: Pod | undefined;
      for (const p of sorted) {
        if (isPodUpdated(p, hash)) {
          if (!oldestNew) { oldestNew = p; continue; }
        } else if (!oldestOld) { oldestOld = p; continue; }
        plan.delete.push(p);
      }
      if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, minReady, nowMs))) plan.delete.push(oldestOld);
      continue;
    }
    for (const p of pods) if (!p.metadata?.deletionTimestamp) plan.delete.push(p);
  }
  for (const [node, pods] of byNode) {
    if (names.has(node)) continue;
    for (const p of pods) if (!p.spec?.nodeName && !p.metadata?.deletionTimestamp) plan.delete.push(p);
  }
  plan.create = plan.create.slice(0, BURST);
  plan.delete = plan.delete.slice(0, BURST);
  return plan;
}

/** The non-terminating new and old pod on a node; undefined when there is more than one of either (manage prunes first). */
function updatedPodsOnNode(pods: Pod[], hash: string): { newPod?: Pod; oldPod?: Pod } | undefined {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    if (isPodUpdated(p, hash)) {
      if (newPod) return undefined;
      newPod = p;
    } else {
      if (oldPod) return undefined;
      oldPod = p;
    }
  }
  return { newPod, oldPod };
}

/**
 * Kubernetes' rolling update step, run when the manage step has nothing to do.
 * Without surge: old pods are deleted (the manage step then creates their
 * replacements once they are gone) while fewer than maxUnavailable nodes are
 * unavailable; an old pod that is not available anyway is replaced at once.
 * With surge: a new pod is created beside an available old one on up to
 * maxSurge nodes at a time, and the old one deleted once the new one is
 * available.
 */
export function planRollingUpdate(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, hash: string, nowMs: number): DaemonSetPlan {
  const plan = emptyPlan();
  if (ds.spec?.updateStrategy?.type === 'OnDelete') return plan;
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const available = (p: Pod) => isPodAvailable(p, minReady, nowMs);
  const nodeByName = new Map(nodes.map((n) => [n.metadata?.name ?? '', n]));
  const shouldRun = (name: string) => {
    const n = nodeByName.get(name);
    return !!n && nodeShouldRunDaemonPod(n, ds).shouldRun;
  };
  const podsOf = new Map(byNode);
  let desired = 0;
  for (const n of nodes) {
    const name = n.metadata?.name ?? '';
    if (!nodeShouldRunDaemonPod(n, ds).shouldRun) continue;
    desired++;
    if (!podsOf.has(name)) podsOf.set(name, []);
  }
  const { maxSurge, maxUnavailable } = surgeAndUnavailable(ds, desired);
  const nodeNames = [...podsOf.keys()].sort();

  if (maxSurge === 0) {
    let numUnavailable = 0;
    const replace: Pod[] = [];
    const candidates: Pod[] = [];
    for (const name of nodeNames) {
      const found = updatedPodsOnNode(podsOf.get(name)!, hash);
      if (!found) { numUnavailable++; continue; }
      const { newPod, oldPod } = found;
      if ((!oldPod && !newPod) || (oldPod && newPod)) { numUnavailable++; continue; }
      if (newPod) {
        if (!available(newPod)) numUnavailable++;
        continue;
      }
      if (!available(oldPod!)) {
        replace.push(oldPod!);
        numUnavailable++;
      } else if (numUnavailable < maxUnavailable) {
        candidates.push(oldPod!);
      }
    }
    const room = Math.min(Math.max(0, maxUnavailable - numUnavailable), candidates.length);
    plan.delete = [...replace, ...candidates.slice(0, room)].slice(0, BURST);
    return plan;
  }

  let numSurge = 0;
  let numAvailable = 0;
  const allowedNew: string[] = [];
  const candidateNew: string[] = [];
  const shouldNotRun: Pod[] = [];
  for (const name of nodeNames) {
    const found = updatedPodsOnNode(podsOf.get(name)!, hash);
    if (!found) { numSurge++; continue; }
    const { newPod, oldPod } = found;
    if (oldPod ? available(oldPod) : newPod ? available(newPod) : false) numAvailable++;
    if (!oldPod) continue;
    if (!newPod) {
      if (!available(oldPod)) {
        if (!shouldRun(name)) plan.delete.push(oldPod);
        else allowedNew.push(name);
      } else if (!shouldRun(name)) {
        shouldNotRun.push(oldPod);
      } else if (numSurge < maxSurge) {
        candidateNew.push(name);
      }
      continue;
    }
    if (!available(newPod)) { numSurge++; continue; }
    plan.delete.push(oldPod);
  }
  // With surge the owner expects full availability: a pod on a node that no longer matches goes only once enough others are available.
  const deletable = Math.min(Math.max(0, numAvailable - desired), shouldNotRun.length);
  plan.delete.push(...shouldNotRun.slice(0, deletable));
  const room = Math.min(Math.max(0, maxSurge - numSurge), candidateNew.length);
  plan.create = [...allowedNew, ...candidateNew.slice(0, room)].slice(0, BURST);
  plan.delete = plan.delete.slice(0, BURST);
  return plan;
}

/**
 * The status Kubernetes reports, node by node: desired (nodes that should run
 * it), current (those that have a pod), misscheduled (pods on nodes that
 * should not), and of each node's oldest pod whether it is ready, available
 * and of the current revision. `observedGeneration` only when this step acted
 * on the current generation.
 */
export function computeDaemonSetStatus(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, hash: string, nowMs: number, observed: boolean): DaemonSetStatus {
  const minReady = ds.spec?.minReadySeconds ?? 0;
  let desired = 0;
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  for (const node of nodes) {
    const pods = byNode.get(node.metadata?.name ?? '') ?? [];
    const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
    if (!shouldRun) {
      if (pods.length > 0) misscheduled++;
      continue;
    }
    desired++;
    if (pods.length === 0) continue;
    current++;
    const pod = oldestFirst(pods)[0];
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReady, nowMs)) available++;
    }
    if (isPodUpdated(pod, hash)) updated++;
  }
  const status: DaemonSetStatus = {
    currentNumberScheduled: current,
    desiredNumberScheduled: desired,
    numberMisscheduled: misscheduled,
    numberReady: ready,
    updatedNumberScheduled: updated,
    numberAvailable: available,
    numberUnavailable: desired - available,
  };
  const gen = observed ? ds.metadata?.generation : ds.status?.observedGeneration;
  if (gen !== undefined) status.observedGeneration = gen;
  if (ds.status?.collisionCount !== undefined) status.collisionCount = ds.status.collisionCount;
  if (ds.status?.conditions?.length) status.conditions = ds.status.conditions;
  return status;
}

export function daemonSetStatusEqual(a: DaemonSetStatus | undefined, b: DaemonSetStatus): boolean {
  const f = (s: DaemonSetStatus | undefined) =>
    [s?.currentNumberScheduled, s?.desiredNumberScheduled, s?.numberMisscheduled, s?.numberReady, s?.updatedNumberScheduled ?? 0, s?.numberAvailable ?? 0, s?.numberUnavailable ?? 0, s?.observedGeneration ?? 0, s?.collisionCount ?? 0].join(',');
  return f(a) === f(b);
}
