import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addFlags, defaultNodeIP, defaultRootDir, kubeletFlags } from './flags';
import { main, parseFlags } from './main';

test('every flag in the table has help and a group; every flag that takes a value has a parser that accepts its default', () => {
  const table = kubeletFlags();
  assert.equal(new Set(table.map((f) => f.name)).size, table.length, 'no flag declared twice');
  for (const f of table) {
    assert.ok(f.help.length > 10, `--${f.name} has help`);
    assert.ok(f.group, `--${f.name} has a group`);
    if ('switch' in f) continue;
    assert.equal(typeof f.parse, 'function', `--${f.name} has a parser`);
    if (f.default !== undefined) assert.deepEqual(f.parse(f.defaultText ?? String(f.default)), f.default, `--${f.name}'s default reads back`);
  }
  const help = addFlags(new Command('kubelet'), table).helpInformation();
  for (const f of table) assert.ok(help.includes(`--${f.name}`), `--${f.name} in --help`);
});

test('flags: the defaults, durations as Go durations or bare seconds, --no-tmpfs-volumes', () => {
  const d = parseFlags([])!;
  assert.equal(d.syncFrequency, 5_000);
  assert.equal(d.heartbeatFrequency, undefined);
  assert.equal(d.nodeStatusUpdateFrequency, 10_000);
  assert.equal(d.nodeLeaseRenewInterval, 2_000);
  assert.equal(d.nodeLeaseDurationSeconds, 8);
  assert.equal(d.imageGcPeriod, 300_000);
  assert.equal(d.maximumDeadContainers, -1);
  assert.equal(d.port, 10250);
  assert.equal(d.healthzPort, 10248);
  assert.equal(d.tmpfsVolumes, true);
  assert.equal(d.seccompDefault, false);
  assert.equal(d.tlsCertFile, undefined);
  const o = parseFlags(['--sync-frequency', '500ms', '--heartbeat-frequency', '3', '--no-tmpfs-volumes', '--seccomp-default', '--max-pods', '20'])!;
  assert.equal(o.syncFrequency, 500);
  assert.equal(o.heartbeatFrequency, 3_000);
  assert.equal(o.tmpfsVolumes, false);
  assert.equal(o.seccompDefault, true);
  assert.equal(o.maxPods, 20);
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
