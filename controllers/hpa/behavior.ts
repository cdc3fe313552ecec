import type { HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscalerBehavior } from 'kubernetes-types/autoscaling/v2';

/**
 * From a metric's proposal to the count to scale to, as Kubernetes' HPA normalizes it
 * (horizontal.go): stabilization over recent recommendations, then min/max and the rate
 * limits of `spec.behavior` (or, without one, the legacy limit of double or 4 pods). The
 * per-HPA memory (recent recommendations and scale events) is a `History` the controller keeps;
 * these functions read and append to it, with time passed in.
 */

export interface Recommendation { replicas: number; at: number }
/** A scale event: the number of pods added (scale up) or removed (scale down). */
export interface ScaleEvent { change: number; at: number; outdated: boolean }
export interface History { recommendations: Recommendation[]; scaleUp: ScaleEvent[]; scaleDown: ScaleEvent[] }

export const newHistory = (): History => ({ recommendations: [], scaleUp: [], scaleDown: [] });

/** A condition's new status, reason and message (type implied by where it is returned). */
export interface ConditionUpdate { status: 'True' | 'False'; reason: string; message: string }

export interface Normalized {
  replicas: number;
  ableToScale: ConditionUpdate;
  scalingLimited: ConditionUpdate;
}

/** Fully-defaulted rules (every field set), as the apiserver's defaulting and the controller's flag fill them. */
export interface Rules { stabilizationWindowSeconds: number; selectPolicy: 'Max' | 'Min' | 'Disabled'; policies: HPAScalingPolicy[] }

/** Kubernetes' defaults: scale up by 100% or 4 pods (whichever is more) per 15 s, no stabilization. */
export const DEFAULT_SCALE_UP: HPAScalingRules = {
  stabilizationWindowSeconds: 0, selectPolicy: 'Max',
  policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
};
/** Scale down by up to 100% per 15 s; the stabilization window is the controller's flag (5 min). */
export const DEFAULT_SCALE_DOWN: HPAScalingRules = { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

/** Upstream's GenerateHPAScale{Up,Down}Rules: the given fields over the defaults. */
export function rulesWithDefaults(given: HPAScalingRules | undefined, defaults: HPAScalingRules, defaultWindowSeconds: number): Rules {
  const r = { ...defaults, ...Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => v !== undefined && v !== null)) } as HPAScalingRules;
  return {
    stabilizationWindowSeconds: r.stabilizationWindowSeconds ?? defaultWindowSeconds,
    selectPolicy: (r.selectPolicy ?? 'Max') as Rules['selectPolicy'],
    policies: r.policies ?? [],
  };
}

export interface NormalizeInput {
  current: number;
  /** The metrics' proposal, before stabilization and limits. */
  desired: number;
  min: number;
  max: number;
  now: number;
  /** The controller's --horizontal-pod-autoscaler-downscale-stabilization (ms). */
  downscaleStabilizationMs: number;
  behavior?: HorizontalPodAutoscalerBehavior;
}

/** Upstream's recordInitialRecommendation: the first sync remembers the current count. */
export function recordInitialRecommendation(h: History, current: number, now: number): void {
  if (h.recommendations.length === 0) h.recommendations.push({ replicas: current, at: now });
}

/** Replaces a recommendation older than every window, or appends. */
function remember(h: History, replicas: number, now: number, isOld: (r: Recommendation) => boolean): void {
  const i = findLastIndex(h.recommendations, isOld);
  if (i >= 0) h.recommendations[i] = { replicas, at: now };
  else h.recommendations.push({ replicas, at: now });
}

function findLastIndex<T>(xs: T[], f: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (f(xs[i])) return i;
  return -1;
}

export function normalize(h: History, i: NormalizeInput): Normalized {
  return i.behavior ? normalizeWithBehavior(h, i, i.behavior) : normalizeLegacy(h, i);
}

/** Without `behavior`: the highest recommendation of the downscale window, then min, max and the double-or-4 limit. */
function normalizeLegacy(h: History, i: NormalizeInput): Normalized {
  const cutoff = i.now - i.downscaleStabilizationMs;
  let stabilized = i.desired;
  for (const r of h.recommendations) if (r.at > cutoff && r.replicas > stabilized) stabilized = r.replicas;
  remember(h, i.desired, i.now, (r) => r.at <= cutoff);
  const ableToScale: ConditionUpdate = stabilized !== i.desired
    ? { status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' }
    : { status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' };

  const scaleUpLimit = Math.max(2 * i.current, 4);
  let maxAllowed: number, reason: string, message: string;
  if (i.max > scaleUpLimit) {
    maxAllowed = scaleUpLimit;
    reason = 'ScaleUpLimit';
    message = 'the desired replica count is increasing faster than the maximum scale rate';
  } else {
    maxAllowed = i.max;
    reason = 'TooManyReplicas';
    message = 'the desired replica count is more than the maximum replica count';
  }
  let replicas = stabilized;
  if (stabilized < i.min) {
    replicas = i.min;
    reason = 'TooFewReplicas';
    message = 'the desired replica count is less than the minimum replica count';
  } else if (stabilized > maxAllowed) {
    replicas = maxAllowed;
  } else {
    reason = 'DesiredWithinRange';
    message = 'the desired count is within the acceptable range';
  }
  return { replicas, ableToScale, scalingLimited: { status: replicas === stabilized ? 'False' : 'True', reason, message } };
}

/** With `behavior`: both stabilization windows, then the scale-up or scale-down policies and min/max. */
function normalizeWithBehavior(h: History, i: NormalizeInput, behavior: HorizontalPodAutoscalerBehavior): Normalized {
  const up = rulesWithDefaults(behavior.scaleUp, DEFAULT_SCALE_UP, 0);
  const down = rulesWithDefaults(behavior.scaleDown, DEFAULT_SCALE_DOWN, Math.round(i.downscaleStabilizationMs / 1000));

  // stabilization: never above the lowest recommendation of the up window, nor below the highest of the down window
  const upCutoff = i.now - up.stabilizationWindowSeconds * 1000;
  const downCutoff = i.now - down.stabilizationWindowSeconds * 1000;
  let upRec = i.desired, downRec = i.desired;
  for (const r of h.recommendations) {
    if (r.at > upCutoff) upRec = Math.min(upRec, r.replicas);
    if (r.at > downCutoff) downRec = Math.max(downRec, r.replicas);
  }
  let stabilized = i.current;
  if (stabilized < upRec) stabilized = upRec;
  if (stabilized > downRec) stabilized = downRec;
  remember(h, i.desired, i.now, (r) => r.at <= upCutoff && r.at <= downCutoff);
  let ableToScale: ConditionUpdate;
  if (stabilized !== i.desired) {
    ableToScale = i.desired >= i.current
      ? { status: 'True', reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
      : { status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
  } else {
    ableToScale = { status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
  }

  let replicas = stabilized;
  let reason = 'DesiredWithinRange', message = 'the desired count is within the acceptable range';
  if (stabilized > i.current) {
    const limit = Math.max(scaleUpLimit(i.current, h, up, i.now), i.current);
    let maxAllowed = i.max;
    let r = 'TooManyReplicas', m = 'the desired replica count is more than the maximum replica count';
    if (maxAllowed > limit) {
      maxAllowed = limit;
      r = 'ScaleUpLimit';
      m = 'the desired replica count is increasing faster than the maximum scale rate';
    }
    if (stabilized > maxAllowed) [replicas, reason, message] = [maxAllowed, r, m];
  } else if (stabilized < i.current) {
    const limit = Math.min(scaleDownLimit(i.current, h, down, i.now), i.current);
    let minAllowed = i.min;
    let r = 'TooFewReplicas', m = 'the desired replica count is less than the minimum replica count';
    if (minAllowed < limit) {
      minAllowed = limit;
      r = 'ScaleDownLimit';
      m = 'the desired replica count is decreasing faster than the maximum scale rate';
    }
    if (stabilized < minAllowed) [replicas, reason, message] = [minAllowed, r, m];
  }
  return { replicas, ableToScale, scalingLimited: { status: replicas === stabilized ? 'False' : 'True', reason, message } };
}

/** Pods added (or removed) by the events of the last `periodSeconds`. */
function changeInPeriod(events: ScaleEvent[], periodSeconds: number, now: number): number {
  const cutoff = now - periodSeconds * 1000;
  let sum = 0;
  for (const e of events) if (e.at > cutoff) sum += e.change;
  return sum;
}

/** The most replicas the scale-up policies allow now (upstream's calculateScaleUpLimitWithScalingRules). */
function scaleUpLimit(current: number, h: History, rules: Rules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(h.scaleUp, p.periodSeconds, now) + changeInPeriod(h.scaleDown, p.periodSeconds, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** The fewest replicas the scale-down policies allow now (upstream's calculateScaleDownLimitWithBehaviors). */
function scaleDownLimit(current: number, h: History, rules: Rules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(h.scaleUp, p.periodSeconds, now) + changeInPeriod(h.scaleDown, p.periodSeconds, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/**
 * Remembers a done rescale for the rate limits (upstream's storeScaleEvent): only with
 * `behavior`; an event older than the longest policy period is reused.
 */
export function storeScaleEvent(h: History, behavior: HorizontalPodAutoscalerBehavior | undefined, prev: number, next: number, now: number, downscaleStabilizationMs: number): void {
  if (!behavior) return;
  const upward = next > prev;
  const rules = upward ? rulesWithDefaults(behavior.scaleUp, DEFAULT_SCALE_UP, 0) : rulesWithDefaults(behavior.scaleDown, DEFAULT_SCALE_DOWN, Math.round(downscaleStabilizationMs / 1000));
  const events = upward ? h.scaleUp : h.scaleDown;
  const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds));
  for (const e of events) if (e.at < now - longest * 1000) e.outdated = true;
  const event: ScaleEvent = { change: Math.abs(next - prev), at: now, outdated: false };
  const i = findLastIndex(events, (e) => e.outdated);
  if (i >= 0) events[i] = event;
  else events.push(event);
}
