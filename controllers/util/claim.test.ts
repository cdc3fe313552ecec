import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../lib/client';
import { adoptersOf, planClaims } from './claim';

const owner = (o: { deleting?: boolean; uid?: string } = {}): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet',
  metadata: { name: 'web', namespace: 'default', uid: o.uid ?? 'set-uid', ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
});
const selector = { matchLabels: { app: 'web' } };

function obj(name: string, o: { labels?: Record<string, string>; controller?: string; deleting?: boolean; ns?: string } = {}): KubeObject {
  return {
    metadata: {
      name, namespace: o.ns ?? 'default', uid: `uid-${name}`, resourceVersion: '1', labels: o.labels ?? { app: 'web' },
      ...(o.controller ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'x', uid: o.controller, controller: true }] } : {}),
      ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
  };
}
const names = (xs: KubeObject[]) => xs.map((x) => x.metadata?.name);

test('planClaims: Kubernetes\' ControllerRefManager rules', () => {
  const cases: [string, KubeObject, KubeObject[], { owned: string[]; adopt: string[]; release: string[] }][] = [
    ['own and matching: owned', owner(), [obj('a', { controller: 'set-uid' })], { owned: ['a'], adopt: [], release: [] }],
    ['orphan, matching: adopted', owner(), [obj('a')], { owned: [], adopt: ['a'], release: [] }],
    ['orphan, not matching: left', owner(), [obj('a', { labels: { app: 'db' } })], { owned: [], adopt: [], release: [] }],
    ['orphan being deleted: left', owner(), [obj('a', { deleting: true })], { owned: [], adopt: [], release: [] }],
    ['another controller\'s: left', owner(), [obj('a', { controller: 'other' })], { owned: [], adopt: [], release: [] }],
    ['own, labels changed: released', owner(), [obj('a', { controller: 'set-uid', labels: { app: 'web2' } })], { owned: [], adopt: [], release: ['a'] }],
    ['owner being deleted: adopts nothing, releases nothing', owner({ deleting: true }), [obj('a'), obj('b', { controller: 'set-uid', labels: {} })], { owned: [], adopt: [], release: [] }],
    ['other namespace: left', owner(), [obj('a', { ns: 'kube-system' })], { owned: [], adopt: [], release: [] }],
  ];
  for (const [name, o, objs, want] of cases) {
    const p = planClaims(o, selector, objs);
    assert.deepEqual({ owned: names(p.owned), adopt: names(p.adopt), release: names(p.release) }, want, name);
  }
  // an empty selector adopts nothing; a filter narrows what belongs (StatefulSet names)
  assert.deepEqual(planClaims(owner(), {}, [obj('a')]).adopt, []);
  const p = planClaims(owner(), selector, [obj('web-0'), obj('other-1'), obj('web-1', { controller: 'set-uid' }), obj('nope', { controller: 'set-uid' })], { filter: (x) => /^web-\d+$/.test(x.metadata?.name ?? '') });
  assert.deepEqual([names(p.owned), names(p.adopt), names(p.release)], [['web-1'], ['web-0'], ['nope']]);
});

test('adoptersOf: the owners whose selector takes an orphan', () => {
  const a = { ...owner({ uid: 'a' }), spec: { selector } };
  const b = { ...owner({ uid: 'b' }), spec: { selector: { matchLabels: { app: 'db' } } } };
  const sel = (o: KubeObject) => (o as { spec?: { selector?: typeof selector } }).spec?.selector;
  assert.deepEqual(adoptersOf(obj('p'), [a, b], sel).map((o) => o.metadata?.uid), ['a']);
  assert.deepEqual(adoptersOf(obj('p', { controller: 'a' }), [a, b], sel), [], 'has a controller');
});
