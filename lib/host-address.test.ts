import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultRouteAddress, defaultRouteInterface } from './host-address';

const HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT';
const row = (iface: string, dest: string, flags: string, metric: number, mask: string) => `${iface}\t${dest}\t010200C0\t${flags}\t0\t0\t${metric}\t${mask}\t0\t0\t0`;

test('the default route with the lowest metric wins; other routes and down routes do not count', () => {
  const table = [HEADER, row('br0', '0007620A', '0001', 0, '00FFFFFF'), row('wlan0', '00000000', '0003', 600, '00000000'), row('eth0', '00000000', '0003', 100, '00000000'), row('eth9', '00000000', '0002', 0, '00000000')].join('\n');
  assert.equal(defaultRouteInterface(table), 'eth0');
  assert.equal(defaultRouteInterface(HEADER), undefined);
});

test('the address is the IPv4 of that interface; no route or no address says to pass --node-ip', () => {
  const table = [HEADER, row('eth0', '00000000', '0003', 0, '00000000')].join('\n');
  const v4 = { address: '10.99.0.11', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '', cidr: '10.99.0.11/24' } as const;
  const v6 = { address: 'fe80::1', family: 'IPv6', internal: false, netmask: '', mac: '', cidr: null, scopeid: 0 } as const;
  assert.equal(defaultRouteAddress(() => table, () => ({ eth0: [v6, v4] })), '10.99.0.11');
  assert.throws(() => defaultRouteAddress(() => HEADER, () => ({})), /no default route.*--node-ip/);
  assert.throws(() => defaultRouteAddress(() => table, () => ({ eth0: [v6] })), /eth0 has no IPv4.*--node-ip/);
});
