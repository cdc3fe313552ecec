import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import pino from 'pino';
import { BridgePodNetwork, IPAMExhaustedError, PodIPAM, bridgeNameFor, parseCIDR, removeBridge, vethNameFor, whichProgram, type CommandRunner } from './pod-network';

const log = pino({ level: 'silent' });

test('IPAM: skips network, gateway and broadcast; round-robin; exhaustion names the CIDR', () => {
  const ipam = new PodIPAM('10.9.0.0/29'); // .2 .. .6
  const got = [1, 2, 3, 4, 5].map((i) => ipam.allocate(`p${i}`));
  assert.deepEqual(got, ['10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']);
  assert.throws(() => ipam.allocate('p6'), (e: Error) => e instanceof IPAMExhaustedError && /10\.9\.0\.0\/29/.test(e.message));
  ipam.release('10.9.0.3');
  ipam.release('10.9.0.5');
  // The scan resumes after the last address handed out (here it wrapped to the start).
  assert.equal(ipam.allocate('p7'), '10.9.0.3');
  assert.equal(ipam.allocate('p8'), '10.9.0.5');
});

test('IPAM: reconcile keeps live sandboxes, frees dead ones and stale unbound holds, adopts unknown live ones', () => {
  let now = 0;
  const ipam = new PodIPAM('10.9.1.0/24', () => now, 1000);
  const a = ipam.allocate('a');
  ipam.bind(a, 'sb-a');
  const b = ipam.allocate('b');
  ipam.bind(b, 'sb-b');
  const pending = ipam.allocate('c'); // no sandbox yet
  now = 500;
  ipam.reconcile([{ id: 'sb-a', ip: a }, { id: 'sb-x', ip: '10.9.1.77' }, { id: 'sb-y', ip: '192.168.0.1' }]);
  assert.equal(ipam.inUse, 3, 'a, the pending hold and the adopted .77');
  now = 2000;
  ipam.reconcile([{ id: 'sb-a', ip: a }, { id: 'sb-x', ip: '10.9.1.77' }]);
  assert.equal(ipam.inUse, 2, 'the pending hold expired');
  // A sandbox bound while a listing ran (listedAt before its bind) keeps its address though the listing missed it.
  const late = ipam.allocate('late');
  ipam.bind(late, 'sb-late');
  ipam.reconcile([{ id: 'sb-a', ip: a }, { id: 'sb-x', ip: '10.9.1.77' }], 1999);
  assert.equal(ipam.inUse, 3, 'sb-late kept');
  ipam.reconcile([{ id: 'sb-a', ip: a }, { id: 'sb-x', ip: '10.9.1.77' }], 2001);
  assert.equal(ipam.inUse, 2, 'sb-late gone once a listing that began after its bind misses it');
  // b and the pending address are free again; .77 is never handed out while sb-x lives.
  const seen = new Set<string>();
  for (let i = 0; i < 251; i++) seen.add(ipam.allocate(`n${i}`));
  assert.ok(seen.has(b) && seen.has(pending));
  assert.ok(!seen.has(a) && !seen.has('10.9.1.77'));
});

test('IPAM: an adopted sandbox\'s address (a restarted kubelet) is freed once the sandbox is gone', () => {
  let now = 1000;
  const ipam = new PodIPAM('10.9.2.0/29', () => now); // .2 .. .6
  ipam.reconcile([{ id: 'old', ip: '10.9.2.4' }], 900);
  assert.equal(ipam.inUse, 1);
  now = 2000;
  ipam.reconcile([], 1500);
  assert.equal(ipam.inUse, 0);
  assert.deepEqual([1, 2, 3, 4, 5].map((i) => ipam.allocate(`p${i}`)).sort(), ['10.9.2.2', '10.9.2.3', '10.9.2.4', '10.9.2.5', '10.9.2.6']);
});

test('IPAM and CIDRs: bad input is named', () => {
  assert.throws(() => new PodIPAM('10.9.0.0/31'), /no room for pods/);
  assert.throws(() => parseCIDR('10.9.0.300/24'), /"10\.9\.0\.300\/24" is not an IPv4 CIDR/);
  assert.throws(() => parseCIDR('fd00::/64'), /not an IPv4 CIDR/);
  assert.deepEqual(parseCIDR('10.9.3.7/24'), { network: ((10 << 24) | (9 << 16) | (3 << 8)) >>> 0, prefix: 24, size: 256 });
});

test('device names fit Linux\'s 15 characters and are stable', () => {
  assert.equal(bridgeNameFor('coxswain-node-a').length, 15);
  assert.equal(bridgeNameFor('coxswain-node-a'), bridgeNameFor('coxswain-node-a'));
  assert.notEqual(bridgeNameFor('coxswain-node-a'), bridgeNameFor('coxswain-node-b'));
  assert.equal(vethNameFor('0123456789abcdef0123'), 'cxv0123456789ab');
});

/** Records commands; answers `ip -j addr` with `bridges` and iptables -C with "absent". */
function recorder(bridges: unknown[] = []): { calls: string[]; run: CommandRunner } {
  const calls: string[] = [];
  return {
    calls,
    run: async (cmd, args, input) => {
      calls.push([cmd, ...args].join(' ') + (input ? ` <<${input.trim().replace(/\n/g, '; ')}` : ''));
      if (cmd === 'ip' && args[0] === '-j' && args[1] === 'link') return JSON.stringify([{ ifname: args[4], address: '46:7b:26:54:23:79' }]);
      if (cmd === 'ip' && args[0] === '-j') return JSON.stringify(bridges);
      if (cmd === 'iptables' && args.includes('-C')) throw new Error('iptables: Bad rule');
      if (cmd === 'iptables' && args.includes('-S')) return '';
      return '';
    },
  };
}

test('ensure: creates and addresses the bridge, installs forwarding and NAT once, then allocates', async () => {
  const r = recorder();
  const net = new BridgePodNetwork('coxswain-n1', log, { run: r.run });
  assert.throws(() => net.allocate('p'), /not set up yet/);
  await net.ensure('10.244.3.0/24');
  const br = bridgeNameFor('coxswain-n1');
  assert.ok(r.calls.includes(`ip link add ${br} type bridge`));
  assert.ok(r.calls.includes(`ip addr add 10.244.3.1/24 dev ${br}`));
  assert.ok(r.calls.includes(`ip link set ${br} up`));
  // The MAC it was created with is made its own, so pods' ports coming and going never change it.
  assert.ok(r.calls.includes(`ip link set dev ${br} address 46:7b:26:54:23:79`));
  assert.ok(r.calls.indexOf(`ip link set dev ${br} address 46:7b:26:54:23:79`) < r.calls.indexOf(`ip link set ${br} up`));
  assert.ok(r.calls.some((c) => c.startsWith(`iptables -w -t nat -I POSTROUTING 1 -s 10.244.3.0/24 ! -o cxb+`)));
  assert.ok(r.calls.some((c) => c.startsWith(`iptables -w -t filter -I FORWARD 1 -i ${br}`)));
  assert.equal(net.allocate('p'), '10.244.3.2');
});

test('ensure with a cluster CIDR: forwards within it, masquerades only outside it, deletes a stale tagged rule', async () => {
  const br = bridgeNameFor('coxswain-n1');
  const calls: string[] = [];
  const run: CommandRunner = async (cmd, args) => {
    calls.push([cmd, ...args].join(' '));
    if (cmd === 'ip' && args[0] === '-j' && args[1] === 'link') return JSON.stringify([{ ifname: args[4], address: '46:7b:26:54:23:79' }]);
    if (cmd === 'ip' && args[0] === '-j') return '[]';
    if (cmd === 'iptables' && args.includes('-C')) throw new Error('iptables: Bad rule');
    if (cmd === 'iptables' && args.includes('-S') && args.includes('nat')) {
      // The rule of a version without the cluster CIDR, and the current one, as iptables prints them.
      return `-P POSTROUTING ACCEPT\n-A POSTROUTING -s 10.244.3.0/24 ! -o cxb+ -m comment --comment "coxswain:${br}" -j MASQUERADE\n` +
        `-A POSTROUTING -s 10.244.3.0/24 ! -d 10.244.0.0/16 ! -o cxb+ -m comment --comment "coxswain:${br}" -j MASQUERADE\n`;
    }
    return '';
  };
  await new BridgePodNetwork('coxswain-n1', log, { run, clusterCIDR: '10.244.7.7/16' }).ensure('10.244.3.0/24');
  assert.ok(calls.includes(`iptables -w -t nat -I POSTROUTING 1 -s 10.244.3.0/24 ! -d 10.244.0.0/16 ! -o cxb+ -m comment --comment coxswain:${br} -j MASQUERADE`), calls.join('\n'));
  assert.ok(calls.includes(`iptables -w -t filter -I FORWARD 1 -s 10.244.0.0/16 -m comment --comment coxswain:${br} -j ACCEPT`));
  assert.ok(calls.includes(`iptables -w -t filter -I FORWARD 1 -d 10.244.0.0/16 -m comment --comment coxswain:${br} -j ACCEPT`));
  const deleted = calls.filter((c) => c.includes(' -D '));
  assert.deepEqual(deleted, [`iptables -w -t nat -D POSTROUTING -s 10.244.3.0/24 ! -o cxb+ -m comment --comment coxswain:${br} -j MASQUERADE`]);
});

test('ensure: reuses an addressed bridge; refuses a podCIDR held by a foreign interface', async () => {
  const br = bridgeNameFor('coxswain-n1');
  const r = recorder([{ ifname: br, addr_info: [{ family: 'inet', local: '10.244.3.1', prefixlen: 24 }] }]);
  await new BridgePodNetwork('coxswain-n1', log, { run: r.run }).ensure('10.244.3.0/24');
  assert.ok(!r.calls.some((c) => c.startsWith('ip link add') || c.startsWith('ip addr add')), r.calls.join('\n'));
  const foreign = recorder([{ ifname: 'docker0', addr_info: [{ family: 'inet', local: '10.244.3.1', prefixlen: 24 }] }]);
  await assert.rejects(new BridgePodNetwork('coxswain-n1', log, { run: foreign.run }).ensure('10.244.3.0/24'), /podCIDR 10\.244\.3\.0\/24 is already on interface docker0/);
});

test('attach: a veth pair into the sandbox namespace, then address and default route inside it; refuses what is not the sandbox', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'coxswain-podnet-'));
  try {
    const br = bridgeNameFor('coxswain-n1');
    const id = 'abcdef0123456789abcdef';
    await mkdir(path.join(root, 'proc', '4242', 'net'), { recursive: true });
    await writeFile(path.join(root, 'proc', '4242', 'cgroup'), `12:pids:/docker/${id}\n`);
    await mkdir(path.join(root, 'sys', 'class', 'net', br), { recursive: true });
    const r = recorder();
    const net = new BridgePodNetwork('coxswain-n1', log, { run: r.run, procRoot: path.join(root, 'proc'), sysRoot: path.join(root, 'sys') });
    await net.ensure('10.244.3.0/24');
    r.calls.length = 0;
    await net.attach(id, 4242, '10.244.3.9');
    const ip = await whichProgram('ip');
    assert.ok(path.isAbsolute(ip), 'nsenter gets the absolute path of ip');
    assert.deepEqual(r.calls, [
      `ip -batch - <<link add cxvabcdef012345 type veth peer name eth0 netns 4242; link set cxvabcdef012345 master ${br} up`,
      `nsenter --net=/proc/4242/ns/net ${ip} -batch - <<addr add 10.244.3.9/24 dev eth0; link set eth0 up; route add default via 10.244.3.1`,
    ]);
    await assert.rejects(net.attach(id, 0, '10.244.3.9'), /no running process/);
    await assert.rejects(net.attach(id, 4242, '10.244.4.9'), /pod IP "10\.244\.4\.9" .* is not an address of 10\.244\.3\.0\/24/);
    await assert.rejects(net.attach(id, 4242, '10.244.3.9\nnetns exec x sh'), /is not an address/);
    await assert.rejects(net.attach(id, 77, '10.244.3.9'), /process 77 is not sandbox abcdef012345's \(does the kubelet share the host's PID namespace\?\)/);

    // Wired: the host end on this bridge and a default route on eth0 in the namespace.
    assert.equal(await net.isAttached(id, 4242), false);
    await mkdir(path.join(root, 'sys', 'class', 'net', vethNameFor(id)), { recursive: true });
    await symlink(path.join(root, 'sys', 'class', 'net', br), path.join(root, 'sys', 'class', 'net', vethNameFor(id), 'master'));
    await writeFile(path.join(root, 'proc', '4242', 'net', 'route'), 'Iface\tDestination\tGateway\neth0\t0003F40A\t00000000\n');
    assert.equal(await net.isAttached(id, 4242), false, 'no default route yet');
    await writeFile(path.join(root, 'proc', '4242', 'net', 'route'), 'Iface\tDestination\tGateway\neth0\t00000000\t0103F40A\neth0\t0003F40A\t00000000\n');
    assert.equal(await net.isAttached(id, 4242), true);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('removeBridge deletes the device and only the rules tagged with it', async () => {
  const calls: string[] = [];
  const run: CommandRunner = async (cmd, args) => {
    calls.push([cmd, ...args].join(' '));
    if (args.includes('-S') && args.includes('FORWARD')) return '-P FORWARD DROP\n-A FORWARD -i cxbAAA -m comment --comment "coxswain:cxbAAA" -j ACCEPT\n-A FORWARD -i cxbBBB -m comment --comment coxswain:cxbBBB -j ACCEPT\n';
    return '';
  };
  await removeBridge('cxbAAA', run);
  assert.ok(calls.includes('ip link del cxbAAA'));
  assert.ok(calls.includes('iptables -w -t filter -D FORWARD -i cxbAAA -m comment --comment coxswain:cxbAAA -j ACCEPT'));
  assert.ok(!calls.some((c) => c.includes('-D') && c.includes('cxbBBB')));
});
