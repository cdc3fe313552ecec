import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLabelSelector, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors';
import { mergePatch, strategicMerge } from './patch';
import { humanDuration } from '../lib/duration';
import { toTable } from './tables';
import { cidrContains, parseCidr, pickFree, pickServiceIP } from './allocators';
import { validateService } from './validation';
import { parseApiPath } from './rest';

test('label selectors: =, ==, !=, in, notin, exists, !key', () => {
  const l = { app: 'web', tier: 'fe' };
  const m = (s: string) => matchesLabels(parseLabelSelector(s), l);
  assert.ok(m('app=web') && m('app==web') && m('app!=db') && m('tier in (fe,be)') && m('tier notin (be)') && m('app') && m('!missing') && m('app=web,tier'));
  assert.ok(!m('app=db') && !m('!app') && !m('tier in (be)') && !m('missing'));
  assert.throws(() => parseLabelSelector('a=b c'), /unable to parse/);
  assert.equal(formatLabelSelector({ matchLabels: { b: '2', a: '1' }, matchExpressions: [{ key: 'c', operator: 'In', values: ['y', 'x'] }] }), 'a=1,b=2,c in (x,y)');
  assert.throws(() => parseFieldSelector('bogus=1', new Set(['metadata.name'])), /field label not supported/);
});

test('merge and strategic merge patches', () => {
  assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 } }), { a: 1, b: { d: 3, e: 4 } });
  const orig = { containers: [{ name: 'a', image: 'x', env: [{ name: 'E', value: '1' }] }, { name: 'b', image: 'y' }], finalizers: ['f1', 'f2'] };
  const out = strategicMerge(orig, {
    containers: [{ name: 'a', env: [{ name: 'F', value: '2' }] }, { name: 'b', $patch: 'delete' }],
    '$setElementOrder/containers': [{ name: 'a' }],
    '$deleteFromPrimitiveList/finalizers': ['f1'],
  });
  assert.deepEqual(out, { containers: [{ name: 'a', image: 'x', env: [{ name: 'E', value: '1' }, { name: 'F', value: '2' }] }], finalizers: ['f2'] });
  assert.deepEqual(strategicMerge({ ports: [{ containerPort: 80, name: 'a' }] }, { ports: [{ containerPort: 80, name: 'b' }, { containerPort: 81 }] }), { ports: [{ containerPort: 80, name: 'b' }, { containerPort: 81 }] });
  assert.deepEqual(strategicMerge({ spec: { a: 1, b: 2 } }, { spec: { $patch: 'replace', c: 3 } }), { spec: { c: 3 } });
  assert.deepEqual(strategicMerge({ s: { type: 'RollingUpdate', rollingUpdate: { x: 1 } } }, { s: { $retainKeys: ['type'], type: 'Recreate' } }), { s: { type: 'Recreate' } });
  assert.deepEqual(orig.finalizers, ['f1', 'f2'], 'input untouched');
});

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
  const ev = toTable('events', [{ metadata: { name: 'e' }, type: 'Normal', reason: 'Scheduled', involvedObject: { kind: 'Pod', name: 'p' }, message: 'ok', lastTimestamp: '2024-01-01T00:59:00Z' }], { now });
  assert.deepEqual(ev.rows[0].cells.slice(0, 4), ['60s', 'Normal', 'Scheduled', 'pod/p']);
});

test('allocators and service validation', () => {
  const c = parseCidr('10.96.0.0/12');
  assert.ok(cidrContains(c, '10.111.255.254') && !cidrContains(c, '10.112.0.1') && !cidrContains(c, '10.96.0.0'));
  assert.equal(pickFree(1, 3, new Set([1, 2])), 3);
  assert.equal(pickFree(1, 2, new Set([1, 2])), undefined);
  assert.notEqual(pickServiceIP(parseCidr('10.0.0.0/30'), []), '10.0.0.1');
  const errs = validateService({ spec: { type: 'NodePort', ports: [{ port: 70000, nodePort: 1 }] } }, [30000, 32767]);
  assert.deepEqual(errs.map((e) => e.field), ['spec.ports[0].port', 'spec.ports[0].nodePort']);
});

test('API paths', () => {
  assert.deepEqual(parseApiPath('/apis/apps/v1/namespaces/d/deployments/web/scale'), { group: 'apps', version: 'v1', namespace: 'd', resource: 'deployments', name: 'web', subresource: 'scale' });
  assert.deepEqual(parseApiPath('/api/v1/namespaces/foo/status'), { group: '', version: 'v1', resource: 'namespaces', name: 'foo', subresource: 'status' });
  assert.deepEqual(parseApiPath('/api/v1/watch/namespaces/d/pods'), { group: '', version: 'v1', watchPath: true, namespace: 'd', resource: 'pods', name: undefined, subresource: undefined });
});
