import assert from 'node:assert/strict';
import test from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1';
import { fallbackPodCIDR, finishedStatus, podAction, PodIPs, runningStatus } from './pod-status';

const T = Date.parse('2026-01-01T00:00:00Z');
const pod = (over: Partial<Pod> = {}): Pod => ({
  metadata: { name: 'p', namespace: 'default', uid: 'u1' },
  spec: { nodeName: 'hollow-0', containers: [{ name: 'app', image: 'busybox:1.36' }] },
  ...over,
});

test('pod IPs: .2 to .254 of the block, lowest free first, released addresses reused', () => {
  const ips = new PodIPs('10.244.3.0/24');
  assert.equal(ips.allocate(), '10.244.3.2');
  assert.equal(ips.allocate(), '10.244.3.3');
  assert.equal(ips.claim('10.244.3.9'), true);
  assert.equal(ips.claim('10.244.4.9'), false);
  ips.release('10.244.3.2');
  assert.equal(ips.allocate(), '10.244.3.2');
  const all: (string | undefined)[] = [];
  for (let i = 0; i < 300; i++) all.push(ips.allocate());
  assert.equal(all.filter(Boolean).length, 253 - 3);
  assert.equal(all.includes('10.244.3.255'), false);
});

test('fallback blocks: one /24 per node index, distinct, outside 10.244.0.0/16', () => {
  assert.equal(fallbackPodCIDR(0), '10.128.0.0/24');
  assert.equal(fallbackPodCIDR(257), '10.129.1.0/24');
  const set = new Set(Array.from({ length: 5000 }, (_, i) => fallbackPodCIDR(i)));
  assert.equal(set.size, 5000);
});

test('what to do with a pod, from its API copy', () => {
  const cases: { name: string; pod: Pod; want: string }[] = [
    { name: 'just bound', pod: pod(), want: 'run' },
    { name: 'running and ready', pod: pod({ status: { phase: 'Running', podIP: '10.1.1.2', conditions: [{ type: 'Ready', status: 'True' }] } }), want: 'none' },
    { name: 'running, not ready (someone else wrote it)', pod: pod({ status: { phase: 'Running', podIP: '10.1.1.2', conditions: [{ type: 'Ready', status: 'False' }] } }), want: 'run' },
    { name: 'being deleted', pod: pod({ metadata: { name: 'p', uid: 'u1', deletionTimestamp: '2026-01-01T00:00:00Z' } }), want: 'finish' },
    { name: 'finished', pod: pod({ status: { phase: 'Succeeded' } }), want: 'none' },
  ];
  for (const c of cases) assert.equal(podAction(c.pod).kind, c.want, c.name);
});

test('running status: Running, Ready, pod IP, a running status per container', () => {
  const s = runningStatus(pod({ status: { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2025-12-31T00:00:00Z' }] } }), '10.128.0.2', '127.1.2.3', T);
  assert.equal(s.phase, 'Running');
  assert.equal(s.podIP, '10.128.0.2');
  assert.deepEqual(s.podIPs, [{ ip: '10.128.0.2' }]);
  assert.equal(s.hostIP, '127.1.2.3');
  assert.equal(s.startTime, '2026-01-01T00:00:00Z');
  assert.deepEqual(s.conditions?.map((c) => `${c.type}=${c.status}`), ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True']);
  assert.equal(s.conditions?.find((c) => c.type === 'PodScheduled')?.lastTransitionTime, '2025-12-31T00:00:00Z');
  assert.deepEqual(s.containerStatuses?.[0], {
    name: 'app', image: 'busybox:1.36', imageID: 'hollow://busybox:1.36', containerID: 'hollow://u1/app', ready: true, started: true, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
  });
  const hostNet = runningStatus(pod({ spec: { hostNetwork: true, containers: [{ name: 'a' }] } }), '10.128.0.2', '127.1.2.3', T);
  assert.equal(hostNet.podIP, '127.1.2.3');
});

test('finished status: containers terminated with 0, Succeeded, not Ready; others\' conditions kept', () => {
  const running = runningStatus(pod(), '10.128.0.2', '127.1.2.3', T - 5000);
  const s = finishedStatus(pod({ status: { ...running, conditions: [...running.conditions!, { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }] } }), T);
  assert.equal(s.phase, 'Succeeded');
  assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
  assert.equal(s.conditions?.find((c) => c.type === 'DisruptionTarget')?.reason, 'PreemptionByScheduler');
  assert.deepEqual(s.containerStatuses?.[0].state, { terminated: { exitCode: 0, reason: 'Completed', startedAt: '2025-12-31T23:59:55Z', finishedAt: '2026-01-01T00:00:00Z', containerID: 'hollow://u1/app' } });
});
