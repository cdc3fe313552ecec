import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event } from 'kubernetes-types/core/v1';
import { eventRow, lastSeen, parseTypes, sortEvents } from './events';

const NOW = Date.parse('2026-12-07T10:00:00Z');
const ev = (reason: string, o: Partial<Event> = {}): Event =>
  ({ metadata: { name: reason, namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p' }, reason, type: 'Normal', message: ` ${reason} happened `, ...o }) as Event;

test('LAST SEEN: age of the first sighting, or last (xN over first) for repeats and series', () => {
  assert.equal(lastSeen(ev('a', { firstTimestamp: '2026-12-07T09:59:55Z', lastTimestamp: '2026-12-07T09:59:55Z', count: 1 }), NOW), '5s');
  assert.equal(lastSeen(ev('a', { firstTimestamp: '2026-12-07T09:58:00Z', lastTimestamp: '2026-12-07T09:59:50Z', count: 3 }), NOW), '10s (x3 over 2m)');
  assert.equal(lastSeen(ev('a', { eventTime: '2026-12-07T09:50:00.000000Z', series: { count: 4, lastObservedTime: '2026-12-07T09:59:00.000000Z' } }), NOW), '60s (x4 over 10m)');
  assert.equal(lastSeen(ev('a'), NOW), '<unknown>');
});

test('rows: OBJECT is Kind/name, the message trimmed, NAMESPACE first with -A', () => {
  const e = ev('Started', { firstTimestamp: '2026-12-07T09:59:00Z' });
  assert.deepEqual(eventRow(e, NOW, false), ['60s', 'Normal', 'Started', 'Pod/p', 'Started happened']);
  assert.deepEqual(eventRow(e, NOW, true)[0], 'default');
});

test('sorted by last time (series, lastTimestamp, eventTime), filtered by type', () => {
  const list = [
    ev('c', { lastTimestamp: '2026-12-07T09:59:00Z' }),
    ev('a', { eventTime: '2026-12-07T09:00:00.000000Z', type: 'Warning' }),
    ev('b', { eventTime: '2026-12-07T09:00:00.000000Z', series: { count: 2, lastObservedTime: '2026-12-07T09:30:00.000000Z' } }),
  ];
  assert.deepEqual(sortEvents(list, []).map((e) => e.reason), ['a', 'b', 'c']);
  assert.deepEqual(sortEvents(list, parseTypes(['warning'])).map((e) => e.reason), ['a']);
  assert.throws(() => parseTypes(['Error']), /valid --types are Normal or Warning/);
});
