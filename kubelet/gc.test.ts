import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containersToEvict, planImageGC, validateImageGCPolicy, type ImageRecord } from './gc';
import type { RuntimeContainer } from './runtime';

const T0 = Date.parse('2025-01-01T00:00:00Z');
let seq = 0;
function ctr(uid: string, name: string, restartCount: number, state: RuntimeContainer['state'] = 'exited', ageMs = 60_000): RuntimeContainer {
  seq++;
  return {
    id: `${uid}-${name}-${restartCount}-${seq}`,
    name: `k8s_${name}_p_default_${uid}_${restartCount}`,
    podUid: uid,
    podName: 'p',
    podNamespace: 'default',
    containerName: name,
    restartCount,
    hash: '',
    image: 'busybox:1.36',
    imageId: 'sha256:b',
    state,
    createdAt: new Date(T0 - ageMs + restartCount * 1000).toISOString(),
  };
}
const live = (uids: string[]) => (uid: string) => uids.includes(uid);

test('container GC: one dead instance per container; the newest instance and sandbox of a live pod always stay', () => {
  const a = [ctr('u1', 'a', 0), ctr('u1', 'a', 1), ctr('u1', 'a', 2), ctr('u1', 'a', 3)];
  const sandboxes = [ctr('u1', 'POD', 0), ctr('u1', 'POD', 1)];
  const out = containersToEvict([...a, ...sandboxes], live(['u1']), { minAgeMs: 0, maxPerPodContainer: 1, maxContainers: -1 }, T0);
  // a3 (newest, dead) is the one kept dead instance; the older sandbox exceeds the limit too.
  assert.deepEqual(new Set(out), new Set([a[0].id, a[1].id, a[2].id, sandboxes[0].id]));
  const running = [ctr('u1', 'a', 0), ctr('u1', 'a', 1), ctr('u1', 'a', 2, 'running')];
  assert.deepEqual(containersToEvict(running, live(['u1']), { minAgeMs: 0, maxPerPodContainer: 1, maxContainers: -1 }, T0), [running[0].id]);
  assert.deepEqual(containersToEvict(running, live(['u1']), { minAgeMs: 0, maxPerPodContainer: -1, maxContainers: -1 }, T0), []);
});

test('container GC: all dead containers of pods that are gone; none younger than the minimum age', () => {
  const gone = [ctr('u2', 'a', 0), ctr('u2', 'POD', 0), ctr('u2', 'b', 0, 'running')];
  assert.deepEqual(new Set(containersToEvict(gone, live([]), { minAgeMs: 0, maxPerPodContainer: 1, maxContainers: -1 }, T0)), new Set([gone[0].id, gone[1].id]));
  const young = [ctr('u1', 'a', 0, 'exited', 5_000), ctr('u1', 'a', 1, 'exited', 5_000), ctr('u1', 'a', 2, 'exited', 5_000)];
  assert.deepEqual(containersToEvict(young, live(['u1']), { minAgeMs: 60_000, maxPerPodContainer: 1, maxContainers: -1 }, T0), []);
});

test('container GC: the node-wide limit takes the oldest first but never a live pod\'s newest instance', () => {
  const p1 = [ctr('u1', 'a', 0, 'exited', 300_000), ctr('u1', 'a', 1, 'exited', 300_000), ctr('u1', 'a', 2, 'exited', 300_000)];
  const p2 = [ctr('u2', 'a', 0, 'exited', 100_000), ctr('u2', 'a', 1, 'exited', 100_000)];
  const out = containersToEvict([...p1, ...p2], live(['u1', 'u2']), { minAgeMs: 0, maxPerPodContainer: 5, maxContainers: 2 }, T0);
  assert.deepEqual(new Set(out), new Set([p1[0].id, p1[1].id, p2[0].id]));
});

test('image GC plan: nothing under the high threshold; above it, least recently used unused images down to the low threshold', () => {
  const GB = 1e9;
  const images = [
    { id: 'old', tags: ['x:1'], sizeBytes: 7 * GB },
    { id: 'newer', tags: ['x:2'], sizeBytes: 3 * GB },
    { id: 'used', tags: ['x:3'], sizeBytes: 50 * GB },
    { id: 'pause', tags: ['pause:3.10'], sizeBytes: GB },
    { id: 'young', tags: ['x:4'], sizeBytes: 50 * GB },
    { id: 'foreign', tags: ['mine:1'], sizeBytes: 50 * GB },
  ];
  const records = new Map<string, ImageRecord>([
    ['old', { firstDetected: T0 - 3_600_000, lastUsed: T0 - 3_000_000 }],
    ['newer', { firstDetected: T0 - 3_600_000, lastUsed: T0 - 1_000_000 }],
    ['used', { firstDetected: T0 - 3_600_000, lastUsed: T0 }],
    ['pause', { firstDetected: T0 - 3_600_000, lastUsed: T0 - 3_500_000 }],
    ['young', { firstDetected: T0 - 10_000, lastUsed: T0 - 10_000 }],
  ]);
  const policy = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 120_000 };
  const inUse = new Set(['used']);
  const pinned = new Set(['pause']);
  const calm = planImageGC(images, records, inUse, pinned, { capacityBytes: 100 * GB, availableBytes: 20 * GB }, policy, T0);
  assert.deepEqual(calm, { usagePercent: 80, amountToFree: 0, toRemove: [], freeable: 0 });
  // 88% used: free 8 GB → the least recently used (7 GB) is not enough, the next one too.
  const full = planImageGC(images, records, inUse, pinned, { capacityBytes: 100 * GB, availableBytes: 12 * GB }, policy, T0);
  assert.equal(full.amountToFree, 8 * GB);
  assert.deepEqual(full.toRemove, ['old', 'newer']);
  // 86% used: free 6 GB → the least recently used image is enough.
  const some = planImageGC(images, records, inUse, pinned, { capacityBytes: 100 * GB, availableBytes: 14 * GB }, policy, T0);
  assert.deepEqual(some.toRemove, ['old']);
});

test('image GC policy validation names the flag', () => {
  assert.throws(() => validateImageGCPolicy({ highThresholdPercent: 101, lowThresholdPercent: 80, minAgeMs: 0 }), /--image-gc-high-threshold/);
  assert.throws(() => validateImageGCPolicy({ highThresholdPercent: 50, lowThresholdPercent: 80, minAgeMs: 0 }), /--image-gc-low-threshold/);
  validateImageGCPolicy({ highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 0 });
});
