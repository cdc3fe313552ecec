import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type KubeObject } from '../../lib/client';
import { applyOutcome, targetNamespace } from './apply';
import { parseDuration } from './delete';
import { formatApiError, formatError } from './errors';

const status = (code: number, reason: string, message: string, details?: unknown) => new ApiError(code, reason, message, { kind: 'Status', code, reason, message, details });

test('API errors in kubectl words', () => {
  assert.equal(formatApiError(status(404, 'NotFound', 'pods "nope" not found')), 'Error from server (NotFound): pods "nope" not found');
  assert.equal(
    formatApiError(status(409, 'AlreadyExists', 'x exists'), 'error when applying "f.yaml"'),
    'Error from server (AlreadyExists): error when applying "f.yaml": x exists',
  );
  assert.equal(formatApiError(new ApiError(401, '', 'nope')), 'error: You must be logged in to the server (Unauthorized)');
  assert.equal(formatApiError(new ApiError(404, '', 'GET /x: HTTP 404')), 'Error from server (NotFound): the server could not find the requested resource');
  assert.equal(
    formatApiError(status(422, 'Invalid', 'bad', { kind: 'Pod', name: 'x', causes: [{ field: 'spec.containers[0].image', message: 'Required value' }] })),
    'The Pod "x" is invalid: spec.containers[0].image: Required value',
  );
});

test('connection failures name the server', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
  assert.equal(formatError(refused, 'https://127.0.0.1:6443/'), 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?');
  assert.equal(formatError(new Error('boom')), 'error: boom');
});

test('apply outcome from resourceVersions; namespace rules', () => {
  assert.equal(applyOutcome(undefined, { metadata: { resourceVersion: '5' } }), 'created');
  assert.equal(applyOutcome({ metadata: { resourceVersion: '5' } }, { metadata: { resourceVersion: '5' } }), 'unchanged');
  assert.equal(applyOutcome({ metadata: { resourceVersion: '5', generation: 1 } }, { metadata: { resourceVersion: '6', generation: 2 } }), 'configured');
  const ns = { namespaced: true };
  assert.equal(targetNamespace({ metadata: { name: 'a' } }, ns, 'dev', false), 'dev');
  assert.equal(targetNamespace({ metadata: { name: 'a', namespace: 'prod' } }, ns, 'default', false), 'prod');
  assert.equal(targetNamespace({ metadata: { name: 'a', namespace: 'prod' } }, { namespaced: false }, 'default', true), undefined);
  assert.throws(() => targetNamespace({ metadata: { name: 'a', namespace: 'prod' } }, ns, 'dev', true), /does not match the namespace "dev"/);
});

test('durations', () => {
  assert.equal(parseDuration('0s'), 0);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('7'), 7_000);
  assert.throws(() => parseDuration('soon'), /invalid duration/);
});

test('a rewrite of an identical object is unchanged; a spec change is configured', () => {
  const o = (x: unknown) => x as KubeObject;
  const before = { metadata: { name: 'a', resourceVersion: '5', managedFields: [{ time: 't1' }], labels: { x: '1', y: '2' } }, spec: { replicas: 2 } };
  assert.equal(applyOutcome(o(before), o({ metadata: { labels: { y: '2', x: '1' }, name: 'a', resourceVersion: '6', managedFields: [{ time: 't2' }] }, spec: { replicas: 2 } })), 'unchanged');
  assert.equal(applyOutcome(o(before), o({ ...before, metadata: { ...before.metadata, resourceVersion: '6' }, spec: { replicas: 3 } })), 'configured');
});
