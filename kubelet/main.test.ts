import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultNodeIP, defaultRootDir, main, parseDuration } from './main';

test('parseDuration', () => {
  assert.equal(parseDuration('5s'), 5_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('3'), 3_000);
  assert.throws(() => parseDuration('soon'));
});

test('defaultNodeIP skips loopback and container bridges', () => {
  const v4 = (address: string, internal = false) => ({ address, family: 'IPv4' as const, internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: null });
  assert.equal(defaultNodeIP({ lo: [v4('127.0.0.1', true)], docker0: [v4('172.17.0.1')], eth0: [v4('192.168.1.7')] }), '192.168.1.7');
  assert.equal(defaultNodeIP({ lo: [v4('127.0.0.1', true)] }), '127.0.0.1');
});

test('defaultRootDir: under COXSWAIN_HOME when set, else /var/lib/coxswain/kubelet', () => {
  assert.equal(defaultRootDir({ COXSWAIN_HOME: '/home/u/.coxswain' }), '/home/u/.coxswain/kubelet');
  assert.equal(defaultRootDir({}), '/var/lib/coxswain/kubelet');
});

test('GC and shutdown flags: bad values are refused (non-zero exit) with a message naming the flag', async () => {
  const stderr = process.stderr.write.bind(process.stderr);
  let out = '';
  process.stderr.write = ((s: string) => ((out += s), true)) as typeof process.stderr.write;
  try {
    for (const argv of [
      ['--image-gc-high-threshold', '101'],
      ['--image-gc-high-threshold', '70', '--image-gc-low-threshold', '80'],
      ['--maximum-dead-containers', '-2'],
      ['--shutdown-grace-period', 'soon'],
    ]) {
      out = '';
      process.exitCode = 0;
      await main(argv);
      assert.ok(process.exitCode !== 0 && process.exitCode !== undefined, argv.join(' '));
      assert.match(out, new RegExp(argv[argv.length === 4 ? 2 : 0]), out);
    }
  } finally {
    process.stderr.write = stderr;
    process.exitCode = 0;
  }
});
