import test from 'node:test';
import assert from 'node:assert/strict';
import type os from 'node:os';
import { ingressAddresses } from './addresses';

const v4 = (address: string): os.NetworkInterfaceInfo => ({ address, family: 'IPv4', netmask: '255.255.255.255', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/32` });
const v6 = (address: string): os.NetworkInterfaceInfo => ({ address, family: 'IPv6', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/128`, scopeid: 0 });

const host = {
  lo: [v4('127.0.0.1'), v6('::1')],
  'lo:coxswain': [v4('10.96.0.1'), v4('10.96.0.10')],
  eth0: [v4('192.168.1.5'), v6('fe80::1')],
  cxb0: [v4('10.244.0.1')],
};

test('0.0.0.0 is every IPv4 node address, loopback included, but not the addresses the proxy put on lo (ClusterIPs)', () => {
  assert.deepEqual(ingressAddresses(['0.0.0.0'], host), ['10.244.0.1', '127.0.0.1', '192.168.1.5']);
});

test('explicit addresses are kept as given, with a wildcard beside them expanded', () => {
  assert.deepEqual(ingressAddresses(['127.0.0.1'], host), ['127.0.0.1']);
  assert.deepEqual(ingressAddresses(['192.168.1.5', '0.0.0.0'], host), ['10.244.0.1', '127.0.0.1', '192.168.1.5']);
  assert.deepEqual(ingressAddresses([], host), []);
});
