import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from 'kubernetes-types/core/v1';
import { assessNode } from './health';

const T = Date.parse('2024-01-01T00:01:00Z');
const node = (hb: string | undefined, status = 'True'): Node => ({
  metadata: { name: 'n1', creationTimestamp: '2024-01-01T00:00:00Z' },
  status: { conditions: hb === undefined ? [] : [{ type: 'Ready', status, lastHeartbeatTime: hb, reason: 'KubeletReady' }, { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: hb }] },
});

test('fresh heartbeat: nothing to write, recheck when it would go stale', () => {
  const h = assessNode(node('2024-01-01T00:00:50Z'), T);
  assert.equal(h.conditions, undefined);
  assert.equal(h.recheckAfterMs, 30_001);
});

test('stale heartbeat: Ready and pressure conditions become Unknown', () => {
  const h = assessNode(node('2024-01-01T00:00:10Z'), T);
  assert.deepEqual(h.conditions?.map((c) => [c.type, c.status, c.reason]), [
    ['Ready', 'Unknown', 'NodeStatusUnknown'],
    ['MemoryPressure', 'Unknown', 'NodeStatusUnknown'],
  ]);
  assert.equal(h.conditions?.[0].lastHeartbeatTime, '2024-01-01T00:00:10Z', 'heartbeat time is kept');
});

test('already Unknown: no write; never reported: Ready Unknown added after grace', () => {
  assert.deepEqual(assessNode(node('2024-01-01T00:00:10Z', 'Unknown'), T), {});
  const h = assessNode(node(undefined), T);
  assert.equal(h.conditions?.[0].reason, 'NodeStatusNeverUpdated');
});
