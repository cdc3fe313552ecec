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
