import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayOf, inCIDR, kiQuantity, buildNodeStatus, goArch } from './node-status';

test('node status: capacity, conditions, addresses, nodeInfo', () => {
  const facts = { name: 'n1', ip: '192.168.0.2', hostname: 'host1', cpus: 4, memoryBytes: 24 * 1024 ** 3, storageBytes: 100 * 1024 ** 3, maxPods: 110, runtimeVersion: 'docker://20.10.24', osImage: 'Debian', kernelVersion: '6.1', arch: 'x64' };
  const T = Date.parse('2025-01-01T00:00:00Z');
  const s = buildNodeStatus(facts, T);
  assert.deepEqual(s.capacity, { cpu: '4', memory: '25165824Ki', pods: '110', 'ephemeral-storage': '104857600Ki' });
  assert.deepEqual(s.allocatable, s.capacity);
  assert.deepEqual(s.addresses, [{ type: 'InternalIP', address: '192.168.0.2' }, { type: 'Hostname', address: 'host1' }]);
  assert.equal(s.nodeInfo?.kubeletVersion, 'v1.32.0-coxswain');
  assert.equal(s.nodeInfo?.architecture, 'amd64');
  assert.equal(s.nodeInfo?.containerRuntimeVersion, 'docker://20.10.24');
  const ready = s.conditions!.find((c) => c.type === 'Ready')!;
  assert.equal(ready.status, 'True');
  assert.equal(ready.reason, 'KubeletReady');
  for (const t of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) assert.equal(s.conditions!.find((c) => c.type === t)!.status, 'False');
  const later = buildNodeStatus(facts, T + 10_000, s);
  assert.equal(later.conditions![0].lastTransitionTime, '2025-01-01T00:00:00Z');
  assert.equal(later.conditions![0].lastHeartbeatTime, '2025-01-01T00:00:10Z');
  assert.equal(kiQuantity(2048), '2Ki');
  assert.equal(goArch('arm64'), 'arm64');
});

test('CIDR helpers', () => {
  assert.equal(gatewayOf('10.244.3.0/24'), '10.244.3.1');
  assert.equal(gatewayOf('10.250.7.128/25'), '10.250.7.129');
  assert.ok(inCIDR('10.244.3.77', '10.244.3.0/24'));
  assert.ok(!inCIDR('10.244.4.1', '10.244.3.0/24'));
});

test('node status: an extra condition (NetworkUnavailable) comes first and keeps its transition time while unchanged', () => {
  const facts = { name: 'n1', ip: '10.0.0.1', hostname: 'n1', cpus: 1, memoryBytes: 1024, storageBytes: 0, maxPods: 10, runtimeVersion: 'docker://x', osImage: 'x', kernelVersion: 'x', arch: 'x64' };
  const T = Date.parse('2025-01-01T00:00:00Z');
  const down = { type: 'NetworkUnavailable', status: 'True' as const, reason: 'NoRouteCreated', message: 'no route to node n2' };
  const s1 = buildNodeStatus(facts, T, undefined, undefined, [down]);
  assert.deepEqual(s1.conditions!.map((c) => c.type), ['NetworkUnavailable', 'MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready']);
  const s2 = buildNodeStatus(facts, T + 5_000, s1, undefined, [{ ...down, message: 'no route to node n3' }]);
  assert.equal(s2.conditions![0].lastTransitionTime, '2025-01-01T00:00:00Z');
  const s3 = buildNodeStatus(facts, T + 9_000, s2, undefined, [{ ...down, status: 'False', reason: 'RouteCreated' }]);
  assert.equal(s3.conditions![0].lastTransitionTime, '2025-01-01T00:00:09Z');
  assert.equal(s3.conditions![0].reason, 'RouteCreated');
});
