import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preconditionError, scaleArgs } from './scale';
import { rfc3339, rolloutChange } from './rollout';

test('scale flags as kubectl checks them', () => {
  assert.throws(() => scaleArgs({}), /^Error: required flag\(s\) "replicas" not set$/);
  assert.throws(() => scaleArgs({ replicas: '-1' }), /The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0/);
  assert.throws(() => scaleArgs({ replicas: '1', currentReplicas: '-2' }), /The --current-replicas must specify an integer of -1 or greater/);
  assert.deepEqual(scaleArgs({ replicas: '3' }), { replicas: 3, current: -1 });
});

test('scale preconditions', () => {
  assert.equal(preconditionError({ spec: { replicas: 3 } }, 5), 'Expected replicas to be 5, was 3');
  assert.equal(preconditionError({ spec: { replicas: 3 } }, 3), undefined);
  assert.equal(preconditionError({ spec: { replicas: 3 }, metadata: { resourceVersion: '7' } }, -1, '6'), 'Expected resource version to be 6, was 7');
});

test('rollout restart, pause and resume: the patch or the refusal', () => {
  const t = (group: string, kind: string, spec: object = {}) => ({ info: { group, kind }, object: { apiVersion: 'apps/v1', spec } });
  const now = new Date(Date.UTC(2026, 11, 7, 9, 30, 0));
  const restart = rolloutChange('restart', t('apps', 'Deployment'), now).patch as { spec: { template: { metadata: { annotations: Record<string, string> } } } };
  assert.equal(restart.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'], rfc3339(now));
  assert.equal(rolloutChange('restart', t('apps', 'Deployment', { paused: true }), now).error, "can't restart paused deployment (run rollout resume first)");
  assert.equal(rolloutChange('restart', t('', 'Pod'), now).error, 'restarting is not supported');
  assert.deepEqual(rolloutChange('pause', t('apps', 'Deployment'), now), { patch: { spec: { paused: true } } });
  assert.equal(rolloutChange('pause', t('apps', 'Deployment', { paused: true }), now).error, 'is already paused');
  assert.equal(rolloutChange('resume', t('apps', 'Deployment'), now).error, 'is not paused');
  assert.equal(rolloutChange('pause', t('apps', 'StatefulSet'), now).error, 'pausing is not supported');
});

test("restartedAt is Go's RFC 3339 in local time", () => {
  assert.match(rfc3339(new Date()), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  if (new Date().getTimezoneOffset() === 0) assert.equal(rfc3339(new Date(Date.UTC(2026, 0, 2, 3, 4, 5))), '2026-01-02T03:04:05Z');
});
