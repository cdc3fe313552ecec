import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import type { ReplicaSet } from 'kubernetes-types/apps/v1';
import { planReplicaSet, rankPodsForDeletion, newPodForReplicaSet, newPodName, computeReplicaSetStatus, nextAvailabilityCheckMs } from './sync';

const rs = (replicas: number, extra: Partial<ReplicaSet['spec']> = {}): ReplicaSet => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'web-abc', namespace: 'default', uid: 'rs-uid', generation: 3 },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' }, annotations: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    ...extra,
  },
});

function pod(name: string, o: { node?: string; phase?: string; ready?: boolean; created?: string; readySince?: string; labels?: Record<string, string> } = {}): Pod {
  return {
    metadata: { name, namespace: 'default', creationTimestamp: o.created ?? '2024-01-01T00:00:00Z', labels: o.labels ?? { app: 'web', 'pod-template-hash': 'abc' } },
    spec: { nodeName: o.node, containers: [] },
    status: {
      phase: o.phase,
      conditions: o.ready === undefined ? [] : [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: o.readySince ?? '2024-01-01T00:00:00Z' }],
    },
  };
}

test('planReplicaSet: create the shortfall, delete the excess, nothing when equal', () => {
  assert.deepEqual(planReplicaSet(rs(3), [pod('a')]), { create: 2, delete: [] });
  assert.deepEqual(planReplicaSet(rs(1), [pod('a')]), { create: 0, delete: [] });
  const p = planReplicaSet(rs(1), [pod('a', { node: 'n', phase: 'Running', ready: true }), pod('b'), pod('c', { node: 'n', phase: 'Running', ready: true })]);
  assert.equal(p.create, 0);
  assert.deepEqual(p.delete.map((x) => x.metadata?.name), ['b', 'a']);
  assert.equal(planReplicaSet(rs(0), []).create, 0);
  assert.equal(planReplicaSet(rs(10000), []).create, 500, 'burst limit');
});

test('rankPodsForDeletion: unscheduled, then pending, then not ready, then newest', () => {
  const pods = [
    pod('old-ready', { node: 'n', phase: 'Running', ready: true, created: '2024-01-01T00:00:00Z' }),
    pod('new-ready', { node: 'n', phase: 'Running', ready: true, created: '2024-01-02T00:00:00Z' }),
    pod('running-notready', { node: 'n', phase: 'Running', ready: false }),
    pod('pending-scheduled', { node: 'n', phase: 'Pending' }),
    pod('unscheduled', { phase: 'Pending' }),
  ];
  assert.deepEqual(
    rankPodsForDeletion(pods).map((p) => p.metadata?.name),
    ['unscheduled', 'pending-scheduled', 'running-notready', 'new-ready', 'old-ready'],
  );
});

test('newPodForReplicaSet copies template labels, annotations, spec and sets a controller ref', () => {
  const name = newPodName('web-abc', () => 0);
  assert.equal(name, 'web-abc-bbbbb');
  assert.match(newPodName('web-abc'), /^web-abc-[a-z0-9]{5}$/);
  const p = newPodForReplicaSet(rs(1), name);
  assert.equal(p.metadata?.name, 'web-abc-bbbbb');
  assert.deepEqual(p.metadata?.labels, { app: 'web', 'pod-template-hash': 'abc' });
  assert.deepEqual(p.metadata?.annotations, { a: 'b' });
  assert.deepEqual(p.metadata?.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }]);
  assert.equal(p.spec?.containers[0].image, 'busybox');
});

test('computeReplicaSetStatus counts ready, available (minReadySeconds) and fully labeled', () => {
  const now = Date.parse('2024-01-01T00:00:05Z');
  const pods = [pod('a', { ready: true }), pod('b', { ready: true, readySince: '2024-01-01T00:00:04Z' }), pod('c', { ready: false, labels: { app: 'web' } })];
  const s = computeReplicaSetStatus(rs(3, { minReadySeconds: 3 }), pods, now);
  assert.deepEqual(s, { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 3 });
  assert.equal(nextAvailabilityCheckMs(rs(3, { minReadySeconds: 3 }), pods, now), 2000);
  assert.equal(nextAvailabilityCheckMs(rs(3), pods, now), undefined);
});
