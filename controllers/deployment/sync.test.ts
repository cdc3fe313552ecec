import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import { appendRevisionHistory, planDeployment, resolveIntOrPercent, surgeAndUnavailable, templatesEqual, CHANGE_CAUSE_ANNOTATION, HASH_LABEL, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, deploymentStatusEqual } from './sync';

const T0 = Date.parse('2024-01-01T00:00:00Z');

function deployment(image: string, replicas = 3, strategy?: NonNullable<Deployment['spec']>['strategy']): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } },
      ...(strategy ? { strategy } : {}),
    },
  };
}

/**
 * A tiny world: applies plans, and plays the ReplicaSet controller and the
 * kubelet: a pod becomes available one tick after its ReplicaSet was scaled up;
 * scale-downs take effect at once.
 */
class World {
  rss = new Map<string, ReplicaSet>();
  now = T0;
  created = 0;
  constructor(public d: Deployment) {}

  step(): ReturnType<typeof planDeployment> {
    const plan = planDeployment(this.d, [...this.rss.values()], this.now);
    if (plan.create) {
      const rs = structuredClone(plan.create);
      Object.assign(rs.metadata!, { uid: `uid-${rs.metadata!.name}`, creationTimestamp: new Date(T0 + ++this.created * 1000).toISOString(), generation: 1 });
      assert.ok(!this.rss.has(rs.metadata!.name!), 'create of an existing name');
      this.rss.set(rs.metadata!.name!, rs);
    }
    for (const u of plan.update) this.rss.set(u.metadata!.name!, structuredClone(u));
    for (const x of plan.delete) this.rss.delete(x.metadata!.name!);
    this.d = { ...this.d, status: plan.status };
    this.now += 1000;
    return plan;
  }

  kubelet(): void {
    for (const rs of this.rss.values()) {
      const spec = rs.spec?.replicas ?? 0;
      const prev = rs.status?.replicas ?? 0;
      const avail = Math.min(spec, prev);
      Object.assign(rs, { status: { replicas: spec, readyReplicas: avail, availableReplicas: avail, observedGeneration: rs.metadata?.generation } });
    }
  }

  available(): number {
    return [...this.rss.values()].reduce((s, rs) => s + (rs.status?.availableReplicas ?? 0), 0);
  }

  totalSpec(): number {
    return [...this.rss.values()].reduce((s, rs) => s + (rs.spec?.replicas ?? 0), 0);
  }

  /** Steps until the plan is a no-op and the status is stable; checks `invariant` each tick. */
  converge(invariant?: (w: World) => void, max = 50): number {
    for (let i = 0; i < max; i++) {
      const before = JSON.stringify([...this.rss.values()]);
      const prevStatus = this.d.status;
      const plan = this.step();
      this.kubelet();
      invariant?.(this);
      const after = JSON.stringify([...this.rss.values()]);
      if (before === after && !plan.create && plan.update.length === 0 && deploymentStatusEqual(prevStatus, plan.status)) return i;
    }
    assert.fail('did not converge');
  }

  cond(type: string) {
    return this.d.status?.conditions?.find((c) => c.type === type);
  }
}

test('resolveIntOrPercent and surge/unavailable defaults', () => {
  assert.equal(resolveIntOrPercent('25%', 10, true, 0), 3);
  assert.equal(resolveIntOrPercent('25%', 10, false, 0), 2);
  assert.equal(resolveIntOrPercent(2, 10, false, 0), 2);
  assert.equal(resolveIntOrPercent(undefined, 4, true, '25%'), 1);
  assert.deepEqual(surgeAndUnavailable(deployment('a', 3)), { maxSurge: 1, maxUnavailable: 0 });
  assert.deepEqual(surgeAndUnavailable(deployment('a', 3, { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } })), { maxSurge: 0, maxUnavailable: 1 });
  assert.deepEqual(surgeAndUnavailable(deployment('a', 3, { type: 'Recreate' })), { maxSurge: 0, maxUnavailable: 3 });
});

test('a new Deployment gets one ReplicaSet named <deploy>-<hash> and converges to complete status', () => {
  const w = new World(deployment('busybox:1', 3));
  const plan = w.step();
  const rs = plan.create!;
  assert.ok(rs);
  const hash = rs.metadata!.labels![HASH_LABEL];
  assert.equal(rs.metadata!.name, `web-${hash}`);
  assert.equal(rs.spec!.replicas, 3);
  assert.equal(rs.spec!.selector.matchLabels![HASH_LABEL], hash);
  assert.equal(rs.spec!.template!.metadata!.labels![HASH_LABEL], hash);
  assert.equal(rs.metadata!.annotations![REVISION_ANNOTATION], '1');
  assert.deepEqual(rs.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }]);
  assert.equal(plan.revision, '1');
  assert.equal(w.cond('Progressing')?.reason, 'NewReplicaSetCreated');
  w.kubelet();
  w.converge();
  const s = w.d.status!;
  assert.equal(s.observedGeneration, 1);
  assert.deepEqual([s.replicas, s.updatedReplicas, s.readyReplicas, s.availableReplicas, s.unavailableReplicas], [3, 3, 3, 3, 0]);
  assert.equal(w.cond('Available')?.status, 'True');
  assert.equal(w.cond('Progressing')?.reason, 'NewReplicaSetAvailable');
  // The same template always hashes to the same name (restart-stable).
  assert.equal(planDeployment(deployment('busybox:1', 3), [], T0).create!.metadata!.name, rs.metadata!.name);
});

test('scaling changes the current ReplicaSet only', () => {
  const w = new World(deployment('busybox:1', 3));
  w.converge();
  w.d = { ...w.d, spec: { ...w.d.spec!, replicas: 5 }, metadata: { ...w.d.metadata, generation: 2 } };
  w.converge();
  assert.equal(w.rss.size, 1);
  assert.equal([...w.rss.values()][0].spec!.replicas, 5);
  w.d = { ...w.d, spec: { ...w.d.spec!, replicas: 1 }, metadata: { ...w.d.metadata, generation: 3 } };
  w.converge();
  assert.equal([...w.rss.values()][0].spec!.replicas, 1);
  assert.equal(w.d.status!.availableReplicas, 1);
  assert.equal(w.d.status!.observedGeneration, 3);
});

test('RollingUpdate respects maxSurge and maxUnavailable at every step and ends with the old RS at 0', () => {
  for (const ru of [{}, { maxSurge: 0, maxUnavailable: 1 }, { maxSurge: 2, maxUnavailable: 0 }, { maxSurge: '50%', maxUnavailable: '50%' }]) {
    const w = new World(deployment('busybox:1', 4, { type: 'RollingUpdate', rollingUpdate: ru }));
    w.converge();
    const { maxSurge, maxUnavailable } = surgeAndUnavailable(w.d);
    w.d = { ...w.d, spec: { ...w.d.spec!, template: { ...w.d.spec!.template, spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } }, metadata: { ...w.d.metadata, generation: 2 } };
    w.converge((x) => {
      assert.ok(x.totalSpec() <= 4 + maxSurge, `surge exceeded: ${x.totalSpec()} (${JSON.stringify(ru)})`);
      assert.ok(x.available() >= 4 - maxUnavailable, `too few available: ${x.available()} (${JSON.stringify(ru)})`);
    });
    assert.equal(w.rss.size, 2);
    const [oldRS, newRS] = [...w.rss.values()].sort((a, b) => Number(a.metadata!.annotations![REVISION_ANNOTATION]) - Number(b.metadata!.annotations![REVISION_ANNOTATION]));
    assert.equal(oldRS.spec!.replicas, 0);
    assert.equal(newRS.spec!.replicas, 4);
    assert.equal(newRS.metadata!.annotations![REVISION_ANNOTATION], '2');
    assert.equal(w.cond('Progressing')?.reason, 'NewReplicaSetAvailable');
    assert.equal(w.d.status!.updatedReplicas, 4);
  }
});

test('Recreate scales old to zero and creates the new one only after old pods are gone', () => {
  const w = new World(deployment('busybox:1', 3, { type: 'Recreate' }));
  w.converge();
  w.d = { ...w.d, spec: { ...w.d.spec!, template: { ...w.d.spec!.template, spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } } };
  const p1 = w.step();
  assert.equal(p1.create, undefined);
  assert.deepEqual(p1.scales.map((s) => [s.from, s.to]), [[3, 0]]);
  const p2 = w.step(); // old RS status still says 3 pods
  assert.equal(p2.create, undefined);
  w.kubelet();
  const p3 = w.step();
  assert.ok(p3.create);
  assert.equal(p3.create.spec!.replicas, 3);
  w.kubelet();
  w.converge();
  assert.equal(w.cond('Progressing')?.reason, 'NewReplicaSetAvailable');
});

test('rolling back to an old template reuses its ReplicaSet and bumps its revision', () => {
  const w = new World(deployment('busybox:1', 2));
  w.converge();
  const first = [...w.rss.keys()][0];
  const setImage = (img: string) => (w.d = { ...w.d, spec: { ...w.d.spec!, template: { ...w.d.spec!.template, spec: { containers: [{ name: 'c', image: img }] } } } });
  setImage('busybox:2');
  w.converge();
  setImage('busybox:1');
  w.converge();
  assert.equal(w.rss.size, 2);
  assert.equal(w.rss.get(first)!.spec!.replicas, 2);
  assert.equal(w.rss.get(first)!.metadata!.annotations![REVISION_ANNOTATION], '3');
});

test('old ReplicaSets beyond revisionHistoryLimit are deleted once complete', () => {
  const w = new World({ ...deployment('v0', 1), spec: { ...deployment('v0', 1).spec!, revisionHistoryLimit: 1 } });
  w.converge();
  for (const img of ['v1', 'v2', 'v3']) {
    w.d = { ...w.d, spec: { ...w.d.spec!, template: { ...w.d.spec!.template, spec: { containers: [{ name: 'c', image: img }] } } } };
    w.converge();
  }
  assert.equal(w.rss.size, 2, 'current + 1 history');
});

test('templatesEqual ignores the pod-template-hash label only', () => {
  const a = { metadata: { labels: { app: 'x', [HASH_LABEL]: 'h' } }, spec: { containers: [] } };
  assert.ok(templatesEqual(a, { metadata: { labels: { app: 'x' } }, spec: { containers: [] } }));
  assert.ok(!templatesEqual(a, { metadata: { labels: { app: 'y' } }, spec: { containers: [] } }));
  assert.ok(templatesEqual(a, { metadata: { labels: { app: 'x' }, creationTimestamp: null } as never, spec: { containers: [] } }), 'a null creationTimestamp is no difference');
});

test('a stalled rollout reports ProgressDeadlineExceeded after progressDeadlineSeconds', () => {
  const d = deployment('busybox:1', 1);
  d.spec!.progressDeadlineSeconds = 10;
  const w = new World(d);
  w.step(); // create; pods never become available (no kubelet)
  for (let i = 0; i < 5; i++) w.step();
  assert.equal(w.cond('Progressing')?.status, 'True');
  w.now += 20_000;
  w.step();
  assert.equal(w.cond('Progressing')?.reason, 'ProgressDeadlineExceeded');
  assert.equal(w.cond('Progressing')?.status, 'False');
});

/** What `kubectl rollout history` lists: revision → change-cause, from the ReplicaSets. */
function history(w: World): [number, string | undefined][] {
  return [...w.rss.values()]
    .map((rs): [number, string | undefined] => [Number(rs.metadata!.annotations![REVISION_ANNOTATION]), rs.metadata!.annotations![CHANGE_CAUSE_ANNOTATION]])
    .sort((a, b) => a[0] - b[0]);
}

/** kubectl's rollout undo: the ReplicaSet's template (without the hash label) and its annotations onto the Deployment. */
function undo(w: World, revision: number): void {
  const rs = [...w.rss.values()].find((r) => r.metadata!.annotations![REVISION_ANNOTATION] === String(revision))!;
  const template = structuredClone(rs.spec!.template!);
  delete template.metadata!.labels![HASH_LABEL];
  // as a Go client writes it back
  Object.assign(template.metadata!, { creationTimestamp: null });
  Object.assign(template.spec!.containers[0], { resources: {} });
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(rs.metadata!.annotations!)) if (!k.startsWith('deployment.kubernetes.io/')) annotations[k] = v;
  w.d = { ...w.d, metadata: { ...w.d.metadata, annotations }, spec: { ...w.d.spec!, template } };
}

test('rollout history after an undo: the restored template becomes the newest revision, its old number disappears', () => {
  const w = new World(deployment('busybox:1', 2));
  const release = (img: string, cause: string) => {
    w.d = { ...w.d, metadata: { ...w.d.metadata, annotations: { [CHANGE_CAUSE_ANNOTATION]: cause, 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
      spec: { ...w.d.spec!, template: { ...w.d.spec!.template, spec: { containers: [{ name: 'c', image: img }] } } } };
    w.converge();
  };
  release('busybox:1', 'v1');
  release('busybox:2', 'v2');
  release('busybox:3', 'v3');
  assert.deepEqual(history(w), [[1, 'v1'], [2, 'v2'], [3, 'v3']], 'change-cause is carried to each ReplicaSet');
  assert.ok([...w.rss.values()].every((rs) => rs.metadata!.annotations!['kubectl.kubernetes.io/last-applied-configuration'] === undefined), 'last-applied is not copied');
  undo(w, 1); // kubectl rollout undo --to-revision=1
  w.converge();
  assert.deepEqual(history(w), [[2, 'v2'], [3, 'v3'], [4, 'v1']]);
  const restored = [...w.rss.values()].find((rs) => rs.metadata!.annotations![REVISION_ANNOTATION] === '4')!;
  assert.equal(restored.metadata!.annotations![REVISION_HISTORY_ANNOTATION], '1');
  assert.equal(restored.spec!.replicas, 2);
  assert.equal(w.d.status!.updatedReplicas, 2);
  undo(w, 3); // kubectl rollout undo (to the previous revision)
  w.converge();
  assert.deepEqual(history(w), [[2, 'v2'], [4, 'v1'], [5, 'v3']]);
  undo(w, 4);
  w.converge();
  assert.deepEqual(history(w), [[2, 'v2'], [5, 'v3'], [6, 'v1']]);
  assert.equal([...w.rss.values()].find((rs) => rs.metadata!.annotations![REVISION_ANNOTATION] === '6')!.metadata!.annotations![REVISION_HISTORY_ANNOTATION], '1,4');
});

test('the revision history annotation keeps the newest numbers within its length limit', () => {
  assert.equal(appendRevisionHistory(undefined, '3'), '3');
  assert.equal(appendRevisionHistory('1,3', '7'), '1,3,7');
  const long = Array.from({ length: 600 }, (_, i) => String(1000 + i)).join(',');
  const next = appendRevisionHistory(long, '9999');
  assert.ok(next.length <= 2000 && next.endsWith(',9999') && !next.startsWith('1000,'));
});

test('a paused Deployment starts no rollout, says DeploymentPaused, still scales; resuming rolls out', () => {
  const w = new World(deployment('busybox:1', 2));
  w.converge();
  w.d = { ...w.d, spec: { ...w.d.spec!, paused: true } };
  w.converge();
  assert.deepEqual([w.cond('Progressing')?.status, w.cond('Progressing')?.reason, w.cond('Progressing')?.message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
  w.d = { ...w.d, spec: { ...w.d.spec!, replicas: 3, template: { ...w.d.spec!.template, spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } } };
  w.converge();
  assert.equal(w.rss.size, 1, 'no new ReplicaSet while paused');
  assert.equal([...w.rss.values()][0].spec!.replicas, 3, 'a paused Deployment still scales');
  w.d = { ...w.d, spec: { ...w.d.spec!, paused: false } };
  const plan = w.step();
  assert.ok(plan.create, 'resumed: the new template rolls out');
  w.converge();
  assert.deepEqual(history(w).map(([r]) => r), [1, 2]);
  assert.equal(w.cond('Progressing')?.reason, 'NewReplicaSetAvailable');
});
