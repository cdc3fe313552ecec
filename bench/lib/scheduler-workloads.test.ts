import assert from 'node:assert/strict';
import test from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1';
import { throughput, workloads } from './scheduler-workloads';

test('throughput: bound pods over first create → last bind; latencies per pod', () => {
  const sent = new Map([['a', 1000], ['b', 1100], ['c', 1200]]);
  const bound = new Map([['a', 1500], ['b', 3000]]);
  const t = throughput(sent, bound);
  assert.equal(t.bound, 2);
  assert.equal(t.podsPerSecond, 1);
  assert.deepEqual(t.latenciesMs, [500, 1900]);
});

test('sizes follow scheduler_perf shapes scaled to the node count', () => {
  const w = Object.fromEntries(workloads(1000, 5000, { kind: 'field' }).map((x) => [x.name, x]));
  assert.equal(w.basic!.measure.count, 5000);
  assert.equal(w['anti-affinity']!.init[0]!.count + w['anti-affinity']!.measure.count, 600);
  assert.equal(w.preemption!.init[0]!.count, 4000);
  assert.equal(w.preemption!.measure.pod('x').spec?.priority, 10);
  const classes = workloads(10, 10, { kind: 'class', low: 'l', high: 'h' });
  assert.equal(classes.find((x) => x.name === 'preemption')!.measure.pod('x').spec?.priorityClassName, 'h');
});

test('rule checks: anti-affinity crowding, zone skew', () => {
  const on = (node: string): Pod => ({ spec: { nodeName: node, containers: [] } });
  const [, anti, spread] = workloads(3, 3, { kind: 'field' });
  assert.equal(anti!.check([on('n1'), on('n2')], [on('n3')], () => undefined).held, true);
  assert.equal(anti!.check([on('n1'), on('n2')], [on('n1')], () => undefined).held, false);
  const zone = (n: string) => ({ n1: 'moon-1', n2: 'moon-2', n3: 'moon-3' })[n];
  assert.deepEqual(spread!.check([...Array(6)].map(() => on('n1')), [], zone), { held: false, detail: 'per zone 6/0/0, skew 6 (maxSkew 5)' });
});
