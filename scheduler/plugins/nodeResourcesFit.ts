import type { Container, Pod } from 'kubernetes-types/core/v1';
import { bytesOf } from '../../lib/quantity';
import { podRequests, unresolvable, unschedulable, type FilterPlugin, type NodeInfo, type Resources, type ScorePlugin } from '../framework';
import { leastAllocatedScore } from './leastAllocated';

/**
 * Resources other than cpu and memory that the scheduler counts (kube-scheduler's scalar
 * resources plus ephemeral-storage): ephemeral-storage, hugepages-<size>, attachable-volumes-*,
 * and extended resources (a name with a domain outside kubernetes.io, e.g. nvidia.com/gpu).
 * Other names (an unknown "foo") are not checked, as upstream.
 */
export function isCountedResource(name: string): boolean {
  if (name === 'ephemeral-storage' || name.startsWith('hugepages-') || name.startsWith('attachable-volumes-')) return true;
  return name.includes('/') && !name.includes('kubernetes.io/') && !name.startsWith('requests.');
}

/** The pod's requests of counted resources other than cpu and memory: containers summed, init containers maxed, overhead added. */
export function podScalarRequests(pod: Pod): Map<string, number> {
  const of = (c: Pick<Container, 'resources'>): [string, number][] =>
    Object.entries((c.resources?.requests ?? {}) as Record<string, string>).filter(([k]) => isCountedResource(k)).map(([k, v]) => [k, bytesOf(v)]);
  const sum = new Map<string, number>();
  for (const c of pod.spec?.containers ?? []) for (const [k, v] of of(c)) sum.set(k, (sum.get(k) ?? 0) + v);
  for (const c of pod.spec?.initContainers ?? []) for (const [k, v] of of(c)) sum.set(k, Math.max(sum.get(k) ?? 0, v));
  for (const [k, v] of of({ resources: { requests: pod.spec?.overhead } })) sum.set(k, (sum.get(k) ?? 0) + v);
  for (const [k, v] of sum) if (v === 0) sum.delete(k);
  return sum;
}

interface FitState {
  milliCPU: number;
  memory: number;
  /** Sorted by name, so reasons come out in a stable order. */
  scalar: [string, number][];
}

const STATE_KEY = 'PreFilterNodeResourcesFit';
const SCORE_KEY = 'PreScoreNodeResourcesFit';

function computeState(pod: Pod): FitState {
  const r = podRequests(pod);
  // ephemeral-storage is checked right after memory, as upstream; the others follow by name.
  const rank = (n: string) => (n === 'ephemeral-storage' ? '' : n);
  const scalar = [...podScalarRequests(pod)].sort(([a], [b]) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0));
  return { milliCPU: r.milliCPU, memory: r.memory, scalar };
}

/** Requests of `names` by the pods already on the node. */
function placedScalar(info: NodeInfo, names: readonly string[]): Map<string, number> {
  const used = new Map<string, number>();
  for (const p of info.pods) for (const [k, v] of podScalarRequests(p)) if (names.includes(k)) used.set(k, (used.get(k) ?? 0) + v);
  return used;
}

/**
 * Kubernetes' NodeResourcesFit. Filter: room for one more pod ("Too many pods"), and every
 * resource the pod requests (cpu, memory, ephemeral-storage, hugepages, extended resources such
 * as nvidia.com/gpu) fits in the node's allocatable minus what its pods request; every shortfall
 * is reported ("Insufficient nvidia.com/gpu"). Unschedulable, since evicting pods may make room;
 * unresolvable when a request exceeds the node's whole allocatable (a node with no GPU at all).
 * Score: the LeastAllocated strategy (leastAllocated.ts), weight 1 in the default profile.
 */
export const NodeResourcesFit: FilterPlugin & ScorePlugin = {
  name: 'NodeResourcesFit',
  weight: 1,
  preFilter(pod, _snapshot, state) {
    state.write(STATE_KEY, computeState(pod));
    return undefined;
  },
  filter(pod, info, state) {
    const want = state.read<FitState>(STATE_KEY) ?? computeState(pod);
    const reasons: string[] = [];
    let beyondNode = false;
    const check = (name: string, request: number, allocatable: number, used: number) => {
      if (request <= 0 || request <= allocatable - used) return;
      reasons.push(`Insufficient ${name}`);
      if (request > allocatable) beyondNode = true;
    };
    if (info.pods.length + 1 > info.allocatable.pods) reasons.push('Too many pods');
    check('cpu', want.milliCPU, info.allocatable.milliCPU, info.requested.milliCPU);
    check('memory', want.memory, info.allocatable.memory, info.requested.memory);
    if (want.scalar.length > 0) {
      const alloc = (info.node.status?.allocatable ?? info.node.status?.capacity ?? {}) as Record<string, string>;
      const used = placedScalar(info, want.scalar.map(([k]) => k));
      for (const [name, request] of want.scalar) check(name, request, bytesOf(alloc[name]), used.get(name) ?? 0);
    }
    if (reasons.length === 0) return undefined;
    return beyondNode ? unresolvable(...reasons) : unschedulable(...reasons);
  },
  preScore(pod, _nodes, _snapshot, state) {
    state.write(SCORE_KEY, podRequests(pod, true));
  },
  score(pod, info, state) {
    return leastAllocatedScore(state.read<Resources>(SCORE_KEY) ?? podRequests(pod, true), info);
  },
};
