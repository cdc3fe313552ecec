import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuNanosFromProcStat, memoryFromMeminfo } from './node-stats';

test('node CPU is the non-idle ticks of the aggregate cpu line, in nanoseconds', () => {
  const stat = 'cpu  100 5 50 9000 40 2 3 1 0 0\ncpu0 50 2 25 4500 20 1 1 0 0 0\nintr 1 2 3\n';
  // user+nice+system+irq+softirq+steal = 100+5+50+2+3+1 = 161 ticks of 10 ms
  assert.equal(cpuNanosFromProcStat(stat), 161 * 10_000_000);
  assert.equal(cpuNanosFromProcStat('intr 1\n'), undefined);
  assert.equal(cpuNanosFromProcStat('cpu  a b c d\n'), undefined);
});

test('node working set is MemTotal - MemFree - Inactive(file)', () => {
  const meminfo = 'MemTotal:       1000 kB\nMemFree:         300 kB\nMemAvailable:    600 kB\nInactive(file):  200 kB\n';
  assert.deepEqual(memoryFromMeminfo(meminfo), { usage_bytes: 700 * 1024, working_set_bytes: 500 * 1024, limit_bytes: 1000 * 1024 });
  assert.equal(memoryFromMeminfo('MemFree: 3 kB\n'), undefined);
});
