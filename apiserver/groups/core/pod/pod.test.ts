import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration } from '../../../../lib/duration';
import { toTable } from '../../../tables';
import { podQOSClass } from './pod';
import { validatePod } from './validation';

test('tables: pod status column and human durations', () => {
  const now = new Date('2024-01-01T01:00:00Z');
  const pod = {
    metadata: { name: 'p', creationTimestamp: '2024-01-01T00:55:30Z' },
    spec: { containers: [{ name: 'a' }, { name: 'b' }], nodeName: 'n1' },
    status: { phase: 'Running', podIP: '10.244.1.5', containerStatuses: [{ name: 'a', ready: true, restartCount: 0, state: { running: {} } }, { name: 'b', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
  };
  const t = toTable('pods', [pod], { now, resourceVersion: '7' });
  assert.deepEqual(t.rows[0].cells, ['p', '1/2', 'CrashLoopBackOff', '2', '4m30s', '10.244.1.5', 'n1', '<none>', '<none>']);
  assert.equal(t.metadata.resourceVersion, '7');
  assert.deepEqual([humanDuration(5_000), humanDuration(150_000), humanDuration(3 * 3600_000 + 60_000), humanDuration(3 * 86400_000)], ['5s', '2m30s', '3h1m', '3d']);
});

test('pod updates: only images, a lower activeDeadlineSeconds and added tolerations (Kubernetes\' ValidatePodUpdate)', () => {
  const fields = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);
  const spec = { containers: [{ name: 'c', image: 'a:1', command: ['sleep'] }], tolerations: [{ key: 'k', operator: 'Exists' }], activeDeadlineSeconds: 100 };
  const pod = (s: object) => ({ spec: { ...spec, ...s } });
  assert.deepEqual(validatePod(pod({ containers: [{ name: 'c', image: 'a:2', command: ['sleep'] }], activeDeadlineSeconds: 50, tolerations: [...spec.tolerations, { key: 'x', operator: 'Exists' }] }), pod({})), []);
  assert.deepEqual(fields(validatePod(pod({ containers: [{ name: 'c', image: 'a:1', command: ['true'] }] }), pod({}))).map((f) => f.slice(0, 61)), ['spec: Forbidden: pod updates may not change fields other than']);
  assert.deepEqual(fields(validatePod(pod({ activeDeadlineSeconds: 200 }), pod({}))), ['spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value']);
  assert.deepEqual(fields(validatePod(pod({ tolerations: [] }), pod({}))), ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds']);
});

test('pods: qosClass like Kubernetes', () => {
  assert.equal(podQOSClass({ containers: [{ name: 'a' }] }), 'BestEffort');
  assert.equal(podQOSClass({ containers: [{ resources: { requests: { cpu: '100m' } } }] }), 'Burstable');
  assert.equal(podQOSClass({ containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1000m', memory: '1Gi' } } }] }), 'Guaranteed');
  assert.equal(podQOSClass({ containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' } } }, { name: 'b' }] }), 'Burstable');
});
