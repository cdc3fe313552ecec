import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { groupPods, rawResourceReplicas, resourceReplicas, type CalcOptions, type PodMetrics } from './replicas';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const iso = (t: number) => new Date(t).toISOString();
const MIN = 60_000;
const opts: CalcOptions = { tolerance: 0.1, cpuInitializationPeriodMs: 5 * MIN, delayOfInitialReadinessStatusMs: 30_000, now: T0 };

interface PodOpts { cpu?: string; memory?: string; phase?: string; ready?: 'True' | 'False' | 'none'; started?: number; readySince?: number; deleted?: boolean }

/** A pod started 10 minutes ago and Ready since 9, asking 100m CPU and 100Mi, unless told otherwise. */
function pod(name: string, o: PodOpts = {}): Pod {
  const started = o.started ?? T0 - 10 * MIN;
  return {
    metadata: { name, namespace: 'default', labels: { app: 'web' }, ...(o.deleted ? { deletionTimestamp: iso(T0) } : {}) },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { ...(o.cpu !== '' ? { cpu: o.cpu ?? '100m' } : {}), memory: o.memory ?? '100Mi' } } }] },
    status: {
      phase: o.phase ?? 'Running',
      startTime: iso(started),
      conditions: o.ready === 'none' ? [] : [{ type: 'Ready', status: o.ready ?? 'True', lastTransitionTime: iso(o.readySince ?? started + MIN) }],
    },
  };
}

/** Samples taken just now over a 15 s window. */
function samples(values: Record<string, number>, at = T0 - 1000): PodMetrics {
  return new Map(Object.entries(values).map(([n, v]) => [n, { value: v, timestamp: at, windowMs: 15_000 }]));
}

test('utilization: the ready pods\' usage over their requests against the target; ceil(ratio × ready pods)', () => {
  const pods = ['a', 'b', 'c'].map((n) => pod(n));
  const p = resourceReplicas(3, 30, 'cpu', pods, samples({ a: 90, b: 90, c: 90 }), opts);
  assert.deepEqual(p, { replicas: 9, utilization: 90, rawAverage: 90 });
  // scale down: 10% of the request against 50% → ceil(0.2 × 3)
  assert.equal(resourceReplicas(3, 50, 'cpu', pods, samples({ a: 10, b: 10, c: 10 }), opts).replicas, 1);
});

test('tolerance: a ratio within 1 ± 0.1 keeps the current count; just outside it rescales', () => {
  const pods = ['a', 'b', 'c'].map((n) => pod(n));
  assert.equal(resourceReplicas(3, 50, 'cpu', pods, samples({ a: 54, b: 54, c: 54 }), opts).replicas, 3, '108% of target is within tolerance');
  assert.equal(resourceReplicas(3, 50, 'cpu', pods, samples({ a: 45, b: 45, c: 45 }), opts).replicas, 3, '90% of target is within tolerance');
  // exactly 110%: |1 - 1.1| is 0.10000000000000009 in float64, just outside, as on Kubernetes
  assert.equal(resourceReplicas(3, 50, 'cpu', pods, samples({ a: 55, b: 55, c: 55 }), opts).replicas, 4);
  assert.equal(resourceReplicas(3, 50, 'cpu', pods, samples({ a: 56, b: 56, c: 56 }), opts).replicas, 4, '112% → ceil(1.12 × 3)');
  assert.equal(resourceReplicas(3, 50, 'cpu', pods, samples({ a: 56, b: 56, c: 56 }), { ...opts, tolerance: 0.2 }).replicas, 3, 'a wider tolerance');
});

test('missing pods: assumed at 0 on a scale-up and at 100% of their request on a scale-down', () => {
  const three = ['a', 'b', 'c'].map((n) => pod(n));
  // up: a and b at 200% of target; c (no sample) counts 0 → 66% → ceil(1.32 × 3)
  assert.equal(resourceReplicas(3, 50, 'cpu', three, samples({ a: 100, b: 100 }), opts).replicas, 4);
  // down: three at 10%, the fourth at its full request → 32% → ceil(0.64 × 4), not ceil(0.2 × 3) = 1
  const four = ['a', 'b', 'c', 'd'].map((n) => pod(n));
  assert.equal(resourceReplicas(4, 50, 'cpu', four, samples({ a: 10, b: 10, c: 10 }), opts).replicas, 3);
  // a target above 100% counts a missing pod at the target instead
  // (a target of 200%: the missing pod at 200 → 57% → 0.285 of target → ceil(1.14))
  assert.equal(resourceReplicas(4, 200, 'cpu', four, samples({ a: 10, b: 10, c: 10 }), opts).replicas, 2);
});

test('unready pods: counted at 0 CPU on a scale-up (which may cancel it), left out on a scale-down', () => {
  const pods = [pod('a'), pod('b'), pod('c', { ready: 'False', started: T0 - MIN, readySince: T0 - MIN + 5000 })];
  // a, b at 120% of target: alone ceil(1.2 × 2) = 3, but c at 0 brings it to 80%: the direction flips, so no change
  assert.equal(resourceReplicas(3, 50, 'cpu', pods, samples({ a: 60, b: 60, c: 100 }), opts).replicas, 3);
  // a, b at 20%: c is simply left out → ceil(0.2 × 2)
  assert.equal(resourceReplicas(3, 50, 'cpu', pods, samples({ a: 10, b: 10, c: 100 }), opts).replicas, 1);
  // far above: a, b at 400% and c at 0 → 266% → ceil(2.66 × 3)
  assert.equal(resourceReplicas(3, 50, 'cpu', pods, samples({ a: 200, b: 200, c: 100 }), opts).replicas, 8);
});

test('groupPods: deleted and failed pods ignored, pending unready, the CPU initialization period and the readiness delay', () => {
  const pods = [
    pod('deleted', { deleted: true }),
    pod('failed', { phase: 'Failed' }),
    pod('pending', { phase: 'Pending' }),
    pod('nosample'),
    // 1 minute old, ready since 10 s: its 15 s sample began before it was ready
    pod('warming', { started: T0 - MIN, readySince: T0 - 10_000 }),
    // 1 minute old, ready for 40 s: a whole window since it became ready
    pod('warm', { started: T0 - MIN, readySince: T0 - 40_000 }),
    // 10 minutes old, unready 10 s after start: never was ready
    pod('neverready', { ready: 'False', readySince: T0 - 10 * MIN + 10_000 }),
    // 10 minutes old, unready since minute 2: it was ready before, its usage counts
    pod('wasready', { ready: 'False', readySince: T0 - 8 * MIN }),
    pod('nocondition', { ready: 'none' }),
  ];
  const m = samples(Object.fromEntries(pods.filter((p) => p.metadata!.name !== 'nosample').map((p) => [p.metadata!.name!, 50])));
  const g = groupPods(pods, m, 'cpu', opts);
  assert.deepEqual([...g.ignored].sort(), ['deleted', 'failed']);
  assert.deepEqual([...g.unready].sort(), ['neverready', 'nocondition', 'pending', 'warming']);
  assert.deepEqual([...g.missing], ['nosample']);
  assert.equal(g.readyPodCount, 2, 'warm and wasready');
  // for memory, readiness does not matter
  const mem = groupPods(pods, m, 'memory', opts);
  assert.deepEqual([...mem.unready], ['pending']);
  assert.equal(mem.readyPodCount, 5);
});

test('errors: a container without a request, no pods, no samples of ready pods', () => {
  assert.throws(() => resourceReplicas(1, 50, 'cpu', [pod('a', { cpu: '' })], samples({ a: 10 }), opts), /^Error: missing request for cpu in container c of Pod a$/);
  assert.throws(() => resourceReplicas(1, 50, 'cpu', [], samples({ a: 10 }), opts), /no pods returned by selector while calculating replica count/);
  assert.throws(() => resourceReplicas(1, 50, 'cpu', [pod('a', { phase: 'Pending' })], samples({ a: 10 }), opts), /did not receive metrics for any ready pods/);
});

test('AverageValue: the mean usage per pod against the target value, missing pods at the target on a scale-down', () => {
  const pods = [pod('a'), pod('b')];
  assert.deepEqual(rawResourceReplicas(2, 100, 'cpu', pods, samples({ a: 200, b: 400 }), opts), { replicas: 6, rawAverage: 300 });
  assert.equal(rawResourceReplicas(2, 100, 'cpu', pods, samples({ a: 105, b: 100 }), opts).replicas, 2, 'within tolerance');
  // memory in milli-bytes: 2 pods at 50Mi against 100Mi → 1; with a third pod missing it counts at 100Mi → ceil(0.66 × 3) = 2
  const Mi = 1024 * 1024 * 1000;
  assert.equal(rawResourceReplicas(2, 100 * Mi, 'memory', pods, samples({ a: 50 * Mi, b: 50 * Mi }), opts).replicas, 1);
  assert.equal(rawResourceReplicas(3, 100 * Mi, 'memory', [...pods, pod('c')], samples({ a: 50 * Mi, b: 50 * Mi }), opts).replicas, 2);
});
