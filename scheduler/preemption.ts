import type { Pod } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { CycleState, nodeInfo, type NodeInfo, type Snapshot, type Status } from './framework';
import { failureMessage, filterNode, type Diagnosis } from './schedule';
import type { Profile } from './plugins/registry';
import { matchesSelector } from '../lib/label-selector';
import { podPriority } from '../lib/priority';

/**
 * kube-scheduler's DefaultPreemption PostFilter, the pure part: given a pod no node could take,
 * which node to free and which pods to evict there. Per node where preemption might help (its
 * filter Status was Unschedulable, not UnschedulableAndUnresolvable): take away every pod of
 * lower priority, check the pod then fits (the profile's filters), and give back as many of
 * them as still lets it fit, most important first, those whose eviction would break a
 * PodDisruptionBudget before the others. Of the nodes that work, the one with the fewest budget
 * violations, then the lowest highest-victim priority, the smallest priority sum, the fewest
 * victims, the latest start among the most important victims (upstream's pickOneNodeForPreemption).
 * preempt.ts does the IO (nominatedNodeName, deleting victims, events).
 *
 * Not modelled: plugins' AddPod/RemovePod state updates (the CycleState of the failed attempt is
 * reused as it is, which is exact for the resource, taint, selector and port filters; pod
 * (anti-)affinity against a victim is not reconsidered, as upstream also declines to).
 */

export const NO_VICTIMS = 'No preemption victims found for incoming pod';
export const NOT_HELPFUL = 'Preemption is not helpful for scheduling';

/** One node that works, with the pods to evict there (most important first). */
export interface Candidate {
  nodeName: string;
  victims: Pod[];
  /** Victims whose eviction breaks a PodDisruptionBudget. */
  pdbViolations: number;
}

export type PreemptionResult =
  | { ok: true; candidate: Candidate }
  /** `message` is what follows "preemption: " in the FailedScheduling event. */
  | { ok: false; message: string };

export interface PreemptionInput {
  pod: Pod;
  snapshot: Snapshot;
  profile: Profile;
  /** The failed attempt's per-node Statuses (schedulePod's `diagnosis`). */
  diagnosis: Diagnosis;
  /** A PreFilter's rejection of the whole attempt, if that is what happened. */
  preFilter?: Status;
  /** The failed attempt's CycleState (PreFilter results). */
  state?: CycleState;
  pdbs: PodDisruptionBudget[];
  /** Every pod the scheduler knows, for pods nominated to a node (they count as placed there). */
  nominated?: Pod[];
  /** Where to start among potential nodes (upstream: random), so equal clusters share the work. */
  offset?: number;
}

/** Upstream's candidate budget: 10% of the nodes, at least 100, at most the potential nodes. */
function candidateLimit(potential: number, all: number): number {
  return Math.min(potential, Math.max(100, Math.floor(all / 10)));
}

const startTime = (p: Pod): number => Date.parse(p.status?.startTime ?? p.metadata?.creationTimestamp ?? '') || 0;

/** Upstream's MoreImportantPod: higher priority first, then the one that started earlier. */
export function moreImportant(a: Pod, b: Pod): number {
  return podPriority(b) - podPriority(a) || startTime(a) - startTime(b);
}

/** Why `pod` may not preempt at all (upstream's PodEligibleToPreemptOthers), or undefined when it may. */
export function notEligible(pod: Pod, snapshot: Snapshot): string | undefined {
  if (pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
  const nominated = pod.status?.nominatedNodeName;
  if (nominated) {
    // a victim of an earlier preemption still terminating there: wait for it rather than preempt more
    const info = snapshot.get(nominated);
    const prio = podPriority(pod);
    if (info?.pods.some((p) => p.metadata?.deletionTimestamp && podPriority(p) < prio)) return 'not eligible due to a terminating pod on the nominated node.';
  }
  return undefined;
}

/**
 * Pods nominated to a node (status.nominatedNodeName, not bound yet) with at least `pod`'s
 * priority, added to that node: upstream filters with them so a freed node is kept for its
 * preemptor. Returns new NodeInfos where something was added, the same object otherwise;
 * a pod already in a NodeInfo is not added again (so applying it twice is harmless).
 */
export function withNominatedPods(infos: NodeInfo[], pods: Pod[], pod: Pod): NodeInfo[] {
  const prio = podPriority(pod);
  const uid = pod.metadata?.uid;
  const byNode = new Map<string, Pod[]>();
  for (const p of pods) {
    const n = p.status?.nominatedNodeName;
    if (!n || p.spec?.nodeName || p.metadata?.deletionTimestamp || podPriority(p) < prio) continue;
    if ((uid && p.metadata?.uid === uid) || (p.metadata?.namespace === pod.metadata?.namespace && p.metadata?.name === pod.metadata?.name)) continue;
    let l = byNode.get(n);
    if (!l) byNode.set(n, (l = []));
    l.push(p);
  }
  if (byNode.size === 0) return infos;
  return infos.map((i) => {
    const have = new Set(i.pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`));
    const extra = byNode.get(i.node.metadata?.name ?? '')?.filter((p) => !have.has(`${p.metadata?.namespace}/${p.metadata?.name}`));
    return extra?.length ? nodeInfo(i.node, [...i.pods, ...extra]) : i;
  });
}

/**
 * Splits `pods` into those whose eviction breaks a budget and the others (upstream's
 * filterPodsWithPDBViolation): each matching budget allows status.disruptionsAllowed
 * evictions; pods already in its status.disruptedPods are not counted again. Order is kept.
 */
export function splitByPDBViolation(pods: Pod[], pdbs: PodDisruptionBudget[]): { violating: Pod[]; nonViolating: Pod[] } {
  const allowed = pdbs.map((b) => b.status?.disruptionsAllowed ?? 0);
  const violating: Pod[] = [];
  const nonViolating: Pod[] = [];
  for (const p of pods) {
    let breaks = false;
    pdbs.forEach((b, i) => {
      const sel = b.spec?.selector;
      if (b.metadata?.namespace !== p.metadata?.namespace) return;
      if (!sel || (!sel.matchLabels && !sel.matchExpressions) || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)) return;
      if (!matchesSelector(sel, p.metadata?.labels)) return;
      if (p.metadata?.name && b.status?.disruptedPods?.[p.metadata.name] !== undefined) return;
      allowed[i]--;
      if (allowed[i] < 0) breaks = true;
    });
    (breaks ? violating : nonViolating).push(p);
  }
  return { violating, nonViolating };
}

/**
 * The victims on one node (upstream's SelectVictimsOnNode), or the Status saying why the node
 * cannot be freed for the pod.
 */
export function selectVictimsOnNode(pod: Pod, info: NodeInfo, profile: Profile, state: CycleState, pdbs: PodDisruptionBudget[]): Candidate | Status {
  const prio = podPriority(pod);
  const lower = info.pods.filter((p) => podPriority(p) < prio);
  if (lower.length === 0) return { code: 'UnschedulableAndUnresolvable', reasons: [NO_VICTIMS] };
  const lowerSet = new Set(lower);
  const kept = info.pods.filter((p) => !lowerSet.has(p));
  const failed = filterNode(pod, nodeInfo(info.node, kept), profile, state);
  if (failed) return failed;
  const { violating, nonViolating } = splitByPDBViolation([...lower].sort(moreImportant), pdbs);
  const victims: Pod[] = [];
  let pdbViolations = 0;
  const reprieve = (p: Pod): boolean => {
    kept.push(p);
    if (!filterNode(pod, nodeInfo(info.node, kept), profile, state)) return true;
    kept.pop();
    victims.push(p);
    return false;
  };
  for (const p of violating) if (!reprieve(p)) pdbViolations++;
  for (const p of nonViolating) reprieve(p);
  victims.sort(moreImportant);
  return { nodeName: info.node.metadata?.name ?? '', victims, pdbViolations };
}

/** Earliest start among the victims of the highest priority (upstream's GetEarliestPodStartTime). */
function earliestTopStart(victims: Pod[]): number {
  const top = Math.max(...victims.map(podPriority));
  return Math.min(...victims.filter((v) => podPriority(v) === top).map(startTime));
}

/** upstream's pickOneNodeForPreemption over the candidates (in the order found; the first wins ties). */
export function pickOneNode(candidates: Candidate[]): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  const free = candidates.find((c) => c.victims.length === 0);
  if (free) return free;
  // priorities are shifted by 2^31 so negative priorities still add up to a larger sum with more victims
  const sum = (c: Candidate) => c.victims.reduce((s, v) => s + podPriority(v) + 2 ** 31, 0);
  const keys: ((c: Candidate) => number)[] = [
    (c) => c.pdbViolations,
    (c) => podPriority(c.victims[0]),
    sum,
    (c) => c.victims.length,
    (c) => -earliestTopStart(c.victims),
  ];
  let best = candidates;
  for (const k of keys) {
    const min = Math.min(...best.map(k));
    best = best.filter((c) => k(c) === min);
    if (best.length === 1) break;
  }
  return best[0];
}

/** DefaultPreemption for one pod: the node to free and its victims, or why there is none. */
export function findPreemption(input: PreemptionInput): PreemptionResult {
  const { pod, profile, diagnosis, pdbs } = input;
  const why = notEligible(pod, input.snapshot);
  if (why) return { ok: false, message: why };
  const infos = input.nominated ? withNominatedPods(input.snapshot.nodes, input.nominated, pod) : input.snapshot.nodes;
  const state = input.state ?? new CycleState();
  const statuses = new Map<string, string[]>();
  const potential: NodeInfo[] = [];
  for (const n of infos) {
    const name = n.node.metadata?.name ?? '';
    const s = input.preFilter ?? diagnosis.get(name);
    if (s?.code === 'UnschedulableAndUnresolvable') statuses.set(name, [NOT_HELPFUL]);
    else potential.push(n);
  }
  const limit = candidateLimit(potential.length, infos.length);
  const candidates: Candidate[] = [];
  const offset = potential.length ? (input.offset ?? 0) % potential.length : 0;
  for (let i = 0; i < potential.length && candidates.length < limit; i++) {
    const n = potential[(offset + i) % potential.length];
    const r = selectVictimsOnNode(pod, n, profile, state, pdbs);
    if ('victims' in r) candidates.push(r);
    else statuses.set(n.node.metadata?.name ?? '', r.reasons);
  }
  const chosen = pickOneNode(candidates);
  if (chosen) return { ok: true, candidate: chosen };
  const reasons = new Map<string, number>();
  for (const rs of statuses.values()) for (const r of rs) reasons.set(r, (reasons.get(r) ?? 0) + 1);
  return { ok: false, message: failureMessage(statuses.size, reasons) };
}
