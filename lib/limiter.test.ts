import assert from 'node:assert/strict';
import test from 'node:test';
import { Limiter } from './limiter';

test('never more than max tasks at once; all finish, in order of arrival', async () => {
  const l = new Limiter(2);
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const gates: (() => void)[] = [];
  const tasks = [0, 1, 2, 3, 4].map((i) =>
    l.run(async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await new Promise<void>((r) => gates.push(r));
      running--;
      return i;
    }),
  );
  while (order.length < 5) {
    await new Promise((r) => setImmediate(r));
    gates.shift()?.();
  }
  for (const g of gates) g();
  assert.deepEqual(await Promise.all(tasks), [0, 1, 2, 3, 4]);
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  assert.equal(l.inFlight, 0);
});

test('Limiter: at most `limit` tasks in flight, the rest start in order as others finish', async () => {
  const l = new Limiter(2);
  const release: (() => void)[] = [];
  const started: number[] = [];
  for (let i = 0; i < 5; i++)
    l.spawn(async () => {
      started.push(i);
      await new Promise<void>((r) => release.push(r));
    });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([started, l.inFlight, l.queued], [[0, 1], 2, 3]);
  release[1]();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [0, 1, 2], 'a slow task (0) does not hold the others');
  l.spawn(async () => {
    throw new Error('a failing task frees its slot too');
  });
  for (let i = 0; i < 6; i++) {
    release.forEach((r) => r());
    await new Promise((r) => setImmediate(r));
  }
  await l.drain();
  assert.deepEqual([started, l.inFlight, l.queued], [[0, 1, 2, 3, 4], 0, 0]);
});

test('Limiter.room: resolves once no task waits for a slot', async () => {
  const l = new Limiter(1);
  const release: (() => void)[] = [];
  for (let i = 0; i < 3; i++) l.spawn(() => new Promise<void>((r) => release.push(r)));
  let roomy = false;
  void l.room().then(() => (roomy = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(roomy, false, 'two tasks wait');
  release[0]();
  await new Promise((r) => setImmediate(r));
  assert.equal(roomy, false, 'one still waits');
  release[1]();
  await new Promise((r) => setImmediate(r));
  assert.equal(roomy, true, 'the last one runs: nothing waits');
  release[2]();
  await l.drain();
  await l.room();
});
