import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsStore, formatBytes, formatNanoCores, nodeMetrics, podMetrics, scrapeFromStats, usageBetween, type NodeScrape } from './core';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const pod = (name: string, containers: [string, number, number, number][], uid = 'u-' + name): NodeScrape['pods'][number] =>
  ({ namespace: 'default', name, uid, containers: containers.map(([c, time, cpuNanos, memoryBytes]) => ({ name: c, sample: { time, cpuNanos, memoryBytes, startTime: 's' } })) });

test('CPU is the rate of cumulative time over the window; memory the last working set', () => {
  // 0.5 s of CPU in 2 s: half a core
  assert.deepEqual(usageBetween({ time: T0, cpuNanos: 1e9, memoryBytes: 1 }, { time: T0 + 2000, cpuNanos: 1.5e9, memoryBytes: 4096 }),
    { timestamp: T0 + 2000, windowMs: 2000, cpuNanoCores: 250_000_000, memoryBytes: 4096 });
  assert.equal(usageBetween({ time: T0, cpuNanos: 5, memoryBytes: 0 }, { time: T0, cpuNanos: 6, memoryBytes: 0 }), undefined, 'no window');
  assert.equal(usageBetween({ time: T0, cpuNanos: 5, memoryBytes: 0 }, { time: T0 + 1, cpuNanos: 4, memoryBytes: 0 }), undefined, 'counters went back');
  assert.equal(usageBetween({ time: T0, cpuNanos: 5, memoryBytes: 0, startTime: 'a' }, { time: T0 + 1, cpuNanos: 6, memoryBytes: 0, startTime: 'b' }), undefined, 'restarted');
});

test('a pod is listed once every container has two samples; the earliest container gives timestamp and window', () => {
  const s = new MetricsStore();
  s.record('n1', { node: { time: T0, cpuNanos: 0, memoryBytes: 10 }, pods: [pod('web', [['a', T0, 0, 100]])] });
  assert.equal(s.podUsage('default', 'web'), undefined, 'one sample');
  assert.equal(s.nodeUsage('n1'), undefined);
  s.record('n1', { node: { time: T0 + 3000, cpuNanos: 3e9, memoryBytes: 20 }, pods: [pod('web', [['a', T0 + 2000, 2e6, 200], ['b', T0 + 2000, 0, 1]])] });
  assert.equal(s.podUsage('default', 'web'), undefined, 'container b has one sample');
  assert.deepEqual(s.nodeUsage('n1'), { timestamp: T0 + 3000, windowMs: 3000, cpuNanoCores: 1e9, memoryBytes: 20 });
  s.record('n1', { pods: [pod('web', [['a', T0 + 4000, 4e6, 300], ['b', T0 + 3000, 1e6, 2]])] });
  const u = s.podUsage('default', 'web')!;
  assert.equal(u.timestamp, T0 + 3000);
  assert.equal(u.windowMs, 1000);
  assert.deepEqual(u.containers.map((c) => [c.name, c.usage.cpuNanoCores, c.usage.memoryBytes]), [['a', 1_000_000, 300], ['b', 1_000_000, 2]]);
  assert.equal(s.nodeUsage('n1'), undefined, 'a scrape without node figures forgets the node');
  assert.equal(s.podUsage('default', 'web', 'other-uid'), undefined, 'another pod of that name');
});

test('pods gone from a node, recreated with another UID, or on a forgotten node have no usage', () => {
  const s = new MetricsStore();
  s.record('n1', { pods: [pod('a', [['c', T0, 0, 1]]), pod('b', [['c', T0, 0, 1]])] });
  s.record('n1', { pods: [pod('a', [['c', T0 + 1000, 1, 1]]), pod('b', [['c', T0 + 1000, 1, 1]])] });
  assert.ok(s.podUsage('default', 'a'));
  s.record('n1', { pods: [pod('a', [['c', T0 + 2000, 2, 1]], 'new-uid')] });
  assert.equal(s.podUsage('default', 'a'), undefined, 'recreated: one sample of the new pod');
  assert.equal(s.podUsage('default', 'b'), undefined, 'gone');
  s.record('n1', { pods: [pod('a', [['c', T0 + 3000, 3, 1]], 'new-uid')] });
  assert.ok(s.podUsage('default', 'a'));
  assert.deepEqual(s.nodeNames(), ['n1']);
  s.forgetNode('n1');
  assert.equal(s.podUsage('default', 'a'), undefined);
  assert.deepEqual(s.nodeNames(), []);
});

test('quantities and windows are written as metrics-server writes them', () => {
  assert.equal(formatNanoCores(0), '0');
  assert.equal(formatNanoCores(123456.4), '123456n');
  assert.equal(formatNanoCores(2_000_000), '2m');
  assert.equal(formatNanoCores(3000), '3u');
  assert.equal(formatNanoCores(2e9), '2');
  assert.equal(formatBytes(0), '0');
  assert.equal(formatBytes(1536), '1536');
  assert.equal(formatBytes(4096 * 3), '12Ki');
  assert.equal(formatBytes(5 * 1024 * 1024), '5Mi');
});

test('NodeMetrics and PodMetrics objects', () => {
  const now = T0 + 5500;
  assert.deepEqual(nodeMetrics({ name: 'n1', labels: { a: 'b' } }, { timestamp: T0 + 2500, windowMs: 15_000, cpuNanoCores: 123456, memoryBytes: 8192 }, now), {
    kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'n1', creationTimestamp: '2026-12-07T10:00:05Z', labels: { a: 'b' } },
    timestamp: '2026-12-07T10:00:02Z', window: '15s', usage: { cpu: '123456n', memory: '8Ki' },
  });
  const u = { timestamp: T0, windowMs: 2000, containers: [{ name: 'c', usage: { timestamp: T0, windowMs: 2000, cpuNanoCores: 0, memoryBytes: 4096 } }] };
  assert.deepEqual(podMetrics({ name: 'p', namespace: 'ns' }, u, T0), {
    kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'p', namespace: 'ns', creationTimestamp: '2026-12-07T10:00:00Z' },
    timestamp: '2026-12-07T10:00:00Z', window: '2s', containers: [{ name: 'c', usage: { cpu: '0', memory: '4Ki' } }],
  });
});

test('a kubelet Stats answer becomes a scrape; container times come from the runtime, else the pod', () => {
  const s = scrapeFromStats({
    node: { time: '2026-12-07T10:00:00.250Z', cpu: { usage_core_nano_seconds: 7 }, memory: { working_set_bytes: 8 } },
    pods: [
      { pod: { namespace: 'ns', name: 'p', uid: 'u' }, time: '2026-12-07T10:00:01Z', containers: [
        { name: 'a', start_time: '2026-12-07T09:00:00Z', time: '2026-12-07T10:00:00.500Z', cpu: { usage_core_nano_seconds: 1 }, memory: { working_set_bytes: 2 } },
        { name: 'b', cpu: { usage_core_nano_seconds: 3 }, memory: { working_set_bytes: 4 } },
      ] },
      { pod: { namespace: '', name: 'x' } },
    ],
  });
  assert.deepEqual(s, {
    node: { time: T0 + 250, cpuNanos: 7, memoryBytes: 8 },
    pods: [{ namespace: 'ns', name: 'p', uid: 'u', containers: [
      { name: 'a', sample: { time: T0 + 500, cpuNanos: 1, memoryBytes: 2, startTime: '2026-12-07T09:00:00Z' } },
      { name: 'b', sample: { time: T0 + 1000, cpuNanos: 3, memoryBytes: 4, startTime: undefined } },
    ] }],
  });
});
