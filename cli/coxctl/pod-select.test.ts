import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { byActive, byLogging, defaultContainer, podSelectorOf, selectorString, splitTypeName } from './pod-select';

const T0 = '2026-12-07T09:00:00Z';
const T1 = '2026-12-07T09:01:00Z';

function pod(name: string, o: { node?: string; phase?: string; ready?: string; restarts?: number; created?: string; deleting?: string } = {}): Pod {
  return {
    metadata: { name, creationTimestamp: o.created ?? T0, deletionTimestamp: o.deleting },
    spec: { nodeName: o.node ?? 'n1', containers: [{ name: 'c' }] },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: o.ready }] : [{ type: 'Ready', status: 'False' }],
      containerStatuses: [{ name: 'c', restartCount: o.restarts ?? 0, ready: !!o.ready, image: '', imageID: '' }],
    },
  } as Pod;
}

const first = (pods: Pod[], cmp: (a: Pod, b: Pod) => number) => [...pods].sort(cmp).map((p) => p.metadata!.name);

test('logs pick: assigned, Running, ready, ready longest, most restarts, oldest', () => {
  assert.deepEqual(first([pod('unassigned', { node: '' }), pod('assigned')], byLogging), ['assigned', 'unassigned']);
  assert.deepEqual(first([pod('pending', { phase: 'Pending' }), pod('unknown', { phase: 'Unknown' }), pod('running')], byLogging), ['running', 'unknown', 'pending']);
  assert.deepEqual(first([pod('notready'), pod('ready', { ready: T1 })], byLogging), ['ready', 'notready']);
  assert.deepEqual(first([pod('later', { ready: T1 }), pod('earlier', { ready: T0 })], byLogging), ['earlier', 'later']);
  // for logs, the pod that restarts most is the interesting one
  assert.deepEqual(first([pod('calm'), pod('crashy', { restarts: 3 })], byLogging), ['crashy', 'calm']);
  assert.deepEqual(first([pod('young', { created: T1 }), pod('old', { created: T0 })], byLogging), ['old', 'young']);
});

test('exec/port-forward pick: ActivePods reversed, deleting pods last', () => {
  assert.deepEqual(first([pod('pending', { phase: 'Pending' }), pod('running')], byActive), ['running', 'pending']);
  assert.deepEqual(first([pod('going', { ready: T0, deleting: T1 }), pod('staying', { ready: T0 })], byActive), ['staying', 'going']);
  assert.deepEqual(first([pod('later', { ready: T1 }), pod('earlier', { ready: T0 })], byActive), ['earlier', 'later']);
  assert.deepEqual(first([pod('crashy', { restarts: 3 }), pod('calm')], byActive), ['calm', 'crashy']);
  assert.deepEqual(first([pod('young', { created: T1 }), pod('old', { created: T0 })], byActive), ['old', 'young']);
  assert.deepEqual(first([pod('unassigned', { node: '' }), pod('assigned')], byActive), ['assigned', 'unassigned']);
});

test('selectors: sorted by key, set operators, Services as plain maps', () => {
  assert.equal(
    selectorString({ matchLabels: { tier: 'web', app: 'x' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }, { key: 'zz', operator: 'DoesNotExist' }] }),
    'app=x,env in (dev,prod),tier=web,!zz',
  );
  assert.equal(podSelectorOf({ kind: 'Service', metadata: { name: 's' }, spec: { selector: { app: 'web' } } }), 'app=web');
  assert.equal(podSelectorOf({ kind: 'Deployment', spec: { selector: { matchLabels: { app: 'web' } } } }), 'app=web');
  assert.throws(() => podSelectorOf({ kind: 'Service', metadata: { name: 's' }, spec: {} }), /Service is defined without a selector/);
  assert.throws(() => podSelectorOf({ kind: 'ConfigMap' }), /not implemented/);
});

test('default container: the annotation, else the first with kubectl\'s note when there was a choice', () => {
  const p = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }, { name: 'b' }], initContainers: [{ name: 'i' }] } } as Pod;
  assert.deepEqual(defaultContainer(p), { name: 'a', note: 'Defaulted container "a" out of: a, b, i (init)\n' });
  assert.deepEqual(defaultContainer({ ...p, metadata: { name: 'p', annotations: { 'kubectl.kubernetes.io/default-container': 'b' } } }), { name: 'b' });
  assert.deepEqual(defaultContainer({ metadata: { name: 'p' }, spec: { containers: [{ name: 'only' }] } } as Pod), { name: 'only', note: undefined });
});

test('TYPE/NAME or a bare pod name', () => {
  assert.deepEqual(splitTypeName('web-1'), { name: 'web-1' });
  assert.deepEqual(splitTypeName('deploy/web'), { type: 'deploy', name: 'web' });
  assert.throws(() => splitTypeName('a/b/c'), /more than one slash/);
});
