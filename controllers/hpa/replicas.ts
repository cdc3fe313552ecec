import type { Pod } from 'kubernetes-types/core/v1';
import { cpuMillis } from '../../lib/quantity';

/**
 * Kubernetes' replica calculator for Resource metrics (pkg/controller/podautoscaler,
 * replica_calculator.go), pure: the pods the target's selector matches, their usage from the
 * metrics API, a target, and the clock in; a proposed replica count out. All values are
 * milli-units (millicores; bytes × 1000), as Kubernetes' MilliValue.
 */

/** One pod's summed usage of a resource, as the metrics API reported it. */
export interface PodMetric {
  /** Milli-units (250m CPU → 250; 1Ki memory → 1 024 000). */
  value: number;
  /** When the sample was taken (ms since the epoch). */
  timestamp: number;
  /** The span the sample covers (ms). */
  windowMs: number;
}

/** Pod name → metric. */
export type PodMetrics = Map<string, PodMetric>;

export interface CalcOptions {
  /** Ratios within 1 ± tolerance leave the count as it is (Kubernetes: 0.1). */
  tolerance: number;
  /** A pod this young may still be warming up: its CPU sample is not trusted until it was ready for a whole window (5 min). */
  cpuInitializationPeriodMs: number;
  /** A pod that turned unready within this long of starting never became ready yet (30 s). */
  delayOfInitialReadinessStatusMs: number;
  now: number;
}

export interface Proposal {
  replicas: number;
  /** Utilization targets: the average utilization in percent of the requests (truncated). */
  utilization?: number;
  /** The average usage per pod in milli-units (truncated). */
  rawAverage: number;
}

/** The quantity in milli-units, rounded up (Kubernetes' MilliValue). */
export const milliValue = (q: string | number | undefined): number => cpuMillis(q);

interface Groups {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

const ms = (t: string | undefined): number | undefined => {
  const v = t ? Date.parse(t) : NaN;
  return Number.isFinite(v) ? v : undefined;
};

/**
 * Sorts pods as upstream's groupPods: deleted or failed pods are ignored; pending ones count
 * as unready; pods without a sample are missing; for CPU, a pod is unready too while it
 * is not Ready or (within the initialization period) its sample predates a full window
 * after it became ready, and, after that period, when it turned unready before it ever was ready.
 */
export function groupPods(pods: Pod[], metrics: PodMetrics, resource: string, o: CalcOptions): Groups {
  const g: Groups = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed') {
      g.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      g.unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      g.missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
      const start = ms(pod.status?.startTime);
      let unready: boolean;
      if (!ready || start === undefined) {
        unready = true;
      } else {
        const transition = ms(ready.lastTransitionTime) ?? 0;
        if (start + o.cpuInitializationPeriodMs > o.now) {
          unready = ready.status === 'False' || metric.timestamp < transition + metric.windowMs;
        } else {
          unready = ready.status === 'False' && start + o.delayOfInitialReadinessStatusMs > transition;
        }
      }
      if (unready) {
        g.unready.add(name);
        continue;
      }
    }
    g.readyPodCount++;
  }
  return g;
}

/** Each pod's summed request of `resource` (or of one container's), or an Error naming the container without one. */
export function podRequests(pods: Pod[], resource: string, container?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of pod.spec?.containers ?? []) {
      if (container && c.name !== container) continue;
      const req = c.resources?.requests?.[resource];
      if (req === undefined) throw new Error(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name}`);
      sum += milliValue(req);
    }
    out.set(pod.metadata?.name ?? '', sum);
  }
  return out;
}

/** Upstream's GetResourceUtilizationRatio: usage over requests of the pods that have both. */
function utilizationRatio(metrics: Map<string, number>, requests: Map<string, number>, target: number): { ratio: number; utilization: number; rawAverage: number } {
  let usage = 0, requested = 0, n = 0;
  for (const [name, v] of metrics) {
    const r = requests.get(name);
    if (r === undefined) continue;
    usage += v;
    requested += r;
    n++;
  }
  if (requested === 0) throw new Error('no metrics returned matched known pods');
  const utilization = Math.trunc((usage * 100) / requested);
  return { ratio: utilization / target, utilization, rawAverage: Math.trunc(usage / n) };
}

function usageRatio(metrics: Map<string, number>, target: number): { ratio: number; rawAverage: number } {
  let total = 0;
  for (const v of metrics.values()) total += v;
  const rawAverage = Math.trunc(total / metrics.size);
  return { ratio: rawAverage / target, rawAverage };
}

/** The values of the pods that count (neither ignored nor unready). */
function counted(metrics: PodMetrics, g: Groups): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, m] of metrics) if (!g.ignored.has(name) && !g.unready.has(name)) out.set(name, m.value);
  return out;
}

/**
 * The shared second half of upstream's calculation: with missing pods (assumed at `missingValue`
 * when scaling down, 0 when scaling up) and unready pods (0, only when scaling up) filled in,
 * the ratio is computed again; a change within tolerance, or one that flips the direction, keeps
 * the current count.
 */
function rebalance(
  current: number, first: number, g: Groups, values: Map<string, number>, missingValue: (pod: string) => number,
  ratioOf: (v: Map<string, number>) => number, o: CalcOptions,
): number {
  const scaleUpWithUnready = g.unready.size > 0 && first > 1;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1 - first) <= o.tolerance) return current;
    return Math.ceil(first * g.readyPodCount);
  }
  const filled = new Map(values);
  if (g.missing.size > 0) {
    if (first < 1) for (const p of g.missing) filled.set(p, missingValue(p));
    else if (first > 1) for (const p of g.missing) filled.set(p, 0);
  }
  if (scaleUpWithUnready) for (const p of g.unready) filled.set(p, 0);
  const next = ratioOf(filled);
  if (Math.abs(1 - next) <= o.tolerance || (first < 1 && next > 1) || (first > 1 && next < 1)) return current;
  const replicas = Math.ceil(next * filled.size);
  if ((next < 1 && replicas > current) || (next > 1 && replicas < current)) return current;
  return replicas;
}

/** A Utilization target (percent of the pods' requests): upstream's GetResourceReplicas. */
export function resourceReplicas(
  current: number, targetUtilization: number, resource: string, pods: Pod[], metrics: PodMetrics, o: CalcOptions, container?: string,
): Proposal {
  if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
  const g = groupPods(pods, metrics, resource, o);
  const requests = podRequests(pods, resource, container);
  const values = counted(metrics, g);
  if (values.size === 0) throw new Error('did not receive metrics for any ready pods');
  const first = utilizationRatio(values, requests, targetUtilization);
  // a missing pod on a scale-down counts as using all of its request (or the target, when that is above 100%)
  const fallback = Math.max(100, targetUtilization);
  const replicas = rebalance(current, first.ratio, g, values, (p) => Math.trunc(((requests.get(p) ?? 0) * fallback) / 100),
    (v) => utilizationRatio(v, requests, targetUtilization).ratio, o);
  return { replicas, utilization: first.utilization, rawAverage: first.rawAverage };
}

/** An AverageValue target (milli-units per pod): upstream's GetRawResourceReplicas. */
export function rawResourceReplicas(current: number, targetAverage: number, resource: string, pods: Pod[], metrics: PodMetrics, o: CalcOptions): Proposal {
  if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
  const g = groupPods(pods, metrics, resource, o);
  const values = counted(metrics, g);
  if (values.size === 0) throw new Error('did not receive metrics for any ready pods');
  const first = usageRatio(values, targetAverage);
  const replicas = rebalance(current, first.ratio, g, values, () => targetAverage, (v) => usageRatio(v, targetAverage).ratio, o);
  return { replicas, rawAverage: first.rawAverage };
}
