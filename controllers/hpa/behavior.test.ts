import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HorizontalPodAutoscalerBehavior } from 'kubernetes-types/autoscaling/v2';
import { newHistory, normalize, recordInitialRecommendation, storeScaleEvent, type History, type NormalizeInput } from './behavior';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const S = 1000;
const FIVE_MIN = 300 * S;
const base = (o: Partial<NormalizeInput>): NormalizeInput => ({ current: 1, desired: 1, min: 1, max: 10, now: T0, downscaleStabilizationMs: FIVE_MIN, ...o });

function started(current: number, at = T0): History {
  const h = newHistory();
  recordInitialRecommendation(h, current, at);
  return h;
}

test('without behavior: at most double or 4 more per sync; min and max; ScalingLimited says why', () => {
  let n = normalize(started(1), base({ current: 1, desired: 10, max: 20 }));
  assert.equal(n.replicas, 4);
  assert.deepEqual(n.scalingLimited, { status: 'True', reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' });
  n = normalize(started(5), base({ current: 5, desired: 20, max: 8 }));
  assert.equal(n.replicas, 8);
  assert.deepEqual(n.scalingLimited, { status: 'True', reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' });
  n = normalize(started(1), base({ current: 1, desired: 1, min: 2 }));
  assert.equal(n.replicas, 2);
  assert.deepEqual(n.scalingLimited, { status: 'True', reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' });
  n = normalize(started(2), base({ current: 2, desired: 3 }));
  assert.equal(n.replicas, 3);
  assert.deepEqual(n.scalingLimited, { status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' });
  assert.deepEqual(n.ableToScale, { status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' });
});

test('without behavior: a scale-down waits for the highest recommendation of the downscale window', () => {
  const h = started(5);
  let n = normalize(h, base({ current: 5, desired: 2, now: T0 + 60 * S }));
  assert.equal(n.replicas, 5, 'the first recommendation (5) is still in the window');
  assert.equal(n.ableToScale.reason, 'ScaleDownStabilized');
  n = normalize(h, base({ current: 5, desired: 3, now: T0 + 200 * S }));
  assert.equal(n.replicas, 5);
  // 5 has left the window; 2 (at 60 s) and 3 (at 200 s) are in it: the highest wins
  n = normalize(h, base({ current: 5, desired: 1, now: T0 + 301 * S }));
  assert.equal(n.replicas, 3);
  // a short window (the flag) scales down sooner
  const quick = started(5);
  assert.equal(normalize(quick, base({ current: 5, desired: 2, now: T0 + 11 * S, downscaleStabilizationMs: 10 * S })).replicas, 2);
  // scale-ups are never held back by it
  assert.equal(normalize(started(2), base({ current: 2, desired: 3, now: T0 + S })).replicas, 3);
});

test('behavior defaults: up by 4 pods or 100% per 15 s, counting what was added within the period', () => {
  const behavior: HorizontalPodAutoscalerBehavior = {};
  const h = started(2);
  let n = normalize(h, base({ current: 2, desired: 20, max: 50, behavior }));
  assert.equal(n.replicas, 6, 'max(2 + 4, 2 × 2)');
  assert.equal(n.scalingLimited.reason, 'ScaleUpLimit');
  storeScaleEvent(h, behavior, 2, 6, T0, FIVE_MIN);
  n = normalize(h, base({ current: 6, desired: 20, max: 50, now: T0 + 5 * S, behavior }));
  assert.equal(n.replicas, 6, 'the period began at 2: still max(6, 4)');
  n = normalize(h, base({ current: 6, desired: 20, max: 50, now: T0 + 16 * S, behavior }));
  assert.equal(n.replicas, 12, 'a new period: max(6 + 4, 6 × 2)');
  n = normalize(h, base({ current: 6, desired: 20, max: 8, now: T0 + 16 * S, behavior }));
  assert.equal(n.replicas, 8);
  assert.equal(n.scalingLimited.reason, 'TooManyReplicas');
});

test('behavior: Percent and Pods policies, selectPolicy Min and Disabled, periods', () => {
  const down50: HorizontalPodAutoscalerBehavior = { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] } };
  let h = started(10);
  let n = normalize(h, base({ current: 10, desired: 1, behavior: down50 }));
  assert.equal(n.replicas, 5);
  assert.deepEqual(n.scalingLimited, { status: 'True', reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' });
  storeScaleEvent(h, down50, 10, 5, T0, FIVE_MIN);
  assert.equal(normalize(h, base({ current: 5, desired: 1, now: T0 + 30 * S, behavior: down50 })).replicas, 5, 'half of the period\'s 10 are gone already');
  assert.equal(normalize(h, base({ current: 5, desired: 1, now: T0 + 61 * S, behavior: down50 })).replicas, 2, 'a new period: trunc(5 × 0.5)');

  const minUp: HorizontalPodAutoscalerBehavior = { scaleUp: { selectPolicy: 'Min', policies: [{ type: 'Pods', value: 2, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] } };
  assert.equal(normalize(started(4), base({ current: 4, desired: 20, max: 50, behavior: minUp })).replicas, 6, 'min(4 + 2, 4 × 2)');

  const noDown: HorizontalPodAutoscalerBehavior = { scaleDown: { selectPolicy: 'Disabled', stabilizationWindowSeconds: 0 } };
  h = started(4);
  n = normalize(h, base({ current: 4, desired: 1, behavior: noDown }));
  assert.equal(n.replicas, 4);
  assert.equal(n.scalingLimited.reason, 'ScaleDownLimit');
});

test('behavior: stabilization windows for both directions; scaleDown defaults to the flag\'s window', () => {
  const upWindow: HorizontalPodAutoscalerBehavior = { scaleUp: { stabilizationWindowSeconds: 60 } };
  const h = started(3);
  let n = normalize(h, base({ current: 3, desired: 8, now: T0 + 10 * S, behavior: upWindow }));
  assert.equal(n.replicas, 3, 'the lowest recommendation of the last minute is 3');
  assert.deepEqual(n.ableToScale, { status: 'True', reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' });
  n = normalize(h, base({ current: 3, desired: 8, now: T0 + 61 * S, behavior: upWindow }));
  assert.equal(n.replicas, 7, 'the lowest of the last minute is now 8, limited to 3 + 4');

  // no scaleDown rules: the window is the flag's (here 20 s)
  const h2 = started(6);
  n = normalize(h2, base({ current: 6, desired: 2, now: T0 + 10 * S, downscaleStabilizationMs: 20 * S, behavior: upWindow }));
  assert.equal(n.replicas, 6);
  assert.equal(n.ableToScale.reason, 'ScaleDownStabilized');
  assert.equal(normalize(h2, base({ current: 6, desired: 2, now: T0 + 21 * S, downscaleStabilizationMs: 20 * S, behavior: upWindow })).replicas, 2);
});
