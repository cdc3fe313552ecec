import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec } from 'kubernetes-types/autoscaling/v2';
import type { Pod } from 'kubernetes-types/core/v1';
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import { newHistory, type History } from './behavior';
import { formatMilli, rescaleFailed, syncHpa, type RawPodMetrics, type Scale, type SyncInput } from './sync';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const iso = (t: number) => new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
const MIN = 60_000;
const CPU_ABOVE = 'cpu resource utilization (percentage of request) above target';
const NO_API = 'the server could not find the requested resource (get pods.metrics.k8s.io)';

function hpa(spec: Partial<HorizontalPodAutoscalerSpec> = {}, status?: HorizontalPodAutoscaler['status']): HorizontalPodAutoscaler {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 3,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

const scaleOf = (replicas: number, selector = 'app=web'): { scale: Scale } => ({ scale: { metadata: { name: 'web', namespace: 'default' }, spec: { replicas }, status: { replicas, selector } } });

function pod(name: string, labels: Record<string, string> = { app: 'web' }): Pod {
  return {
    metadata: { name, namespace: 'default', labels },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '20m', memory: '64Mi' } } }] },
    status: { phase: 'Running', startTime: iso(T0 - 10 * MIN), conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: iso(T0 - 9 * MIN) }] },
  };
}

function usage(values: Record<string, { cpu: string; memory?: string }>): { items: RawPodMetrics[] } {
  return {
    items: Object.entries(values).map(([name, u]) => ({
      metadata: { name, namespace: 'default' }, timestamp: iso(T0 - 5000), window: '15s',
      containers: [{ name: 'c', usage: { cpu: u.cpu, memory: u.memory ?? '10Mi' } }],
    })),
  };
}

function input(o: Partial<SyncInput>): SyncInput {
  return {
    hpa: hpa(), scale: scaleOf(1), pods: [pod('web-1')], otherSelectors: new Map(), podMetrics: usage({ 'web-1': { cpu: '90m' } }), now: T0,
    options: { tolerance: 0.1, cpuInitializationPeriodMs: 5 * MIN, delayOfInitialReadinessStatusMs: 30_000, downscaleStabilizationMs: 5 * MIN },
    ...o,
  };
}

const cond = (status: HorizontalPodAutoscaler['status'], type: string) => {
  const c = status?.conditions?.find((x) => x.type === type);
  return c && { status: c.status, reason: c.reason, message: c.message };
};

test('a busy target scales up to its max: rescale, status, conditions and the SuccessfulRescale event as Kubernetes words them', () => {
  const h: History = newHistory();
  const plan = syncHpa(input({}), h);
  assert.deepEqual(plan.rescale, { from: 1, to: 3, reason: CPU_ABOVE });
  assert.deepEqual(plan.events, [{ type: 'Normal', reason: 'SuccessfulRescale', message: `New size: 3; reason: ${CPU_ABOVE}` }]);
  assert.equal(plan.status.currentReplicas, 1);
  assert.equal(plan.status.desiredReplicas, 3);
  assert.equal(plan.status.lastScaleTime, iso(T0));
  assert.deepEqual(plan.status.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 450, averageValue: '90m' } } }]);
  assert.deepEqual(cond(plan.status, 'AbleToScale'), { status: 'True', reason: 'SucceededRescale', message: 'the HPA controller was able to update the target scale to 3' });
  assert.deepEqual(cond(plan.status, 'ScalingActive'), { status: 'True', reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)' });
  assert.deepEqual(cond(plan.status, 'ScalingLimited'), { status: 'True', reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' });
  assert.deepEqual(plan.status.conditions?.map((c) => c.type), ['AbleToScale', 'ScalingActive', 'ScalingLimited']);
  assert.ok(plan.status.conditions?.every((c) => c.lastTransitionTime === iso(T0)));
  assert.deepEqual(plan.selector, { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] });
});

test('a steady target: no rescale, the same status twice (no write), transition times kept', () => {
  const h = newHistory();
  const first = syncHpa(input({ scale: scaleOf(3), pods: [pod('a'), pod('b'), pod('c')], podMetrics: usage({ a: { cpu: '10m' }, b: { cpu: '11m' }, c: { cpu: '9m' } }) }), h);
  assert.equal(first.rescale, undefined);
  assert.equal(first.status.desiredReplicas, 3);
  assert.deepEqual(cond(first.status, 'AbleToScale'), { status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' });
  assert.deepEqual(cond(first.status, 'ScalingLimited'), { status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' });
  const later = { ...input({ scale: scaleOf(3), pods: [pod('a'), pod('b'), pod('c')], podMetrics: usage({ a: { cpu: '10m' }, b: { cpu: '11m' }, c: { cpu: '9m' } }) }), now: T0 + 15_000 };
  const second = syncHpa({ ...later, hpa: hpa({}, first.status) }, h);
  assert.deepEqual(second.status, first.status);
  assert.deepEqual(second.events, []);
});

test('load gone: the scale-down waits out the downscale window, then goes to the minimum with "All metrics below target"', () => {
  const h = newHistory();
  const idle = { pods: [pod('a'), pod('b'), pod('c')], podMetrics: usage({ a: { cpu: '0' }, b: { cpu: '1m' }, c: { cpu: '0' } }), scale: scaleOf(3) };
  const held = syncHpa(input({ ...idle, options: { ...input({}).options, downscaleStabilizationMs: 30_000 } }), h);
  assert.equal(held.rescale, undefined);
  assert.deepEqual(cond(held.status, 'AbleToScale'), { status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' });
  const down = syncHpa(input({ ...idle, now: T0 + 31_000, options: { ...input({}).options, downscaleStabilizationMs: 30_000 } }), h);
  assert.deepEqual(down.rescale, { from: 3, to: 1, reason: 'All metrics below target' });
  assert.deepEqual(cond(down.status, 'ScalingLimited'), { status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' });
  // with minReplicas 2 the proposal of 1 is limited
  const atMin = syncHpa(input({ ...idle, hpa: hpa({ minReplicas: 2 }), now: T0 + 31_000, options: { ...input({}).options, downscaleStabilizationMs: 0 } }), newHistory());
  assert.deepEqual(atMin.rescale, { from: 3, to: 2, reason: 'All metrics below target' });
  assert.deepEqual(cond(atMin.status, 'ScalingLimited'), { status: 'True', reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' });
});

test('no metrics API: FailedGetResourceMetric and FailedComputeMetricsReplicas, ScalingActive False, <unknown> current metric', () => {
  const plan = syncHpa(input({ podMetrics: { error: NO_API } }), newHistory());
  const inner = `failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: ${NO_API}`;
  assert.deepEqual(plan.events, [
    { type: 'Warning', reason: 'FailedGetResourceMetric', message: inner },
    { type: 'Warning', reason: 'FailedComputeMetricsReplicas', message: `invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: ${inner}` },
  ]);
  assert.deepEqual(cond(plan.status, 'ScalingActive'), { status: 'False', reason: 'FailedGetResourceMetric', message: `the HPA was unable to compute the replica count: ${inner}` });
  assert.deepEqual(cond(plan.status, 'AbleToScale'), { status: 'True', reason: 'SucceededGetScale', message: "the HPA controller was able to get the target's current scale" });
  assert.equal(plan.rescale, undefined);
  assert.equal(plan.status.currentReplicas, 1);
  assert.deepEqual(plan.status.currentMetrics, [{ type: '' }]);
  // an empty list is another error
  const empty = syncHpa(input({ podMetrics: { items: [] } }), newHistory());
  assert.match(empty.events[0].message, /no metrics returned from resource metrics API$/);
});

test('the target: unreadable Scale, zero replicas, outside min/max, missing or ambiguous selector', () => {
  let plan = syncHpa(input({ scale: { error: 'deployments.apps "web" not found' } }), newHistory());
  assert.deepEqual(plan.events, [{ type: 'Warning', reason: 'FailedGetScale', message: 'deployments.apps "web" not found' }]);
  assert.deepEqual(cond(plan.status, 'AbleToScale'), { status: 'False', reason: 'FailedGetScale', message: 'the HPA controller was unable to get the target\'s current scale: deployments.apps "web" not found' });

  plan = syncHpa(input({ scale: scaleOf(0) }), newHistory());
  assert.equal(plan.rescale, undefined);
  assert.deepEqual(cond(plan.status, 'ScalingActive'), { status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' });

  plan = syncHpa(input({ scale: scaleOf(7) }), newHistory());
  assert.deepEqual(plan.rescale, { from: 7, to: 3, reason: 'Current number of replicas above Spec.MaxReplicas' });
  plan = syncHpa(input({ hpa: hpa({ minReplicas: 2 }) }), newHistory());
  assert.deepEqual(plan.rescale, { from: 1, to: 2, reason: 'Current number of replicas below Spec.MinReplicas' });

  plan = syncHpa(input({ scale: scaleOf(1, '') }), newHistory());
  assert.deepEqual(plan.events, [
    { type: 'Warning', reason: 'SelectorRequired', message: 'selector is required' },
    { type: 'Warning', reason: 'FailedComputeMetricsReplicas', message: 'selector is required' },
  ]);
  assert.deepEqual(cond(plan.status, 'ScalingActive'), { status: 'False', reason: 'InvalidSelector', message: "the HPA target's scale is missing a selector" });

  const others = new Map<string, LabelSelector>([['default/other', { matchLabels: { app: 'web' } }], ['elsewhere/x', { matchLabels: { app: 'web' } }]]);
  plan = syncHpa(input({ otherSelectors: others }), newHistory());
  const msg = 'pods by selector app=web are controlled by multiple HPAs: [default/other default/web]';
  assert.deepEqual(plan.events[0], { type: 'Warning', reason: 'AmbiguousSelector', message: msg });
  assert.deepEqual(cond(plan.status, 'ScalingActive'), { status: 'False', reason: 'AmbiguousSelector', message: msg });
  assert.equal(plan.rescale, undefined);
});

test('several metrics: the highest proposal wins; a failing one blocks only a scale-down; memory AverageValue', () => {
  const metrics: HorizontalPodAutoscalerSpec['metrics'] = [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
    { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
  ];
  const pods = [pod('a'), pod('b')];
  // cpu at 50% (stay at 2), memory at 300Mi per pod → ceil(3 × 2) = 6, capped at max 10 by the legacy limit of 4
  let plan = syncHpa(input({ hpa: hpa({ metrics, maxReplicas: 10 }), scale: scaleOf(2), pods, podMetrics: usage({ a: { cpu: '10m', memory: '300Mi' }, b: { cpu: '10m', memory: '300Mi' } }) }), newHistory());
  assert.deepEqual(plan.rescale, { from: 2, to: 4, reason: 'memory resource above target' });
  assert.deepEqual(plan.status.currentMetrics, [
    { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 50, averageValue: '10m' } } },
    { type: 'Resource', resource: { name: 'memory', current: { averageValue: '314572800' } } },
  ]);
  // memory has no request: its utilization fails, but cpu asks for more: scale up, and say so
  const memUtil: HorizontalPodAutoscalerSpec['metrics'] = [metrics[0], { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 50 } } }];
  const noMemRequest = pods.map((p) => ({ ...p, spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '20m' } } }] } }));
  plan = syncHpa(input({ hpa: hpa({ metrics: memUtil, maxReplicas: 10 }), scale: scaleOf(2), pods: noMemRequest, podMetrics: usage({ a: { cpu: '40m' }, b: { cpu: '40m' } }) }), newHistory());
  assert.deepEqual(plan.rescale, { from: 2, to: 4, reason: CPU_ABOVE });
  assert.deepEqual(plan.events[0], { type: 'Warning', reason: 'FailedGetResourceMetric', message: 'failed to get memory utilization: missing request for memory in container c of Pod a' });
  assert.equal(cond(plan.status, 'ScalingActive')?.reason, 'ValidMetricFound');
  assert.match(plan.error ?? '', /^invalid metrics \(1 invalid out of 2\), first error is: failed to get memory resource metric value: /);
  // ... but cpu asking for fewer is not enough to scale down
  plan = syncHpa(input({ hpa: hpa({ metrics: memUtil, maxReplicas: 10 }), scale: scaleOf(2), pods: noMemRequest, podMetrics: usage({ a: { cpu: '1m' }, b: { cpu: '1m' } }) }), newHistory());
  assert.equal(plan.rescale, undefined);
  assert.equal(cond(plan.status, 'ScalingActive')?.reason, 'FailedGetResourceMetric');
  assert.equal(plan.events.at(-1)?.reason, 'FailedComputeMetricsReplicas');
});

test('a target of zero is refused rather than divided by', () => {
  const zero: HorizontalPodAutoscalerSpec['metrics'] = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'AverageValue', averageValue: '0' } } }];
  const plan = syncHpa(input({ hpa: hpa({ metrics: zero }) }), newHistory());
  assert.equal(plan.rescale, undefined);
  assert.deepEqual(plan.events[0], { type: 'Warning', reason: 'FailedGetResourceMetric', message: 'invalid resource metric source: the target must be positive, got "0"' });
});

test('custom and external metrics are not served: ScalingActive False with upstream\'s reasons', () => {
  const plan = syncHpa(input({ hpa: hpa({ metrics: [{ type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '10' } } }] }) }), newHistory());
  assert.equal(cond(plan.status, 'ScalingActive')?.reason, 'FailedGetPodsMetric');
  assert.match(plan.events[0].message, /^unable to get metric rps: unable to fetch metrics from custom metrics API/);
});

test('a failed Scale write: FailedRescale instead of SuccessfulRescale, AbleToScale False, desiredReplicas as before', () => {
  const plan = syncHpa(input({}), newHistory());
  const failed = rescaleFailed(hpa(), plan, 'Operation cannot be fulfilled', T0);
  assert.deepEqual(failed.events, [{ type: 'Warning', reason: 'FailedRescale', message: `New size: 3; reason: ${CPU_ABOVE}; error: Operation cannot be fulfilled` }]);
  assert.deepEqual(cond(failed.status, 'AbleToScale'), { status: 'False', reason: 'FailedUpdateScale', message: 'the HPA controller was unable to update the target scale: Operation cannot be fulfilled' });
  assert.equal(failed.status.desiredReplicas, 0);
  assert.equal(failed.status.currentReplicas, 1);
  assert.equal(failed.status.lastScaleTime, undefined);
});

test('quantities print as Kubernetes prints DecimalSI milli-values', () => {
  assert.equal(formatMilli(180), '180m');
  assert.equal(formatMilli(2000), '2');
  assert.equal(formatMilli(1500_000), '1500');
  assert.equal(formatMilli(2_000_000), '2k');
  assert.equal(formatMilli(45764608_000), '45764608');
  assert.equal(formatMilli(0), '0');
});
