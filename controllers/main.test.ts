import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from './main';

test('node health flags: Coxswain defaults, Go durations, refused when not above 0', () => {
  const d = parseFlags([]);
  assert.equal(d.nodeMonitorGracePeriodMs, 8_000);
  assert.equal(d.nodeMonitorPeriodMs, 1_000);
  const o = parseFlags(['--node-monitor-grace-period', '40s', '--node-monitor-period', '500ms']);
  assert.equal(o.nodeMonitorGracePeriodMs, 40_000);
  assert.equal(o.nodeMonitorPeriodMs, 500);
  assert.throws(() => parseFlags(['--node-monitor-period', '0s']), /--node-monitor-period: want a duration above 0/);
  assert.throws(() => parseFlags(['--node-monitor-grace-period', 'soon']), /--node-monitor-grace-period: invalid duration/);
});

test('--lb-address-pool: passed through as given, also from COXSWAIN_LB_ADDRESS_POOL; none by default', () => {
  const saved = process.env.COXSWAIN_LB_ADDRESS_POOL;
  delete process.env.COXSWAIN_LB_ADDRESS_POOL;
  try {
    assert.equal(parseFlags([]).lbAddressPool, undefined);
    assert.equal(parseFlags(['--lb-address-pool', '192.168.50.0/28']).lbAddressPool, '192.168.50.0/28');
    process.env.COXSWAIN_LB_ADDRESS_POOL = '10.0.0.1-10.0.0.9';
    assert.equal(parseFlags([]).lbAddressPool, '10.0.0.1-10.0.0.9');
  } finally {
    if (saved === undefined) delete process.env.COXSWAIN_LB_ADDRESS_POOL;
    else process.env.COXSWAIN_LB_ADDRESS_POOL = saved;
  }
});
