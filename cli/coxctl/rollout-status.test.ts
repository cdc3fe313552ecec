import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rolloutStatus } from './rollout-status';

const dep = (spec: object, status: object, generation = 2, annotations?: Record<string, string>) => ({ metadata: { name: 'web', generation, annotations }, spec, status });

test('deployment: each stage in kubectl words', () => {
  const s = (st: object, gen = 2) => rolloutStatus('apps', 'Deployment', dep({ replicas: 3 }, st, gen));
  assert.equal(s({ observedGeneration: 1 }).message, 'Waiting for deployment spec update to be observed...\n');
  assert.equal(s({ observedGeneration: 2, updatedReplicas: 1, replicas: 3 }).message, 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...\n');
  assert.equal(s({ observedGeneration: 2, updatedReplicas: 3, replicas: 4 }).message, 'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...\n');
  assert.equal(s({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 1 }).message, 'Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...\n');
  const done = s({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 });
  assert.deepEqual(done, { message: 'deployment "web" successfully rolled out\n', done: true });
  const stuck = s({ observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] });
  assert.equal(stuck.error, 'deployment "web" exceeded its progress deadline');
});

test('deployment: a pinned revision must be the running one', () => {
  const d = dep({ replicas: 1 }, { observedGeneration: 2 }, 2, { 'deployment.kubernetes.io/revision': '3' });
  assert.equal(rolloutStatus('apps', 'Deployment', d, 2).error, 'desired revision (2) is different from the running revision (3)');
});

test('daemon set and stateful set', () => {
  const ds = { metadata: { name: 'agent', generation: 1 }, spec: {}, status: { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 1 } };
  assert.equal(rolloutStatus('apps', 'DaemonSet', ds).message, 'Waiting for daemon set "agent" rollout to finish: 1 of 2 updated pods are available...\n');
  assert.equal(rolloutStatus('apps', 'DaemonSet', { ...ds, spec: { updateStrategy: { type: 'OnDelete' } } }).error, 'rollout status is only available for RollingUpdate strategy type');
  const sts = (status: object, spec: object = { replicas: 2 }) => rolloutStatus('apps', 'StatefulSet', { metadata: { name: 'db', generation: 1 }, spec, status });
  assert.equal(sts({}).message, 'Waiting for statefulset spec update to be observed...\n');
  assert.equal(sts({ observedGeneration: 1, readyReplicas: 1 }).message, 'Waiting for 1 pods to be ready...\n');
  assert.deepEqual(sts({ observedGeneration: 1, readyReplicas: 2, currentReplicas: 2, updateRevision: 'db-1', currentRevision: 'db-1' }), {
    message: 'statefulset rolling update complete 2 pods at revision db-1...\n',
    done: true,
  });
  assert.equal(
    sts({ observedGeneration: 1, readyReplicas: 2, updatedReplicas: 0 }, { replicas: 2, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }).message,
    'Waiting for partitioned roll out to finish: 0 out of 1 new pods have been updated...\n',
  );
  assert.equal(rolloutStatus('', 'Pod', {}).error, 'no status viewer has been implemented for Pod');
});
