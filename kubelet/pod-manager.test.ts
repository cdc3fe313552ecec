import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { specChanged } from './pod-manager';

const pod: Pod = {
  metadata: { name: 'p', namespace: 'default', uid: 'u1', resourceVersion: '5', labels: { app: 'a' } },
  spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] },
  status: { phase: 'Pending' },
};

test('a status-only update (the kubelet\'s own write coming back) needs no sync; spec and metadata changes do', () => {
  assert.equal(specChanged(pod, { ...pod, metadata: { ...pod.metadata, resourceVersion: '6' }, status: { phase: 'Running', podIP: '10.0.0.2' } }), false);
  assert.equal(specChanged(pod, { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 30 } }), true);
  assert.equal(specChanged(pod, { ...pod, metadata: { ...pod.metadata, labels: { app: 'b' } } }), true, 'labels feed downward API volumes');
  assert.equal(specChanged(pod, { ...pod, metadata: { ...pod.metadata, annotations: { x: 'y' } } }), true);
  assert.equal(specChanged(pod, { ...pod, spec: { ...pod.spec!, activeDeadlineSeconds: 5 } }), true);
});
