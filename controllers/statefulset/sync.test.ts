import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, StatefulSet } from 'kubernetes-types/apps/v1';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import { planStatefulSet, type StatefulSetAction } from './sync';
import { historyToTrim, newRevision, planRevisions, templateOf } from './revisions';
import { claimOwners, newPod, ordinalOf } from './identity';

const NOW = Date.parse('2024-01-01T00:10:00Z');

type SpecPatch = Partial<NonNullable<StatefulSet['spec']>>;

function sts(spec: SpecPatch = {}, status: StatefulSet['status'] = undefined, image = 'busybox:1'): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'set-uid', generation: 2 },
    spec: {
      replicas: 3,
      serviceName: 'web',
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

const rev = (set: StatefulSet, n: number) => newRevision(set, n, 0);

type State = 'ready' | 'running' | 'pending' | 'failed' | 'terminating' | 'fresh';

/** A pod of `set` at ordinal `ord` in a given state, at revision `r`. */
function pod(set: StatefulSet, r: ControllerRevision, ord: number, state: State = 'ready', readySince = '2024-01-01T00:00:00Z'): Pod {
  const p = newPod(set, templateOf(r), r.metadata!.name!, ord);
  const phase = state === 'ready' || state === 'running' || state === 'terminating' ? 'Running' : state === 'failed' ? 'Failed' : 'Pending';
  return {
    ...p,
    metadata: { ...p.metadata, uid: `pod-${ord}`, ...(state === 'terminating' ? { deletionTimestamp: '2024-01-01T00:09:00Z' } : {}) },
    status: { phase, conditions: [{ type: 'Ready', status: state === 'ready' || state === 'terminating' ? 'True' : 'False', lastTransitionTime: readySince }] },
  };
}

const summary = (a: StatefulSetAction[]) =>
  a.map((x) => (x.type === 'createPod' ? `create ${x.pod.metadata?.name}` : x.type === 'deletePod' ? `delete ${x.pod.metadata?.name} (${x.reason})` : x.type === 'createClaim' ? `claim ${x.claim.metadata?.name}` : `owners ${x.claim.metadata?.name}`));

function plan(set: StatefulSet, pods: Pod[], o: { current?: ControllerRevision; update?: ControllerRevision; claims?: PersistentVolumeClaim[] } = {}) {
  const update = o.update ?? rev(set, 1);
  const current = o.current ?? update;
  const claims = new Map((o.claims ?? []).map((c) => [c.metadata!.name!, c]));
  return planStatefulSet({ set, current, update, pods, claim: (n) => claims.get(n), nowMs: NOW });
}

test('planStatefulSet: ordering and scaling, table', () => {
  const s = sts();
  const r = rev(s, 1);
  const par = sts({ podManagementPolicy: 'Parallel' });
  const rp = rev(par, 1);
  const cases: [string, StatefulSet, (set: StatefulSet, r: ControllerRevision) => Pod[], string[]][] = [
    ['OrderedReady: empty set creates only ordinal 0', s, () => [], ['create web-0']],
    ['OrderedReady: waits while web-0 is Pending', s, (x, v) => [pod(x, v, 0, 'pending')], []],
    ['OrderedReady: waits while web-0 Running but not Ready', s, (x, v) => [pod(x, v, 0, 'running')], []],
    ['OrderedReady: web-0 ready → web-1', s, (x, v) => [pod(x, v, 0)], ['create web-1']],
    ['OrderedReady: a gap is filled first, lowest ordinal', s, (x, v) => [pod(x, v, 0), pod(x, v, 2)], ['create web-1']],
    ['all there and ready: nothing', s, (x, v) => [0, 1, 2].map((i) => pod(x, v, i)), []],
    ['a terminating pod is waited out, never replaced while it exists', s, (x, v) => [pod(x, v, 0), pod(x, v, 1, 'terminating'), pod(x, v, 2)], []],
    ['a Failed pod is deleted, not replaced in the same step', s, (x, v) => [pod(x, v, 0), pod(x, v, 1, 'failed'), pod(x, v, 2)], ['delete web-1 (failed)']],
    ['scale down: highest ordinal first, one at a time', sts({ replicas: 1 }), (x, v) => [0, 1, 2].map((i) => pod(x, v, i)), ['delete web-2 (scaleDown)']],
    ['scale down waits for the condemned pod that is terminating', sts({ replicas: 1 }), (x, v) => [pod(x, v, 0), pod(x, v, 1), pod(x, v, 2, 'terminating')], []],
    ['scale down waits while a replica is unhealthy', sts({ replicas: 1 }), (x, v) => [pod(x, v, 0, 'running'), pod(x, v, 1), pod(x, v, 2)], []],
    ['scale down: the unhealthy highest condemned pod may go', sts({ replicas: 1 }), (x, v) => [pod(x, v, 0), pod(x, v, 1), pod(x, v, 2, 'pending')], ['delete web-2 (scaleDown)']],
    ['scale down: an unhealthy condemned pod above the first unhealthy one waits', sts({ replicas: 1 }), (x, v) => [pod(x, v, 0), pod(x, v, 1, 'pending'), pod(x, v, 2, 'pending')], []],
    ['Parallel: all at once', par, () => [], ['create web-0', 'create web-1', 'create web-2']],
    ['Parallel: does not wait for a pending pod', par, (x, v) => [pod(x, v, 0, 'pending')], ['create web-1', 'create web-2']],
    ['Parallel: scale down all condemned at once', sts({ replicas: 1, podManagementPolicy: 'Parallel' }), (x, v) => [0, 1, 2].map((i) => pod(x, v, i, 'pending')), ['delete web-2 (scaleDown)', 'delete web-1 (scaleDown)']],
    ['ordinals.start shifts the range', sts({ replicas: 2, ordinals: { start: 5 } }), () => [], ['create web-5']],
    ['pods of other names are ignored', s, (x, v) => { const p = pod(x, v, 0); p.metadata!.name = 'web-x'; return [p]; }, ['create web-0']],
  ];
  for (const [name, set, pods, want] of cases) {
    const v = set === par ? rp : set === s ? r : rev(set, 1);
    assert.deepEqual(summary(plan(set, pods(set, v), { update: v }).actions), want, name);
  }
});

test('minReadySeconds: OrderedReady waits for availability and asks to be requeued', () => {
  const set = sts({ minReadySeconds: 30 });
  const r = rev(set, 1);
  const p = plan(set, [pod(set, r, 0, 'ready', '2024-01-01T00:09:50Z')], { update: r });
  assert.deepEqual(p.actions, []);
  assert.equal(p.requeueAfterMs, 20_000);
  assert.deepEqual(summary(plan(set, [pod(set, r, 0, 'ready', '2024-01-01T00:09:00Z')], { update: r }).actions), ['create web-1']);
});

test('new pods: identity, labels, owner, claims as volumes', () => {
  const set = sts({ volumeClaimTemplates: [{ metadata: { name: 'data', labels: { tier: 'db' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] });
  set.spec!.template.spec!.volumes = [{ name: 'data', emptyDir: {} }, { name: 'scratch', emptyDir: {} }];
  const r = rev(set, 1);
  const p = plan(set, [], { update: r });
  assert.deepEqual(summary(p.actions), ['claim data-web-0', 'create web-0'], 'the claim comes before the pod');
  const claim = (p.actions[0] as { claim: PersistentVolumeClaim }).claim;
  assert.deepEqual(claim.metadata?.labels, { tier: 'db', app: 'web' });
  assert.equal(claim.metadata?.ownerReferences, undefined, 'Retain: no owner');
  const created = (p.actions[1] as { pod: Pod }).pod;
  assert.equal(created.spec?.hostname, 'web-0');
  assert.equal(created.spec?.subdomain, 'web');
  assert.deepEqual(created.metadata?.labels, { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-0', 'apps.kubernetes.io/pod-index': '0', 'controller-revision-hash': r.metadata?.name });
  assert.deepEqual(created.metadata?.ownerReferences?.map((o) => [o.kind, o.name, o.uid, o.controller]), [['StatefulSet', 'web', 'set-uid', true]]);
  assert.deepEqual(created.spec?.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }, { name: 'scratch', emptyDir: {} }]);
  // An existing claim is not created again; one being deleted blocks the pod.
  assert.deepEqual(summary(plan(set, [], { update: r, claims: [claim] }).actions), ['create web-0']);
  const dying = { ...claim, metadata: { ...claim.metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } };
  assert.deepEqual(summary(plan(set, [], { update: r, claims: [dying] }).actions), []);
  // Scale-down keeps claims by default.
  const down = sts({ replicas: 1, volumeClaimTemplates: set.spec!.volumeClaimTemplates });
  const claims = [0, 1].map((i) => ({ ...claim, metadata: { ...claim.metadata, name: `data-web-${i}` } }));
  assert.deepEqual(summary(plan(down, [pod(down, r, 0), pod(down, r, 1)], { update: r, claims }).actions), ['delete web-1 (scaleDown)']);
});

test('retention policy: owner references on claims, table', () => {
  const setWith = (whenDeleted: string, whenScaled: string) => sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted, whenScaled } });
  const claim: PersistentVolumeClaim = { metadata: { name: 'data-web-1', ownerReferences: [{ apiVersion: 'v1', kind: 'Thing', name: 'other', uid: 'other' }] } };
  const r = rev(sts(), 1);
  const p = pod(sts(), r, 1);
  const owners = (d: string, s: string, inRange: boolean) => claimOwners(setWith(d, s), claim, p, inRange).map((o) => `${o.kind}/${o.name}${o.controller ? '*' : ''}`);
  assert.deepEqual(owners('Retain', 'Retain', true), ['Thing/other']);
  assert.deepEqual(owners('Retain', 'Retain', false), ['Thing/other']);
  assert.deepEqual(owners('Delete', 'Retain', true), ['Thing/other', 'StatefulSet/web*']);
  assert.deepEqual(owners('Delete', 'Retain', false), ['Thing/other']);
  assert.deepEqual(owners('Retain', 'Delete', true), ['Thing/other']);
  assert.deepEqual(owners('Retain', 'Delete', false), ['Thing/other', 'Pod/web-1*']);
  assert.deepEqual(owners('Delete', 'Delete', false), ['Thing/other', 'Pod/web-1*']);
  // whenScaled: Delete hands the claim to the pod before deleting it.
  const set = sts({ replicas: 1, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' }, volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: {} }] });
  const rr = rev(set, 1);
  const plain: PersistentVolumeClaim = { metadata: { name: 'data-web-1' } };
  const p2 = plan(set, [pod(set, rr, 0), pod(set, rr, 1)], { update: rr, claims: [{ metadata: { name: 'data-web-0' } }, plain] });
  assert.deepEqual(summary(p2.actions), ['owners data-web-1', 'delete web-1 (scaleDown)']);
});

test('rolling update: highest ordinal first, one at a time, partition, OnDelete', () => {
  const old = sts();
  const next = sts({}, undefined, 'busybox:2');
  const r1 = rev(old, 1);
  const r2 = rev(next, 2);
  const all = (states: [ControllerRevision, State][]) => states.map(([r, st], i) => pod(r === r1 ? old : next, r, i, st));
  const cases: [string, StatefulSet, Pod[], string[]][] = [
    ['starts with the highest ordinal', next, all([[r1, 'ready'], [r1, 'ready'], [r1, 'ready']]), ['delete web-2 (update)']],
    ['waits for the updated pod to be ready', next, all([[r1, 'ready'], [r1, 'ready'], [r2, 'pending']]), []],
    ['then the next one down', next, all([[r1, 'ready'], [r1, 'ready'], [r2, 'ready']]), ['delete web-1 (update)']],
    ['partition 2 stops above ordinal 1', sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }, undefined, 'busybox:2'), all([[r1, 'ready'], [r1, 'ready'], [r2, 'ready']]), []],
    ['OnDelete never deletes for an update', sts({ updateStrategy: { type: 'OnDelete' } }, undefined, 'busybox:2'), all([[r1, 'ready'], [r1, 'ready'], [r1, 'ready']]), []],
    ['maxUnavailable 2 deletes two at once', sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } } }, undefined, 'busybox:2'), all([[r1, 'ready'], [r1, 'ready'], [r1, 'ready']]), ['delete web-2 (update)', 'delete web-1 (update)']],
  ];
  for (const [name, set, pods, want] of cases) assert.deepEqual(summary(plan(set, pods, { current: r1, update: r2 }).actions), want, name);
  // A deleted pod comes back at the update revision; below the partition at the current one.
  const p = plan(next, all([[r1, 'ready'], [r1, 'ready']]), { current: r1, update: r2 });
  assert.equal((p.actions[0] as { pod: Pod }).pod.metadata?.labels?.['controller-revision-hash'], r2.metadata?.name);
  assert.equal((p.actions[0] as { pod: Pod }).pod.spec?.containers[0].image, 'busybox:2');
  const part = sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }, undefined, 'busybox:2');
  const p3 = plan(part, all([[r1, 'ready']]), { current: r1, update: r2 });
  assert.equal((p3.actions[0] as { pod: Pod }).pod.spec?.containers[0].image, 'busybox:1');
});

test('status: counts, revisions, and completion of a rolling update', () => {
  const old = sts();
  const next = sts({}, undefined, 'busybox:2');
  const r1 = rev(old, 1);
  const r2 = rev(next, 2);
  const mid = plan(next, [pod(old, r1, 0), pod(old, r1, 1), pod(next, r2, 2, 'pending')], { current: r1, update: r2 }).status;
  assert.deepEqual(
    { ...mid },
    { observedGeneration: 2, replicas: 3, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 1, availableReplicas: 2, currentRevision: r1.metadata?.name, updateRevision: r2.metadata?.name, collisionCount: 0 },
  );
  const done = plan(next, [0, 1, 2].map((i) => pod(next, r2, i)), { current: r1, update: r2 }).status;
  assert.equal(done.currentRevision, r2.metadata?.name, 'all updated and ready: current becomes update');
  assert.equal(done.currentReplicas, 3);
  const ondelete = sts({ updateStrategy: { type: 'OnDelete' } }, undefined, 'busybox:2');
  assert.equal(plan(ondelete, [0, 1, 2].map((i) => pod(next, r2, i)), { current: r1, update: r2 }).status.currentRevision, r1.metadata?.name);
  // A set being deleted only gets its status.
  const dying = { ...sts(), metadata: { ...sts().metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } };
  assert.deepEqual(plan(dying, []).actions, []);
});

test('revisions: create, reuse, rollback renumbers, collision count, history trimming', () => {
  const a = sts();
  const b = sts({}, undefined, 'busybox:2');
  const p1 = planRevisions(a, []);
  assert.ok(p1.create);
  assert.equal(p1.create.revision, 1);
  assert.match(p1.create.metadata!.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.equal(p1.create.metadata?.labels?.app, 'web');
  assert.deepEqual((p1.create.data as { spec: { template: { $patch: string } } }).spec.template.$patch, 'replace');
  assert.equal(p1.current, p1.update);
  const r1 = p1.create;
  assert.deepEqual(planRevisions(a, [r1]), { current: r1, update: r1 }, 'unchanged template: nothing to write');
  const p2 = planRevisions({ ...b, status: { currentRevision: r1.metadata!.name!, replicas: 3 } }, [r1]);
  assert.equal(p2.create?.revision, 2);
  assert.equal(p2.current, r1);
  const r2 = p2.create!;
  // Undo: the template of revision 1 again → revision 1 is renumbered 3, nothing created.
  const p3 = planRevisions({ ...a, status: { currentRevision: r2.metadata!.name!, replicas: 3 } }, [r1, r2]);
  assert.equal(p3.create, undefined);
  assert.equal(p3.renumber?.metadata?.name, r1.metadata?.name);
  assert.equal(p3.renumber?.revision, 3);
  assert.equal(p3.current, r2);
  // collisionCount changes the name.
  assert.notEqual(planRevisions({ ...a, status: { collisionCount: 1, replicas: 0 } }, []).create?.metadata?.name, r1.metadata?.name);
  // Trimming keeps the newest `limit` of the revisions nothing uses.
  const revs = [1, 2, 3, 4].map((n) => ({ ...rev(sts({}, undefined, `busybox:${n}`), n) }));
  const trimmed = historyToTrim(sts({ revisionHistoryLimit: 1 }), revs, new Set([revs[3].metadata!.name!]));
  assert.deepEqual(trimmed.map((r) => r.revision), [1, 2]);
});

test('ordinalOf', () => {
  assert.equal(ordinalOf('web', 'web-0'), 0);
  assert.equal(ordinalOf('web', 'web-12'), 12);
  assert.equal(ordinalOf('web', 'web-01'), -1);
  assert.equal(ordinalOf('web', 'web-x'), -1);
  assert.equal(ordinalOf('web', 'webby-1'), -1);
  assert.equal(ordinalOf('web-1', 'web-1-2'), 2);
});
