import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaSet } from 'kubernetes-types/apps/v1';
import { controllerRevisions, deploymentRevisions, deploymentUndoPatch, describePodTemplate, historyTable, pickRevision } from './rollout-history';

const rs = (name: string, revision: string | undefined, env: string, owner = 'd-uid', cause?: string): ReplicaSet => ({
  metadata: {
    name,
    annotations: { ...(revision ? { 'deployment.kubernetes.io/revision': revision } : {}), ...(cause ? { 'kubernetes.io/change-cause': cause } : {}) },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: owner, controller: true }],
  },
  spec: {
    selector: {},
    template: { metadata: { labels: { app: 'web', 'pod-template-hash': name } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36', env: [{ name: 'STAGE', value: env }] }] } },
  },
});

test('history: owned ReplicaSets with a revision, oldest first, change causes or <none>', () => {
  const revs = deploymentRevisions('d-uid', [rs('b', '2', 'two', 'd-uid', 'kubectl set env'), rs('a', '1', 'one'), rs('x', '5', 'x', 'other'), rs('n', undefined, 'n')]);
  assert.deepEqual([...revs.keys()].sort(), [1, 2]);
  assert.equal(historyTable(revs), 'REVISION  CHANGE-CAUSE\n1         <none>\n2         kubectl set env\n');
  assert.equal(historyTable(new Map()), 'No rollout history found.');
});

test('history --revision: the pod template as kubectl describes it', () => {
  const t = deploymentRevisions('d-uid', [rs('a', '1', 'one')]).get(1)!.template;
  assert.equal(
    describePodTemplate(t),
    [
      'Pod Template:',
      '  Labels:\tapp=web',
      '\tpod-template-hash=a',
      '  Containers:',
      '   c:',
      '    Image:\tbusybox:1.36',
      '    Port:\t<none>',
      '    Host Port:\t<none>',
      '    Environment:',
      '      STAGE:\tone',
      '    Mounts:\t<none>',
      '  Volumes:\t<none>',
      '  Node-Selectors:\t<none>',
      '  Tolerations:\t<none>',
      '',
    ].join('\n'),
  );
});

test('undo: the previous revision by default, a named one, or kubectl errors', () => {
  const revs = deploymentRevisions('d-uid', [rs('a', '1', 'one'), rs('b', '2', 'two'), rs('c', '4', 'four')]);
  assert.equal(pickRevision(revs, 0, 'Deployment', 'web').revision, 2);
  assert.equal(pickRevision(revs, 1, 'Deployment', 'web').revision, 1);
  assert.throws(() => pickRevision(revs, 3, 'Deployment', 'web'), /^Error: unable to find specified revision 3 in history$/);
  assert.throws(() => pickRevision(new Map([[1, revs.get(1)!]]), 0, 'Deployment', 'web'), /no rollout history found for deployment "web"/);
  assert.throws(() => pickRevision(new Map(), 0, 'other', 'db'), /no last revision to roll back to/);
});

test("undo patch: the ReplicaSet's template without its hash, the Deployment's bookkeeping annotations kept", () => {
  const old = rs('a', '1', 'one', 'd-uid', 'first');
  const deployment = {
    metadata: { annotations: { 'deployment.kubernetes.io/revision': '2', note: 'x' } },
    spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36', env: [{ name: 'STAGE', value: 'two' }] }] } } },
  };
  const patch = deploymentUndoPatch(deployment, old) as { op: string; path: string; value: Record<string, unknown> }[];
  assert.equal(patch[0].path, '/spec/template');
  assert.deepEqual((patch[0].value as { metadata: unknown }).metadata, { labels: { app: 'web' } });
  assert.deepEqual(patch[1], { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '2', 'kubernetes.io/change-cause': 'first' } });
  const same = { metadata: {}, spec: { template: { ...old.spec!.template!, metadata: { labels: { app: 'web' } } } } };
  assert.equal(deploymentUndoPatch(same, old), undefined);
});

test('controller revisions: owned ones, template from data without $patch', () => {
  const cr = (rev: number, owner: string) => ({
    metadata: { name: `db-${rev}`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: owner, controller: true }] },
    revision: rev,
    data: { spec: { template: { $patch: 'replace', metadata: { labels: { app: 'db' } }, spec: { containers: [] } } } },
  });
  const revs = controllerRevisions('s-uid', [cr(1, 's-uid'), cr(2, 's-uid'), cr(3, 'x')]);
  assert.deepEqual([...revs.keys()], [1, 2]);
  assert.deepEqual(revs.get(1)!.template, { metadata: { labels: { app: 'db' } }, spec: { containers: [] } });
});
