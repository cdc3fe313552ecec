import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, HorizontalPodAutoscalerStatus, MetricSpec, MetricStatus } from 'kubernetes-types/autoscaling/v2';
import type { Pod } from 'kubernetes-types/core/v1';
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import { parseDuration } from '../../lib/duration';
import { matchesSelector } from '../../lib/label-selector';
import { parseSelectorString } from '../../lib/label-selector-string';
import { rfc3339 } from '../../lib/time';
import { normalize, recordInitialRecommendation, type ConditionUpdate, type History } from './behavior';
import { milliValue, rawResourceReplicas, resourceReplicas, type CalcOptions, type PodMetrics } from './replicas';

/**
 * One sync of one HorizontalPodAutoscaler, pure (Kubernetes' reconcileAutoscaler): the target's
 * Scale, the namespace's pods and the metrics API's PodMetrics in; the new status, the events
 * and the rescale to do out. The reasons and messages of conditions and events are upstream's,
 * so `kubectl describe hpa` reads as on Kubernetes.
 */

/** An autoscaling/v1 Scale as the `/scale` subresource returns it. */
export interface Scale {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

/** A metrics.k8s.io/v1beta1 PodMetrics item. */
export interface RawPodMetrics {
  metadata?: { name?: string; namespace?: string };
  timestamp?: string;
  window?: string;
  containers?: { name?: string; usage?: Record<string, string> }[];
}

export interface HpaEvent { type: 'Normal' | 'Warning'; reason: string; message: string }

export interface SyncOptions {
  tolerance: number;
  cpuInitializationPeriodMs: number;
  delayOfInitialReadinessStatusMs: number;
  downscaleStabilizationMs: number;
}

export interface SyncInput {
  hpa: HorizontalPodAutoscaler;
  /** The target's Scale, or why it could not be read. */
  scale: { scale: Scale } | { error: string };
  /** Pods of the HPA's namespace (the selector is applied here). */
  pods: Pod[];
  /** The selectors of the other HPAs synced so far (key `namespace/name`), to find pods two HPAs claim. */
  otherSelectors: ReadonlyMap<string, LabelSelector>;
  /** The metrics API's pods for the target's selector, or why they could not be read. */
  podMetrics: { items: RawPodMetrics[] } | { error: string };
  now: number;
  options: SyncOptions;
}

export interface Rescale { from: number; to: number; reason: string }

export interface SyncPlan {
  /** The status to write when it differs from the stored one (it assumes `rescale`, if any, succeeds). */
  status: HorizontalPodAutoscalerStatus;
  /** Events in order (SuccessfulRescale last when rescaling). */
  events: HpaEvent[];
  /** The count to write to the target's Scale, when it changes. */
  rescale?: Rescale;
  /** The target's parsed selector, once known (kept to detect pods two HPAs select). */
  selector?: LabelSelector;
  /** A failure to report in the log; the status and events already carry it. */
  error?: string;
}

const key = (hpa: HorizontalPodAutoscaler) => `${hpa.metadata?.namespace}/${hpa.metadata?.name}`;

/** Sets a condition in place: a changed status gets `now` as its transition time (upstream's setCondition). */
export function setCondition(list: HorizontalPodAutoscalerCondition[], type: string, u: ConditionUpdate, now: number): void {
  let c = list.find((x) => x.type === type);
  if (!c) {
    c = { type, status: u.status };
    list.push(c);
    c.lastTransitionTime = rfc3339(now);
  } else if (c.status !== u.status) {
    c.lastTransitionTime = rfc3339(now);
  }
  c.status = u.status;
  c.reason = u.reason;
  c.message = u.message;
}

/** A milli-value as Kubernetes prints a DecimalSI quantity: 180m, 2, 45764608, 2k. */
export function formatMilli(m: number): string {
  if (m % 1000 !== 0) return `${m}m`;
  let v = m / 1000;
  const suffixes = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let i = 0;
  while (v !== 0 && v % 1000 === 0 && i < suffixes.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v}${suffixes[i]}`;
}

/** Per pod, the summed usage of `resource` over its containers (or one container); a pod lacking it in any is left out. */
export function podMetricsFor(items: RawPodMetrics[], resource: string, container?: string): PodMetrics {
  const out: PodMetrics = new Map();
  for (const m of items) {
    const name = m.metadata?.name ?? '';
    let windowMs = 60_000;
    try {
      if (m.window) windowMs = parseDuration(m.window);
    } catch {
      // keep the metrics-server default of one minute
    }
    const timestamp = m.timestamp ? Date.parse(m.timestamp) : 0;
    const containers = m.containers ?? [];
    if (container) {
      const c = containers.find((x) => x.name === container);
      if (!c) throw new Error(`failed to get container metrics: container ${container} not present in metrics for pod ${m.metadata?.namespace}/${name}`);
      if (c.usage?.[resource] !== undefined) out.set(name, { value: milliValue(c.usage[resource]), timestamp, windowMs });
      continue;
    }
    if (containers.length === 0 || containers.some((c) => c.usage?.[resource] === undefined)) continue;
    out.set(name, { value: containers.reduce((s, c) => s + milliValue(c.usage?.[resource]), 0), timestamp, windowMs });
  }
  return out;
}

interface MetricResult {
  replicas: number;
  name: string;
  status: MetricStatus;
}

class MetricError extends Error {
  constructor(message: string, readonly condition: ConditionUpdate) {
    super(message);
  }
}

/** The state one sync builds up: conditions and events as upstream sets and records them. */
class Sync {
  readonly conditions: HorizontalPodAutoscalerCondition[];
  readonly events: HpaEvent[] = [];

  constructor(readonly input: SyncInput) {
    this.conditions = structuredClone(input.hpa.status?.conditions ?? []);
  }

  cond(type: string, status: 'True' | 'False', reason: string, message: string): void {
    setCondition(this.conditions, type, { status, reason, message }, this.input.now);
  }

  event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }

  /** Upstream's getUnableComputeReplicaCountCondition: a Warning event now, the condition for later. */
  unable(reason: string, err: string): ConditionUpdate {
    this.event('Warning', reason, err);
    return { status: 'False', reason, message: `the HPA was unable to compute the replica count: ${err}` };
  }

  get calc(): CalcOptions {
    const o = this.input.options;
    return { tolerance: o.tolerance, cpuInitializationPeriodMs: o.cpuInitializationPeriodMs, delayOfInitialReadinessStatusMs: o.delayOfInitialReadinessStatusMs, now: this.input.now };
  }

  /** The metrics API's samples of `resource`, or the error upstream's metrics client gives. */
  metricsOf(resource: string, container?: string): PodMetrics {
    const pm = this.input.podMetrics;
    const prefix = `unable to get metrics for resource ${resource}`;
    if ('error' in pm) throw new Error(`${prefix}: unable to fetch metrics from resource metrics API: ${pm.error}`);
    if (pm.items.length === 0) throw new Error(`${prefix}: no metrics returned from resource metrics API`);
    try {
      return podMetricsFor(pm.items, resource, container);
    } catch (err) {
      throw new Error(`${prefix}: ${(err as Error).message}`);
    }
  }

  /** A Resource or ContainerResource metric (upstream's computeStatusForResourceMetricGeneric). */
  resourceMetric(spec: MetricSpec, current: number, pods: Pod[]): MetricResult {
    const container = spec.type === 'ContainerResource' ? spec.containerResource?.container : undefined;
    const source = spec.type === 'ContainerResource' ? spec.containerResource : spec.resource;
    const resource = source?.name ?? '';
    const target = source?.target ?? { type: '' };
    const failReason = container !== undefined ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric';
    const outer = container !== undefined ? `failed to get ${container} container metric value` : `failed to get ${resource} resource metric value`;
    const statusOf = (cur: NonNullable<MetricStatus['resource']>['current']): MetricStatus => container !== undefined
      ? { type: 'ContainerResource', containerResource: { name: resource, container, current: cur } }
      : { type: 'Resource', resource: { name: resource, current: cur } };
    let inner = '';
    try {
      // the apiserver does not check targets yet: a target of 0 would divide by zero
      const bad = target.averageValue !== undefined ? !(milliValue(target.averageValue) > 0) : target.averageUtilization !== undefined && !(target.averageUtilization > 0);
      if (bad) throw new Error(`invalid resource metric source: the target must be positive, got ${JSON.stringify(target.averageValue ?? target.averageUtilization)}`);
      if (target.averageValue !== undefined) {
        inner = `failed to get ${resource} usage`;
        const p = rawResourceReplicas(current, milliValue(target.averageValue), resource, pods, this.metricsOf(resource, container), this.calc);
        return { replicas: p.replicas, name: `${resource} resource`, status: statusOf({ averageValue: formatMilli(p.rawAverage) }) };
      }
      if (target.averageUtilization === undefined) {
        inner = '';
        throw new Error('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
      }
      inner = `failed to get ${resource} utilization`;
      const p = resourceReplicas(current, target.averageUtilization, resource, pods, this.metricsOf(resource, container), this.calc, container);
      const name = container !== undefined ? `${resource} container resource utilization (percentage of request)` : `${resource} resource utilization (percentage of request)`;
      return { replicas: p.replicas, name, status: statusOf({ averageUtilization: p.utilization, averageValue: formatMilli(p.rawAverage) }) };
    } catch (err) {
      const msg = inner ? `${inner}: ${(err as Error).message}` : (err as Error).message;
      throw new MetricError(`${outer}: ${msg}`, this.unable(failReason, msg));
    }
  }

  /** One metric's proposal (upstream's computeReplicasForMetric); Coxswain serves no custom or external metrics API. */
  metric(spec: MetricSpec, current: number, pods: Pod[]): MetricResult {
    const noCustom = 'unable to fetch metrics from custom metrics API: Coxswain serves no custom metrics API (custom.metrics.k8s.io)';
    switch (spec.type) {
      case 'Resource':
      case 'ContainerResource':
        return this.resourceMetric(spec, current, pods);
      case 'Pods': {
        const err = `unable to get metric ${spec.pods?.metric?.name}: ${noCustom}`;
        throw new MetricError(`failed to get pods metric value: ${err}`, this.unable('FailedGetPodsMetric', err));
      }
      case 'Object': {
        const m = spec.object;
        const err = `unable to get metric ${m?.metric?.name}: ${m?.describedObject?.kind} ${this.input.hpa.metadata?.namespace}/${m?.describedObject?.name}: ${noCustom}`;
        throw new MetricError(`failed to get object metric value: ${err}`, this.unable('FailedGetObjectMetric', err));
      }
      case 'External': {
        const name = spec.external?.metric?.name;
        const err = `unable to get external metric ${this.input.hpa.metadata?.namespace}/${name}: unable to fetch metrics from external metrics API: Coxswain serves no external metrics API (external.metrics.k8s.io)`;
        throw new MetricError(`failed to get ${name} external metric value: ${err}`, this.unable('FailedGetExternalMetric', err));
      }
      default: {
        const err = `unknown metric source type ${JSON.stringify(spec.type)}`;
        throw new MetricError(err, this.unable('InvalidMetricSourceType', err));
      }
    }
  }

  /**
   * The target's selector, parsed and checked (upstream's validateAndParseSelector): empty,
   * unparsable, or selecting pods another HPA's target selects too, sets ScalingActive False.
   */
  selector(raw: string | undefined): { selector: LabelSelector; pods: Pod[] } {
    if (!raw) {
      this.event('Warning', 'SelectorRequired', 'selector is required');
      this.cond('ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector");
      throw new Error('selector is required');
    }
    let selector: LabelSelector;
    try {
      selector = parseSelectorString(raw);
    } catch (err) {
      const msg = `couldn't convert selector into a corresponding internal selector object: ${(err as Error).message}`;
      this.event('Warning', 'InvalidSelector', msg);
      this.cond('ScalingActive', 'False', 'InvalidSelector', msg);
      throw new Error(msg);
    }
    const ns = this.input.hpa.metadata?.namespace;
    const pods = this.input.pods.filter((p) => p.metadata?.namespace === ns && matchesSelector(selector, p.metadata?.labels));
    const claimed = new Set<string>();
    for (const [k, sel] of this.input.otherSelectors) {
      if (k === key(this.input.hpa) || !k.startsWith(`${ns}/`)) continue;
      if (pods.some((p) => matchesSelector(sel, p.metadata?.labels))) claimed.add(k);
    }
    if (claimed.size > 0) {
      const msg = `pods by selector ${raw} are controlled by multiple HPAs: [${[key(this.input.hpa), ...claimed].sort().join(' ')}]`;
      this.event('Warning', 'AmbiguousSelector', msg);
      this.cond('ScalingActive', 'False', 'AmbiguousSelector', msg);
      throw new Error(msg);
    }
    return { selector, pods };
  }
}

/** Upstream's computeReplicasForMetrics: the highest proposal of the metrics that could be computed. */
function replicasForMetrics(s: Sync, scale: Scale, plan: SyncPlan): { replicas: number; metric: string; statuses?: MetricStatus[]; error?: string } {
  let target: { selector: LabelSelector; pods: Pod[] };
  try {
    target = s.selector(scale.status?.selector);
  } catch (err) {
    return { replicas: -1, metric: '', error: (err as Error).message };
  }
  plan.selector = target.selector;
  const specs = s.input.hpa.spec?.metrics ?? [];
  const current = scale.spec?.replicas ?? 0;
  const statuses: MetricStatus[] = specs.map(() => ({ type: '' }));
  let replicas = 0, metric = '', invalid = 0;
  let firstError: string | undefined, firstCondition: ConditionUpdate | undefined;
  specs.forEach((spec, i) => {
    try {
      const r = s.metric(spec, current, target.pods);
      statuses[i] = r.status;
      if (replicas === 0 || r.replicas > replicas) [replicas, metric] = [r.replicas, r.name];
    } catch (err) {
      if (invalid === 0) {
        firstError = (err as Error).message;
        firstCondition = err instanceof MetricError ? err.condition : { status: 'False', reason: 'FailedGetResourceMetric', message: (err as Error).message };
      }
      invalid++;
    }
  });
  const error = firstError !== undefined ? `invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${firstError}` : undefined;
  if (invalid >= specs.length || (invalid > 0 && replicas < current)) {
    if (firstCondition) setCondition(s.conditions, 'ScalingActive', firstCondition, s.input.now);
    return { replicas: -1, metric: '', statuses, error: error ?? 'no metrics to compute a replica count from' };
  }
  s.cond('ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metric}`);
  return { replicas, metric, statuses, error };
}

/**
 * One sync (upstream's reconcileAutoscaler). `history` is this HPA's memory across syncs
 * (recent recommendations and scale events); the recommendation of this sync is added to it.
 * When the plan has a `rescale`, the caller writes the Scale and then calls
 * `rescaleSucceeded` (which remembers the scale event) or `rescaleFailed`.
 */
export function syncHpa(input: SyncInput, history: History): SyncPlan {
  const { hpa, now } = input;
  const s = new Sync(input);
  const old = hpa.status ?? { desiredReplicas: 0 };
  const plan: SyncPlan = { status: old, events: s.events };
  const withConditions = (st: HorizontalPodAutoscalerStatus): HorizontalPodAutoscalerStatus => ({ ...st, conditions: s.conditions });

  if ('error' in input.scale) {
    s.event('Warning', 'FailedGetScale', input.scale.error);
    s.cond('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${input.scale.error}`);
    plan.status = withConditions(old);
    plan.error = `failed to query scale subresource: ${input.scale.error}`;
    return plan;
  }
  const scale = input.scale.scale;
  s.cond('AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
  const current = scale.spec?.replicas ?? 0;
  recordInitialRecommendation(history, current, now);
  const min = hpa.spec?.minReplicas ?? 1;
  const max = hpa.spec?.maxReplicas ?? 0;

  let desired = 0;
  let reason = '';
  let rescale = true;
  let statuses: MetricStatus[] | undefined;
  if (current === 0 && min !== 0) {
    desired = 0;
    rescale = false;
    s.cond('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
  } else if (current > max) {
    reason = 'Current number of replicas above Spec.MaxReplicas';
    desired = max;
  } else if (current < min) {
    reason = 'Current number of replicas below Spec.MinReplicas';
    desired = min;
  } else {
    const m = replicasForMetrics(s, scale, plan);
    statuses = m.statuses;
    if (m.replicas === -1) {
      plan.status = withConditions(statusOf(old, current, old.desiredReplicas ?? 0, statuses, old.lastScaleTime));
      s.event('Warning', 'FailedComputeMetricsReplicas', m.error ?? '');
      plan.error = `failed to compute desired number of replicas based on listed metrics: ${m.error}`;
      return plan;
    }
    plan.error = m.error;
    let metric = '';
    if (m.replicas > desired) [desired, metric] = [m.replicas, m.metric];
    if (desired > current) reason = `${metric} above target`;
    if (desired < current) reason = 'All metrics below target';
    const n = normalize(history, { current, desired, min, max, now, downscaleStabilizationMs: input.options.downscaleStabilizationMs, behavior: hpa.spec?.behavior });
    setCondition(s.conditions, 'AbleToScale', n.ableToScale, now);
    setCondition(s.conditions, 'ScalingLimited', n.scalingLimited, now);
    desired = n.replicas;
    rescale = desired !== current;
  }

  if (rescale) {
    plan.rescale = { from: current, to: desired, reason };
    s.cond('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
    s.event('Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
    plan.status = withConditions(statusOf(old, current, desired, statuses, rfc3339(now)));
  } else {
    plan.status = withConditions(statusOf(old, current, current, statuses, old.lastScaleTime));
  }
  return plan;
}

function statusOf(old: HorizontalPodAutoscalerStatus, current: number, desired: number, metrics: MetricStatus[] | undefined, lastScaleTime: string | undefined): HorizontalPodAutoscalerStatus {
  const st: HorizontalPodAutoscalerStatus = { ...old, currentReplicas: current, desiredReplicas: desired };
  delete st.currentMetrics;
  delete st.lastScaleTime;
  if (lastScaleTime !== undefined) st.lastScaleTime = lastScaleTime;
  if (metrics && metrics.length) st.currentMetrics = metrics;
  return st;
}

/**
 * The plan after a failed Scale write: AbleToScale False FailedUpdateScale, a FailedRescale
 * event instead of SuccessfulRescale, and desiredReplicas and lastScaleTime as they were.
 */
export function rescaleFailed(hpa: HorizontalPodAutoscaler, plan: SyncPlan, message: string, now: number): SyncPlan {
  const r = plan.rescale!;
  const old = hpa.status ?? { desiredReplicas: 0 };
  const conditions = structuredClone(plan.status.conditions ?? []);
  // the plan's AbleToScale assumed success; its status before that was True as well
  setCondition(conditions, 'AbleToScale', { status: 'False', reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${message}` }, now);
  const events = plan.events.filter((e) => e.reason !== 'SuccessfulRescale');
  events.push({ type: 'Warning', reason: 'FailedRescale', message: `New size: ${r.to}; reason: ${r.reason}; error: ${message}` });
  const status = statusOf(old, r.from, old.desiredReplicas ?? 0, plan.status.currentMetrics, old.lastScaleTime);
  return { ...plan, status: { ...status, conditions }, events, error: `failed to rescale: ${message}` };
}
