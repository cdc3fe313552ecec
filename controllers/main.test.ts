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

test('--horizontal-pod-autoscaler-* flags: Kubernetes\' defaults, env mirrors, bad values named', () => {
  const names = ['COXSWAIN_HPA_SYNC_PERIOD', 'COXSWAIN_HPA_DOWNSCALE_STABILIZATION', 'COXSWAIN_HPA_CPU_INITIALIZATION_PERIOD'];
  const saved = names.map((n) => process.env[n]);
  for (const n of names) delete process.env[n];
  try {
    assert.deepEqual(parseFlags([]).hpa, { syncPeriodMs: 15_000, downscaleStabilizationMs: 300_000, tolerance: 0.1, cpuInitializationPeriodMs: 300_000, delayOfInitialReadinessStatusMs: 30_000 });
    const o = parseFlags(['--horizontal-pod-autoscaler-sync-period', '2s', '--horizontal-pod-autoscaler-downscale-stabilization', '0s', '--horizontal-pod-autoscaler-tolerance', '0.2']).hpa;
    assert.equal(o?.syncPeriodMs, 2_000);
    assert.equal(o?.downscaleStabilizationMs, 0);
    assert.equal(o?.tolerance, 0.2);
    process.env.COXSWAIN_HPA_SYNC_PERIOD = '3s';
    process.env.COXSWAIN_HPA_DOWNSCALE_STABILIZATION = '15s';
    assert.equal(parseFlags([]).hpa?.syncPeriodMs, 3_000);
    assert.equal(parseFlags([]).hpa?.downscaleStabilizationMs, 15_000);
    assert.throws(() => parseFlags(['--horizontal-pod-autoscaler-sync-period', '0s']), /--horizontal-pod-autoscaler-sync-period: want a duration above 0/);
    assert.throws(() => parseFlags(['--horizontal-pod-autoscaler-tolerance', '-1']), /--horizontal-pod-autoscaler-tolerance: want a ratio of 0 or more, got "-1"/);
    assert.throws(() => parseFlags(['--horizontal-pod-autoscaler-downscale-stabilization', 'later']), /--horizontal-pod-autoscaler-downscale-stabilization: invalid duration/);
  } finally {
    names.forEach((n, i) => {
      if (saved[i] === undefined) delete process.env[n];
      else process.env[n] = saved[i];
    });
  }
});
