import assert from 'node:assert/strict';
import test from 'node:test';
import { HOLLOW_ANNOTATION, hollowNode, hollowNodeIP, hollowNodeName } from './node';

const opts = { labels: { 'topology.kubernetes.io/zone': 'a' }, zones: [] as string[], taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }], cpu: '4', memory: '16Gi', pods: '110' };

test('names are <prefix><index> from 0', () => {
  assert.deepEqual([0, 1, 10].map((i) => hollowNodeName('zone-a-', i)), ['zone-a-0', 'zone-a-1', 'zone-a-10']);
});

test('a hollow node carries the kubelet labels, --labels, taints, capacity = allocatable and Ready', () => {
  const n = hollowNode('zone-a-0', 0, opts, 'amd64', Date.parse('2026-01-01T00:00:00Z'));
  assert.equal(n.metadata?.labels?.['kubernetes.io/hostname'], 'zone-a-0');
  assert.equal(n.metadata?.labels?.['kubernetes.io/os'], 'linux');
  assert.equal(n.metadata?.labels?.['kubernetes.io/arch'], 'amd64');
  assert.equal(n.metadata?.labels?.['topology.kubernetes.io/zone'], 'a');
  assert.equal(n.metadata?.annotations?.[HOLLOW_ANNOTATION], 'true');
  assert.deepEqual(n.spec?.taints, [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }]);
  assert.deepEqual(n.status?.capacity, { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' });
  assert.deepEqual(n.status?.allocatable, n.status?.capacity);
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'True');
  assert.equal(ready?.lastHeartbeatTime, '2026-01-01T00:00:00Z');
  assert.deepEqual(n.status?.addresses?.[0], { type: 'InternalIP', address: hollowNodeIP('zone-a-0') });
});

test('--zones spreads nodes over the zones by index', () => {
  const spread = { ...opts, labels: { disk: 'ssd' }, zones: ['moon-1', 'moon-2', 'moon-3'] };
  const zones = [0, 1, 2, 3, 4].map((i) => hollowNode(`n-${i}`, i, spread, 'amd64', 0).metadata?.labels?.['topology.kubernetes.io/zone']);
  assert.deepEqual(zones, ['moon-1', 'moon-2', 'moon-3', 'moon-1', 'moon-2']);
  assert.equal(hollowNode('n-0', 0, spread, 'amd64', 0).metadata?.labels?.disk, 'ssd');
});

test('node IPs are loopback addresses outside 127.0.x.x, stable per name, distinct for neighbours', () => {
  const ips = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const ip = hollowNodeIP(`hollow-${i}`);
    assert.match(ip, /^127\.\d+\.\d+\.\d+$/);
    assert.ok(!ip.startsWith('127.0.'), ip);
    ips.add(ip);
  }
  assert.equal(hollowNodeIP('hollow-7'), hollowNodeIP('hollow-7'));
  assert.ok(ips.size > 990, `only ${ips.size} distinct addresses of 1000`);
});
