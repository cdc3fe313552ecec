import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LEASE_LABEL, liveAddresses } from './endpoint-reconciler';

const lease = (ip: string, renewTime: string, seconds = 15) => ({ metadata: { labels: { [LEASE_LABEL]: ip } }, spec: { renewTime, leaseDurationSeconds: seconds } });
const NOW = Date.parse('2026-01-01T00:00:20Z');

test('live apiservers: unexpired leases and always this one; an expired or unlabelled lease does not count', () => {
  const leases = [lease('10.0.0.12', '2026-01-01T00:00:10.000000Z'), lease('10.0.0.13', '2026-01-01T00:00:01.000000Z'), { metadata: {}, spec: { renewTime: '2026-01-01T00:00:19Z', leaseDurationSeconds: 15 } }];
  assert.deepEqual(liveAddresses(leases, NOW, '10.0.0.11'), ['10.0.0.11', '10.0.0.12']);
  assert.deepEqual(liveAddresses([], NOW, '10.0.0.11'), ['10.0.0.11']);
});
