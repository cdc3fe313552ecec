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
