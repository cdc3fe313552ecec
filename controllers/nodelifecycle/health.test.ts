import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from 'kubernetes-types/core/v1';
import { assessNode, observeHeartbeat, type NodeLease } from './health';

const T = Date.parse('2024-01-01T00:01:00Z');
const GRACE = 8_000;
const node = (hb: string | undefined, status = 'True'): Node => ({
  metadata: { name: 'n1', creationTimestamp: '2024-01-01T00:00:00Z' },
  status: { conditions: hb === undefined ? [] : [{ type: 'Ready', status, lastHeartbeatTime: hb, reason: 'KubeletReady' }, { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: hb }] },
});
const lease = (renew: string): NodeLease => ({ metadata: { name: 'n1' }, spec: { renewTime: renew } });

test('first sight: a full grace period from now, whatever the heartbeat says', () => {
  const p = observeHeartbeat(undefined, node('2023-01-01T00:00:00Z'), undefined, T);
  assert.equal(p.observedAt, T);
  assert.equal(assessNode(node('2023-01-01T00:00:00Z'), p, T, GRACE).stale, false);
});

test('a renewed lease keeps a node fresh while its Ready heartbeat is old', () => {
  let p = observeHeartbeat(undefined, node('2024-01-01T00:00:50Z'), lease('2024-01-01T00:00:59.000000Z'), T);
  p = observeHeartbeat(p, node('2024-01-01T00:00:50Z'), lease('2024-01-01T00:01:05.000000Z'), T + 6_000);
  assert.equal(p.observedAt, T + 6_000);
  const h = assessNode(node('2024-01-01T00:00:50Z'), p, T + 12_000, GRACE);
  assert.deepEqual(h, { stale: false, recheckAfterMs: 2_001 });
});

test('nothing moves for longer than the grace: Ready and pressure conditions become Unknown', () => {
  const n = node('2024-01-01T00:00:59Z');
  let p = observeHeartbeat(undefined, n, lease('2024-01-01T00:00:59.000000Z'), T);
  p = observeHeartbeat(p, n, lease('2024-01-01T00:00:59.000000Z'), T + 8_001);
  const h = assessNode(n, p, T + 8_001, GRACE);
  assert.equal(h.stale, true);
  assert.deepEqual(h.conditions?.map((c) => [c.type, c.status, c.reason]), [
    ['Ready', 'Unknown', 'NodeStatusUnknown'],
    ['MemoryPressure', 'Unknown', 'NodeStatusUnknown'],
  ]);
  assert.equal(h.conditions?.[0].lastHeartbeatTime, '2024-01-01T00:00:59Z', 'heartbeat time is kept');
});

test('a heartbeat going backwards (an old copy) is not a heartbeat', () => {
  let p = observeHeartbeat(undefined, node(undefined), lease('2024-01-01T00:01:00.000000Z'), T);
  p = observeHeartbeat(p, node(undefined), lease('2024-01-01T00:00:50.000000Z'), T + 5_000);
  assert.equal(p.observedAt, T);
});

test('already Unknown: stale, no write; never reported: Ready Unknown added after the grace from creation', () => {
  const n = node('2024-01-01T00:00:10Z', 'Unknown');
  const p = { readyHeartbeat: NaN, leaseRenew: NaN, observedAt: T - 60_000 };
  assert.deepEqual(assessNode(n, p, T, GRACE), { stale: true });
  const fresh = observeHeartbeat(undefined, node(undefined), undefined, T);
  assert.equal(fresh.observedAt, Date.parse('2024-01-01T00:00:00Z'));
  const h = assessNode(node(undefined), fresh, T, GRACE);
  assert.equal(h.conditions?.[0].reason, 'NodeStatusNeverUpdated');
});
