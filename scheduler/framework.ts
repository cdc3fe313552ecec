import type { Node, Pod, Taint } from 'kubernetes-types/core/v1';
import { bytesOf, countOf, cpuMillis } from '../lib/quantity';

/** Resource amounts in scheduler units: cpu in millicores, memory in bytes. */
export interface Resources {
  milliCPU: number;
  memory: number;
}

/** A node as the scheduler sees it: the Node plus what is already placed there. */
export interface NodeInfo {
  node: Node;
  /** Pods bound (or assumed) to the node that are not finished. */
  pods: Pod[];
  /** Sum of those pods' requests. */
  requested: Resources;
  /** Sum of requests with Kubernetes' non-zero defaults (for scoring). */
  nonZeroRequested: Resources;
  allocatable: Resources & { pods: number };
  /** The node's Ready condition is True (read once when the NodeInfo is built). */
  ready: boolean;
  /** node.spec.unschedulable and node.spec.taints (empty when none), read once, so filters need not touch the Node. */
  unschedulable: boolean;
  taints: readonly Taint[];
  /** Those of `pods` with pod affinity or anti-affinity terms of any kind (upstream's PodsWithAffinity). */
  podsWithAffinity: Pod[];
  /** Those of `pods` with required pod anti-affinity terms (upstream's PodsWithRequiredAntiAffinity). */
  podsWithRequiredAntiAffinity: Pod[];
}

/**
 * A plugin's verdict, as kube-scheduler's framework.Status: `Unschedulable` means the node
 * might fit if other pods went away (preemption may help); `UnschedulableAndUnresolvable`
 * means no preemption on that node can help (a taint, a selector, a volume's zone). `reasons`
 * are kube-scheduler's words ("node(s) had untolerated taint {k: v}"); `plugin` is filled in
 * by the framework.
 */
export type StatusCode = 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error';
export interface Status {
  code: StatusCode;
  reasons: string[];
  plugin?: string;
}

export const unschedulable = (...reasons: string[]): Status => ({ code: 'Unschedulable', reasons });
export const unresolvable = (...reasons: string[]): Status => ({ code: 'UnschedulableAndUnresolvable', reasons });

/** Per-attempt scratch space shared by one pod's PreFilter/Filter/PreScore/Score calls (kube-scheduler's CycleState). */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }
}

/** An image as the nodes of a snapshot report it: its size (on the first node listing it) and how many nodes have it. */
export interface ImageSummary {
  size: number;
  nodes: number;
}

/**
 * The cluster as one scheduling attempt sees it: every node with its pods, namespace labels (for
 * namespaceSelector), and what plugins need cluster-wide without walking every node (upstream's
 * HavePodsWithAffinityNodeInfoList, HavePodsWithRequiredAntiAffinityNodeInfoList, ImageStateSummary).
 */
export interface Snapshot {
  nodes: NodeInfo[];
  get(nodeName: string): NodeInfo | undefined;
  /** Labels of a namespace; undefined when unknown. */
  namespaceLabels(namespace: string): Record<string, string> | undefined;
  /** The nodes (in `nodes` order) with at least one pod in their `podsWithAffinity`. */
  havePodsWithAffinity(): NodeInfo[];
  /** The nodes (in `nodes` order) with at least one pod in their `podsWithRequiredAntiAffinity`. */
  havePodsWithRequiredAntiAffinity(): NodeInfo[];
  /** An image name's size and node count; undefined when no node reports it. */
  image(name: string): ImageSummary | undefined;
}

/**
 * A filter. `preFilter` (optional) runs once per attempt with the whole snapshot and may store
 * what `filter` needs in `state`; a Status from it rejects every node. `filter` returns
 * undefined when the node fits.
 */
export interface FilterPlugin {
  name: string;
  preFilter?(pod: Pod, snapshot: Snapshot, state: CycleState): Status | undefined;
  filter(pod: Pod, node: NodeInfo, state: CycleState): Status | undefined;
}

/**
 * A score. `preScore` (optional) runs once with the feasible nodes; `score` gives a raw score
 * per node; `normalize` (optional) maps the raw scores of all feasible nodes (same order as
 * `nodes`) into [0, 100] in place, as kube-scheduler's NormalizeScore. Without `normalize`,
 * `score` must already be in [0, 100]. The framework multiplies by `weight`.
 */
export interface ScorePlugin {
  name: string;
  weight: number;
  preScore?(pod: Pod, nodes: NodeInfo[], snapshot: Snapshot, state: CycleState): void;
  score(pod: Pod, node: NodeInfo, state: CycleState): number;
  normalize?(scores: number[], pod: Pod, nodes: NodeInfo[], state: CycleState): void;
}

/** Defaults the scheduler assumes for containers without requests when scoring (as kube-scheduler). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/**
 * Effective requests of a pod: max(sum of containers, largest init container)
 * plus overhead, as Kubernetes' resource helpers compute it. With `nonZero`,
 * a container with no cpu/memory request counts the scoring defaults.
 */
export function podRequests(pod: Pod, nonZero = false): Resources {
  return { ...requestsOf(pod, nonZero) };
}

/** podRequests without the copy, for callers that only read it. */
function requestsOf(pod: Pod, nonZero: boolean): Readonly<Resources> {
  if (!memo) return computeRequests(pod, nonZero);
  const m = nonZero ? memo.nonZero : memo.plain;
  let r = m.get(pod);
  if (!r) m.set(pod, (r = computeRequests(pod, nonZero)));
  return r;
}

/** Requests computed per pod object (pods are never changed in place: an update is a new object). */
export interface RequestsMemo {
  plain: WeakMap<Pod, Resources>;
  nonZero: WeakMap<Pod, Resources>;
}
export const newRequestsMemo = (): RequestsMemo => ({ plain: new WeakMap(), nonZero: new WeakMap() });

let memo: RequestsMemo | undefined;

/**
 * Runs `fn` with podRequests remembered per pod object: for one scheduling attempt, during
 * which no pod object changes (plugins ask for the same pod's requests on every node).
 */
export function withRequestsMemo<T>(fn: () => T, m: RequestsMemo = newRequestsMemo()): T {
  const prev = memo;
  memo = m;
  try {
    return fn();
  } finally {
    memo = prev;
  }
}

function computeRequests(pod: Pod, nonZero: boolean): Resources {
  const one = (r: Record<string, string | number> | undefined): Resources => {
    const cpu = r?.cpu !== undefined ? cpuMillis(r.cpu) : nonZero ? DEFAULT_MILLI_CPU_REQUEST : 0;
    const mem = r?.memory !== undefined ? bytesOf(r.memory) : nonZero ? DEFAULT_MEMORY_REQUEST : 0;
    return { milliCPU: cpu, memory: mem };
  };
  const sum: Resources = { milliCPU: 0, memory: 0 };
  for (const c of pod.spec?.containers ?? []) {
    const r = one(c.resources?.requests as Record<string, string> | undefined);
    sum.milliCPU += r.milliCPU;
    sum.memory += r.memory;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const r = one(c.resources?.requests as Record<string, string> | undefined);
    sum.milliCPU = Math.max(sum.milliCPU, r.milliCPU);
    sum.memory = Math.max(sum.memory, r.memory);
  }
  const o = pod.spec?.overhead as Record<string, string> | undefined;
  if (o) {
    sum.milliCPU += cpuMillis(o.cpu);
    sum.memory += bytesOf(o.memory);
  }
  return sum;
}

function isPodFinished(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Whether the pod has pod affinity or anti-affinity terms (an empty podAffinity or podAntiAffinity counts, as upstream). */
export function hasPodAffinity(pod: Pod): boolean {
  const a = pod.spec?.affinity;
  return !!a && (!!a.podAffinity || !!a.podAntiAffinity);
}

/** Whether the pod has required pod anti-affinity terms. */
export function hasRequiredAntiAffinity(pod: Pod): boolean {
  return !!pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length;
}

/** Whether the node's Ready condition is True. */
export function isNodeReady(node: Node): boolean {
  for (const c of node.status?.conditions ?? []) if (c.type === 'Ready') return c.status === 'True';
  return false;
}

/** `info` with `more` pods placed too (assumed or nominated pods), without re-adding up the pods it has. */
export function withPods(info: NodeInfo, more: Pod[]): NodeInfo {
  const add = more.filter((p) => !isPodFinished(p));
  if (add.length === 0) return info;
  const requested = { ...info.requested };
  const nonZeroRequested = { ...info.nonZeroRequested };
  let podsWithAffinity = info.podsWithAffinity;
  let podsWithRequiredAntiAffinity = info.podsWithRequiredAntiAffinity;
  for (const p of add) {
    const r = requestsOf(p, false);
    requested.milliCPU += r.milliCPU;
    requested.memory += r.memory;
    const n = requestsOf(p, true);
    nonZeroRequested.milliCPU += n.milliCPU;
    nonZeroRequested.memory += n.memory;
    if (hasPodAffinity(p)) {
      if (podsWithAffinity === info.podsWithAffinity) podsWithAffinity = podsWithAffinity.slice();
      podsWithAffinity.push(p);
      if (hasRequiredAntiAffinity(p)) {
        if (podsWithRequiredAntiAffinity === info.podsWithRequiredAntiAffinity) podsWithRequiredAntiAffinity = podsWithRequiredAntiAffinity.slice();
        podsWithRequiredAntiAffinity.push(p);
      }
    }
  }
  return { ...info, pods: [...info.pods, ...add], requested, nonZeroRequested, podsWithAffinity, podsWithRequiredAntiAffinity };
}

/**
 * What a NodeInfo reads from its Node, per Node object: a node's NodeInfo is rebuilt whenever
 * one of its pods changes, its Node far less often (informer objects are replaced, not changed).
 */
const nodeFacts = new WeakMap<Node, Pick<NodeInfo, 'allocatable' | 'ready' | 'unschedulable' | 'taints'>>();
const NO_TAINTS: readonly Taint[] = Object.freeze([]);

/** Builds a NodeInfo from a Node and the pods placed on it (finished pods are ignored). */
export function nodeInfo(node: Node, pods: Pod[]): NodeInfo {
  let facts = nodeFacts.get(node);
  if (!facts) {
    const alloc = (node.status?.allocatable ?? node.status?.capacity ?? {}) as Record<string, string>;
    facts = {
      allocatable: { milliCPU: cpuMillis(alloc.cpu), memory: bytesOf(alloc.memory), pods: countOf(alloc.pods) },
      ready: isNodeReady(node),
      unschedulable: !!node.spec?.unschedulable,
      taints: node.spec?.taints ?? NO_TAINTS,
    };
    nodeFacts.set(node, facts);
  }
  const empty: NodeInfo = {
    node,
    pods: [],
    requested: { milliCPU: 0, memory: 0 },
    nonZeroRequested: { milliCPU: 0, memory: 0 },
    allocatable: { ...facts.allocatable },
    ready: facts.ready,
    unschedulable: facts.unschedulable,
    taints: facts.taints,
    podsWithAffinity: [],
    podsWithRequiredAntiAffinity: [],
  };
  return withPods(empty, pods);
}

