import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Controller } from './controller';
import { ControllerMetrics } from './metrics';
import { FakeClock } from '../fake-clock';

test('errors requeue with backoff; success forgets; requeueAfter delays', async () => {
  const clock = new FakeClock();
  const metrics = new ControllerMetrics(new Registry());
  let fail = 2;
  const seen: string[] = [];
  const c = new Controller({
    name: 't',
    clock,
    metrics,
    baseDelayMs: 10,
    reconcile: async (k) => {
      seen.push(k);
      if (k === 'a' && fail-- > 0) throw new Error('boom');
      if (k === 'b') return { requeueAfterMs: 1000 };
    },
  });
  await c.processOne('a');
  assert.equal(c.queue.numRequeues('a'), 1);
  assert.equal(c.queue.length, 0);
  clock.advance(10);
  assert.equal(c.queue.length, 1);
  await c.processOne('a');
  assert.equal(c.queue.numRequeues('a'), 2);
  await c.processOne('a');
  assert.equal(c.queue.numRequeues('a'), 0, 'forgotten after success');
  await c.processOne('b');
  clock.advance(999);
  assert.equal(c.queue.length, 1, 'a (from the second failure) only');
  clock.advance(1);
  assert.equal(c.queue.length, 2);
  const text = await metrics.registry.metrics();
  assert.match(text, /coxswain_controller_reconcile_total\{controller="t",result="error"\} 2/);
  assert.match(text, /coxswain_controller_reconcile_total\{controller="t",result="requeue"\} 1/);
});

test('workers never reconcile one key concurrently, and a change during a reconcile is not lost', async () => {
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  let release: () => void = () => undefined;
  const c = new Controller({
    name: 'w',
    workers: 4,
    reconcile: async () => {
      active++;
      runs++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((r) => (release = r));
      active--;
    },
  });
  c.start();
  c.enqueue('k');
  await new Promise((r) => setImmediate(r));
  c.enqueue('k');
  c.enqueue('k');
  await new Promise((r) => setImmediate(r));
  assert.equal(maxActive, 1);
  release();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(runs, 2, 'the adds during processing collapse into one more run');
  release();
  await c.stop();
  assert.equal(maxActive, 1);
});
