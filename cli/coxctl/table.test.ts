import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable, renderObjects, renderServerTable, type ServerTable } from './table';

const podTable: ServerTable = {
  kind: 'Table',
  apiVersion: 'meta.k8s.io/v1',
  metadata: { resourceVersion: '10' },
  columnDefinitions: [
    { name: 'Name', type: 'string', format: 'name', priority: 0 },
    { name: 'Ready', type: 'string', priority: 0 },
    { name: 'Status', type: 'string', priority: 0 },
    { name: 'Restarts', type: 'integer', priority: 0 },
    { name: 'Age', type: 'string', priority: 0 },
    { name: 'IP', type: 'string', priority: 1 },
  ],
  rows: [
    { cells: ['nginx', '1/1', 'Running', 0, '5m', '10.244.0.5'], object: { metadata: { name: 'nginx', namespace: 'default', labels: { app: 'web', tier: 'fe' } } } },
    { cells: ['a', '0/1', 'Pending', 12, '3s', null], object: { metadata: { name: 'a', namespace: 'kube-system' } } },
  ],
};

test('kubectl alignment: widest cell + 3, at least 6, last column unpadded', () => {
  assert.equal(
    formatTable(renderServerTable(podTable)),
    ['NAME    READY   STATUS    RESTARTS   AGE', 'nginx   1/1     Running   0          5m', 'a       0/1     Pending   12         3s', ''].join('\n'),
  );
});

test('wide adds priority>0 columns; null cells print <none>', () => {
  const r = renderServerTable(podTable, { wide: true });
  assert.deepEqual(r.headers, ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP']);
  assert.deepEqual(r.rows[1], ['a', '0/1', 'Pending', '12', '3s', '<none>']);
});

test('NAMESPACE first with -A, kind prefix on the name column, labels last', () => {
  const r = renderServerTable(podTable, { withNamespace: true, kindPrefix: 'pod', showLabels: true });
  assert.deepEqual(r.headers, ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'LABELS']);
  assert.deepEqual(r.rows[0], ['default', 'pod/nginx', '1/1', 'Running', '0', '5m', 'app=web,tier=fe']);
  assert.equal(r.rows[1][6], '<none>');
});

test('fallback for plain objects: NAME AGE from metadata', () => {
  const now = Date.parse('2024-01-01T01:00:00Z');
  const r = renderObjects([{ metadata: { name: 'x', namespace: 'ns1', creationTimestamp: '2024-01-01T00:55:00Z' } }], { withNamespace: true, kindPrefix: 'deployment.apps' }, now);
  assert.equal(formatTable(r), 'NAMESPACE   NAME                AGE\nns1         deployment.apps/x   5m\n');
});
