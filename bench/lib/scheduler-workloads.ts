/**
 * The workloads of bench:scheduler, shaped after Kubernetes' scheduler_perf
 * (test/integration/scheduler_perf: pod templates with 100m CPU / 500Mi, nodes
 * of 4 CPU / 32Gi / 110 pods in three zones moon-1..3), scaled to N nodes and P
 * pods. Pure: pod manifests, sizes, and what counts as the rule holding.
 */
import type { Pod } from 'kubernetes-types/core/v1';

export const ZONES = ['moon-1', 'moon-2', 'moon-3'];
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** One batch of pods created in one namespace. */
export interface PodBatch {
  namespace: string;
  count: number;
  pod: (name: string) => Pod;
}

export interface Workload {
  name: string;
  /** The scheduler_perf test this follows, its size there, and its CI threshold (pods/s) when it has one. */
  upstream: { test: string; size: string; threshold?: number };
  /** The kube-scheduler plugin that enforces the workload's rule. */
  plugin?: string;
  /** Created and bound first, not measured. */
  init: PodBatch[];
  measure: PodBatch;
  /** Whether the workload's rule held, from the measured (and init) pods as bound; a short sentence. */
  check(measured: Pod[], init: Pod[], nodeZone: (node: string) => string | undefined): { held: boolean | undefined; detail: string };
}

const RESOURCES = { requests: { cpu: '100m', memory: '500Mi' }, limits: { cpu: '100m', memory: '500Mi' } };

function pod(name: string, namespace: string, spec: Partial<NonNullable<Pod['spec']>> = {}, labels: Record<string, string> = {}, cpu?: string): Pod {
  const resources = cpu ? { requests: { cpu, memory: '500Mi' }, limits: { cpu, memory: '500Mi' } } : RESOURCES;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { bench: 'scheduler', ...labels } },
    spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 80 }], resources }], ...spec },
  };
}

/** How a pod gets its priority: a PriorityClass name when the API serves them, else spec.priority (as scheduler_perf's templates do). */
export type PriorityStyle = { kind: 'class'; low: string; high: string } | { kind: 'field' };

export function workloads(nodes: number, pods: number, priority: PriorityStyle): Workload[] {
  const perNode = (measured: Pod[]) => {
    const m = new Map<string, number>();
    for (const p of measured) if (p.spec?.nodeName) m.set(p.spec.nodeName, (m.get(p.spec.nodeName) ?? 0) + 1);
    return m;
  };
  return [
    {
      name: 'basic',
      upstream: { test: 'SchedulingBasic/5000Nodes_10000Pods', size: '5,000 nodes, 1,000 init + 10,000 measured', threshold: 680 },
      init: [{ namespace: 'basic-0', count: Math.round(pods / 5), pod: (n) => pod(n, 'basic-0') }],
      measure: { namespace: 'basic-1', count: pods, pod: (n) => pod(n, 'basic-1') },
      check: () => ({ held: undefined, detail: 'no rule' }),
    },
    {
      // Both namespaces' pods repel each other (the template names both), so init + measured must stay below the node count: upstream 1,000 + 2,000 on 5,000 nodes.
      name: 'anti-affinity',
      plugin: 'InterPodAffinity',
      upstream: { test: 'SchedulingPodAntiAffinity/5000Nodes_2000Pods', size: '5,000 nodes, 1,000 init + 2,000 measured', threshold: 60 },
      init: [{ namespace: 'anti-0', count: Math.round(nodes / 5), pod: (n) => antiAffinityPod(n, 'anti-0') }],
      measure: { namespace: 'anti-1', count: Math.round((2 * nodes) / 5), pod: (n) => antiAffinityPod(n, 'anti-1') },
      check(measured, init) {
        const crowded = [...perNode([...measured, ...init]).values()].filter((c) => c > 1).length;
        return crowded === 0
          ? { held: true, detail: 'every pod on its own node' }
          : { held: false, detail: `${crowded} node(s) hold 2+ pods that repel each other` };
      },
    },
    {
      name: 'topology-spread',
      plugin: 'PodTopologySpread',
      upstream: { test: 'TopologySpreading/5000Nodes_5000Pods', size: '5,000 nodes in 3 zones, 5,000 init + 5,000 measured', threshold: 460 },
      init: [{ namespace: 'spread-0', count: nodes, pod: (n) => pod(n, 'spread-0') }],
      measure: {
        namespace: 'spread-1',
        count: pods,
        pod: (n) => pod(n, 'spread-1', { topologySpreadConstraints: [{ maxSkew: 5, topologyKey: ZONE_LABEL, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { color: 'blue' } } }] }, { color: 'blue' }),
      },
      check(measured, _init, nodeZone) {
        const per = new Map(ZONES.map((z) => [z, 0]));
        for (const p of measured) {
          const z = p.spec?.nodeName ? nodeZone(p.spec.nodeName) : undefined;
          if (z) per.set(z, (per.get(z) ?? 0) + 1);
        }
        const counts = [...per.values()];
        const skew = Math.max(...counts) - Math.min(...counts);
        return { held: skew <= 5, detail: `per zone ${counts.join('/')}, skew ${skew} (maxSkew 5)` };
      },
    },
    {
      // PreemptionBasic: 4 low-priority pods of 900m fill each 4-CPU node; each high-priority pod of 3 CPU must evict 3 of them.
      name: 'preemption',
      plugin: 'DefaultPreemption',
      upstream: { test: 'PreemptionBasic/1000Nodes', size: '1,000 nodes, 4,000 low + 1,000 high (no CI threshold)' },
      init: [{ namespace: 'preempt-0', count: 4 * nodes, pod: (n) => withPriority(pod(n, 'preempt-0', { terminationGracePeriodSeconds: 0 }, {}, '900m'), priority, 'low') }],
      measure: { namespace: 'preempt-1', count: nodes, pod: (n) => withPriority(pod(n, 'preempt-1', {}, {}, '3'), priority, 'high') },
      check(measured) {
        const bound = measured.filter((p) => p.spec?.nodeName).length;
        return bound === measured.length
          ? { held: true, detail: `all ${bound} high-priority pods bound` }
          : { held: false, detail: `${bound} of ${measured.length} high-priority pods bound` };
      },
    },
  ];
}

function antiAffinityPod(name: string, namespace: string): Pod {
  return pod(name, namespace, {
    affinity: {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { color: 'green' } }, topologyKey: 'kubernetes.io/hostname', namespaces: ['anti-1', 'anti-0'] }],
      },
    },
  }, { color: 'green' });
}

function withPriority(p: Pod, style: PriorityStyle, level: 'low' | 'high'): Pod {
  if (style.kind === 'class') p.spec!.priorityClassName = level === 'low' ? style.low : style.high;
  else p.spec!.priority = level === 'low' ? 0 : 10;
  return p;
}

/** Pods/s from the first create sent to the last bind seen, and the create → bound latencies, from per-pod times (ms). */
export function throughput(sentAt: Map<string, number>, boundAt: Map<string, number>): { bound: number; podsPerSecond: number; latenciesMs: number[] } {
  const first = Math.min(...sentAt.values());
  let last = first;
  const latenciesMs: number[] = [];
  for (const [name, t] of boundAt) {
    const s = sentAt.get(name);
    if (s === undefined) continue;
    latenciesMs.push(t - s);
    last = Math.max(last, t);
  }
  const seconds = (last - first) / 1000;
  return { bound: latenciesMs.length, podsPerSecond: seconds > 0 ? latenciesMs.length / seconds : NaN, latenciesMs };
}
