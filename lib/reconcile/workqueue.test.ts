import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from './workqueue';
import { FakeClock } from '../fake-clock';

test('duplicate adds collapse while waiting', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
});

test('a key being processed is not handed out again until done, then requeued once', async () => {
  const q = new WorkQueue();
  q.add('a');
  const k = await q.get();
  assert.equal(k, 'a');
  q.add('a');
  q.add('a');
  assert.equal(q.length, 0, 'dirty but not queued while processing');
  let second: string | undefined;
  void q.get().then((x) => (second = x));
  await Promise.resolve();
  assert.equal(second, undefined);
  q.done('a');
  await Promise.resolve();
  assert.equal(second, 'a');
  q.done('a');
  assert.equal(q.length, 0);
});

test('waiting getters are woken by add', async () => {
  const q = new WorkQueue();
  const p = q.get();
  q.add('x');
  assert.equal(await p, 'x');
});

test('addRateLimited backs off exponentially with a cap; forget resets', () => {
  const clock = new FakeClock();
  const q = new WorkQueue({ clock, baseDelayMs: 10, maxDelayMs: 50 });
  assert.deepEqual([q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a')], [10, 20, 40, 50]);
  assert.equal(q.numRequeues('a'), 4);
  q.forget('a');
  assert.equal(q.numRequeues('a'), 0);
  assert.equal(q.addRateLimited('a'), 10);
});

test('addAfter adds when the clock reaches the deadline; earlier deadline wins', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue({ clock });
  q.addAfter('a', 100);
  q.addAfter('a', 500);
  clock.advance(99);
  assert.equal(q.length, 0);
  clock.advance(1);
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'a');
  q.done('a');
  q.addAfter('b', 500);
  q.addAfter('b', 100);
  clock.advance(100);
  assert.equal(q.length, 1);
  assert.equal(clock.pendingTimers, 0);
});

test('shutDown wakes getters with undefined and drops delayed adds', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue({ clock });
  const p = q.get();
  q.addAfter('z', 10);
  q.shutDown();
  assert.equal(await p, undefined);
  clock.advance(100);
  assert.equal(q.length, 0);
  assert.equal(await q.get(), undefined);
});
