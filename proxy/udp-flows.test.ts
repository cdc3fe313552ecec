import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../lib/fake-clock';
import { FlowTable, type Flow } from './udp-flows';

function setup(maxFlows = 3, idleTimeoutMs = 30_000) {
  const clock = new FakeClock();
  const closed: string[] = [];
  const table = new FlowTable<Flow & { name: string }>({ idleTimeoutMs, maxFlows, clock });
  const flow = (name: string) => ({ name, lastActive: 0, close: (r: string) => closed.push(`${name}:${r}`) });
  return { clock, closed, table, flow };
}

test('an idle flow closes after the timeout; traffic either way keeps it open', () => {
  const { clock, closed, table, flow } = setup();
  table.add('a', flow('a'));
  table.add('b', flow('b'));
  clock.advance(20_000);
  table.touch('a');
  clock.advance(10_000);
  assert.deepEqual(closed, ['b:idle']);
  assert.ok(table.get('a'));
  clock.advance(19_999);
  assert.deepEqual(closed, ['b:idle']);
  clock.advance(1);
  assert.deepEqual(closed, ['b:idle', 'a:idle']);
  assert.equal(table.size, 0);
  assert.equal(clock.pendingTimers, 0);
});

test('a full table evicts the least recently active flow for a new one', () => {
  const { clock, closed, table, flow } = setup(3);
  for (const n of ['a', 'b', 'c']) {
    assert.equal(table.add(n, flow(n)), 0);
    clock.advance(2_000);
  }
  table.touch('a');
  assert.equal(table.add('d', flow('d')), 1);
  assert.deepEqual(closed, ['b:evicted']);
  assert.equal(table.add('e', flow('e')), 1);
  assert.deepEqual(closed, ['b:evicted', 'c:evicted']);
  assert.deepEqual(['a', 'd', 'e'].map((k) => !!table.get(k)), [true, true, true]);
});

test('remove, removePrefix and re-adding a key close the old flow once', () => {
  const { closed, table, flow, clock } = setup(10);
  table.add('L1|x', flow('x'));
  table.add('L1|y', flow('y'));
  table.add('L2|z', flow('z'));
  table.add('L2|z', flow('z2'));
  table.removePrefix('L1|');
  table.remove('L2|z');
  table.remove('L2|z');
  assert.deepEqual(closed, ['z:removed', 'x:removed', 'y:removed', 'z2:removed']);
  assert.equal(table.size, 0);
  assert.equal(clock.pendingTimers, 0);
});
