import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toTable } from '../../tables';

test('events table: last seen, type, reason, object', () => {
  const now = new Date('2024-01-01T01:00:00Z');
  const ev = toTable('events', [{ metadata: { name: 'e' }, type: 'Normal', reason: 'Scheduled', involvedObject: { kind: 'Pod', name: 'p' }, message: 'ok', lastTimestamp: '2024-01-01T00:59:00Z' }], { now });
  assert.deepEqual(ev.rows[0].cells.slice(0, 4), ['60s', 'Normal', 'Scheduled', 'pod/p']);
});
