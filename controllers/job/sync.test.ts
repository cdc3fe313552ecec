import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import type { Job, JobSpec } from 'kubernetes-types/batch/v1';
import { syncJob, ttlExpiry, backoffRemainingMs, jobStatusChanged, isManagedByOther } from './sync';
import { formatIndexes, parseIndexes } from './indexes';
import { COMPLETION_INDEX_ANNOTATION, JOB_TRACKING_FINALIZER, newPodForJob, matchPodFailurePolicy } from './pods';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function job(spec: Partial<JobSpec> = {}, status: Job['status'] = {}): Job {
  return {
    metadata: { name: 'pi', namespace: 'default', uid: 'job-uid', creationTimestamp: at(0) },
    spec: { completions: 1, parallelism: 1, backoffLimit: 6, template: { metadata: { labels: { 'job-name': 'pi' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
    status: { startTime: at(0), ...status },
  };
}

type PodOpts = { phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed'; fin?: boolean; deleted?: boolean; index?: number; finished?: number; exitCode?: number; ready?: boolean; conditions?: { type: string; status: string }[]; restarts?: number };
function pod(name: string, o: PodOpts = {}): Pod {
  const terminated = o.phase === 'Succeeded' || o.phase === 'Failed';
  return {
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: at(0),
      ...(o.fin === false ? {} : { finalizers: [JOB_TRACKING_FINALIZER] }),
      ...(o.deleted ? { deletionTimestamp: at(1) } : {}),
      ...(o.index !== undefined ? { annotations: { [COMPLETION_INDEX_ANNOTATION]: String(o.index) } } : {}),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'job-uid', controller: true }],
    },
    spec: { containers: [] },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [...(o.ready ? [{ type: 'Ready', status: 'True' }] : []), ...(o.conditions ?? [])],
      containerStatuses: [{
        name: 'c', image: 'busybox', imageID: '', ready: false, restartCount: o.restarts ?? 0,
        state: terminated ? { terminated: { exitCode: o.exitCode ?? (o.phase === 'Failed' ? 1 : 0), finishedAt: at(o.finished ?? 5) } } : { running: {} },
      }],
    },
  };
}

const names = (ps: Pod[]) => ps.map((p) => p.metadata?.name).sort();
const condTypes = (j: Job['status']) => (j?.conditions ?? []).filter((c) => c.status === 'True').map((c) => `${c.type}:${c.reason}`);

test('a new job gets startTime and parallelism pods, never more than completions left', () => {
  const p = syncJob(job({ completions: 5, parallelism: 2 }, {}), [], { now: T0 });
  assert.equal(p.create.length, 2);
  assert.equal(p.status.startTime, at(0));
  const q = syncJob(job({ completions: 5, parallelism: 3 }, { succeeded: 4 }), [], { now: T0 });
  assert.equal(q.create.length, 1, 'one completion left');
  const r = syncJob(job({ completions: 5, parallelism: 2 }), [pod('a'), pod('b')], { now: T0 });
  assert.equal(r.create.length, 0, 'two active already');
  assert.deepEqual(r.status.active, 2);
});

test('finalizer tracking: recorded in uncountedTerminatedPods first, counted once the finalizer is gone, never twice', () => {
  // 1. a pod succeeds: recorded as uncounted, finalizer to be removed, not counted yet
  const s1 = syncJob(job({ completions: 2 }), [pod('a', { phase: 'Succeeded' })], { now: T0 });
  assert.deepEqual(s1.status.uncountedTerminatedPods, { succeeded: ['uid-a'] });
  assert.equal(s1.status.succeeded, 0);
  assert.deepEqual(names(s1.removeFinalizers), ['a']);
  assert.equal(s1.create.length, 1, 'the uncounted success already counts toward completions');
  // 2. the finalizer is gone: counted, removed from the list
  const j2 = job({ completions: 2 }, { ...s1.status });
  const s2 = syncJob(j2, [pod('a', { phase: 'Succeeded', fin: false }), pod('b')], { now: T0 });
  assert.equal(s2.status.succeeded, 1);
  assert.deepEqual(s2.status.uncountedTerminatedPods, {});
  // 3. a restart replays the same observation: nothing is counted again
  const s3 = syncJob(job({ completions: 2 }, { ...s2.status }), [pod('a', { phase: 'Succeeded', fin: false }), pod('b')], { now: T0 });
  assert.equal(s3.status.succeeded, 1);
  assert.equal(s3.create.length, 0);
  // a pod recorded but whose finalizer is still there (stale cache): stays uncounted, released again
  const s4 = syncJob(job({ completions: 2 }, { ...s1.status }), [pod('a', { phase: 'Succeeded' })], { now: T0 });
  assert.equal(s4.status.succeeded, 0);
  assert.deepEqual(s4.status.uncountedTerminatedPods, { succeeded: ['uid-a'] });
  assert.deepEqual(names(s4.removeFinalizers), ['a']);
  // a recorded pod deleted meanwhile (gone from the list) is counted
  const s5 = syncJob(job({ completions: 2 }, { ...s1.status }), [], { now: T0 });
  assert.equal(s5.status.succeeded, 1);
});

test('a pod deleted before it finished counts as failed; it is replaced', () => {
  const s = syncJob(job({ completions: 1 }), [pod('a', { deleted: true })], { now: T0 });
  assert.deepEqual(s.status.uncountedTerminatedPods, { failed: ['uid-a'] });
  assert.equal(s.status.terminating, 1);
  assert.equal(s.create.length, 1, 'podReplacementPolicy TerminatingOrFailed: replaced without waiting for it to end');
});

test('completion: SuccessCriteriaMet, then Complete with completionTime once nothing runs', () => {
  const s = syncJob(job({ completions: 2, parallelism: 2 }, { succeeded: 1 }), [pod('a', { phase: 'Succeeded', fin: false }), pod('b', { phase: 'Succeeded' })], { now: T0 + 10_000 });
  assert.deepEqual(condTypes(s.status), ['SuccessCriteriaMet:CompletionsReached', 'Complete:CompletionsReached']);
  assert.equal(s.status.completionTime, at(10));
  assert.ok(s.events.some((e) => e.reason === 'Completed'));
  // a finished job counts what is left and does nothing else
  const done = job({ completions: 2 }, s.status);
  const f = syncJob(done, [pod('b', { phase: 'Succeeded', fin: false })], { now: T0 + 20_000 });
  assert.equal(f.status.succeeded, 2);
  assert.equal(f.create.length, 0);
});

test('success with pods still running: they are deleted first, Complete waits for them', () => {
  const s = syncJob(job({ completions: undefined, parallelism: 2 }), [pod('a', { phase: 'Succeeded' }), pod('b')], { now: T0 });
  assert.deepEqual(condTypes(s.status), [], 'completions unset: done when one succeeded and none runs');
  const t = syncJob(job({ completions: 1, parallelism: 1 }), [pod('a', { phase: 'Succeeded' }), pod('b')], { now: T0 });
  assert.deepEqual(condTypes(t.status), ['SuccessCriteriaMet:CompletionsReached']);
  assert.deepEqual(names(t.delete), ['b']);
});

test('backoffLimit: backoffLimit+1 failures → FailureTarget then Failed BackoffLimitExceeded', () => {
  const pods = [pod('a', { phase: 'Failed', finished: 1 }), pod('b', { phase: 'Failed', finished: 20 })];
  const s = syncJob(job({ backoffLimit: 1 }), pods, { now: T0 + 30_000 });
  assert.deepEqual(condTypes(s.status), ['FailureTarget:BackoffLimitExceeded', 'Failed:BackoffLimitExceeded']);
  assert.equal(s.status.conditions?.find((c) => c.type === 'Failed')?.message, 'Job has reached the specified backoff limit');
  assert.equal(s.create.length, 0);
  assert.deepEqual(names(s.removeFinalizers), ['a', 'b']);
  const under = syncJob(job({ backoffLimit: 2 }), pods, { now: T0 + 30_000 });
  assert.deepEqual(condTypes(under.status), []);
});

test('restartPolicy OnFailure: container restarts count toward backoffLimit', () => {
  const j = job({ backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c' }] } } });
  assert.deepEqual(condTypes(syncJob(j, [pod('a', { restarts: 1 })], { now: T0 }).status), []);
  const s = syncJob(j, [pod('a', { restarts: 2 })], { now: T0 });
  assert.deepEqual(condTypes(s.status), ['FailureTarget:BackoffLimitExceeded']);
  assert.deepEqual(names(s.delete), ['a']);
});

test('backoff: 10 s doubling per failure since the last success, capped at 6 min', () => {
  const j = job({ backoffLimit: 100 });
  const fails = (n: number) => Array.from({ length: n }, (_, i) => pod(`f${i}`, { phase: 'Failed', finished: 100 }));
  assert.equal(backoffRemainingMs(j, fails(1), { now: T0 + 100_000 }), 10_000);
  assert.equal(backoffRemainingMs(j, fails(3), { now: T0 + 100_000 }), 40_000);
  assert.equal(backoffRemainingMs(j, fails(10), { now: T0 + 100_000 }), 360_000);
  assert.equal(backoffRemainingMs(j, fails(1), { now: T0 + 105_000 }), 5_000);
  assert.equal(backoffRemainingMs(j, [...fails(3), pod('ok', { phase: 'Succeeded', finished: 200 })], { now: T0 + 200_000 }), 0, 'a later success resets it');
  assert.equal(backoffRemainingMs(j, fails(2), { now: T0 + 100_000, backoffBaseMs: 100 }), 200, 'configurable base');
  const s = syncJob(j, fails(1), { now: T0 + 104_000 });
  assert.equal(s.create.length, 0);
  assert.equal(s.requeueAfterMs, 6_000);
  assert.equal(syncJob(j, fails(1), { now: T0 + 110_000 }).create.length, 1);
});

test('activeDeadlineSeconds: DeadlineExceeded deletes running pods; before it, a requeue at the deadline', () => {
  const j = job({ activeDeadlineSeconds: 30 });
  assert.equal(syncJob(j, [pod('a')], { now: T0 + 10_000 }).requeueAfterMs, 20_000);
  const s = syncJob(j, [pod('a')], { now: T0 + 30_000 });
  assert.deepEqual(condTypes(s.status), ['FailureTarget:DeadlineExceeded']);
  assert.equal(s.status.conditions?.[0].message, 'Job was active longer than specified deadline');
  assert.deepEqual(names(s.delete), ['a']);
  const t = syncJob(job({ activeDeadlineSeconds: 30 }, s.status), [pod('a', { deleted: true, phase: 'Failed' })], { now: T0 + 31_000 });
  assert.deepEqual(condTypes(t.status), ['FailureTarget:DeadlineExceeded', 'Failed:DeadlineExceeded']);
});

test('Indexed: one pod per pending index, per-index completion, completedIndexes', () => {
  const j = job({ completionMode: 'Indexed', completions: 4, parallelism: 2 });
  assert.deepEqual(syncJob(j, [], { now: T0 }).create, [0, 1]);
  const s = syncJob(j, [pod('p0', { index: 0, phase: 'Succeeded' }), pod('p1', { index: 1 })], { now: T0 });
  assert.equal(s.status.completedIndexes, '0');
  assert.equal(s.status.succeeded, 1);
  assert.deepEqual(s.create, [2]);
  // a second success of index 0 is not counted again; duplicates of a running index are deleted
  const j2 = job({ completionMode: 'Indexed', completions: 4, parallelism: 2 }, { completedIndexes: '0,2-3', succeeded: 3 });
  const t = syncJob(j2, [pod('again', { index: 0, phase: 'Succeeded' }), pod('p1', { index: 1 }), pod('p1b', { index: 1 })], { now: T0 });
  assert.equal(t.status.completedIndexes, '0,2-3');
  assert.equal(t.status.succeeded, 3);
  assert.equal(t.delete.length, 1);
  const u = syncJob(j2, [pod('p1', { index: 1, phase: 'Succeeded' })], { now: T0 });
  assert.equal(u.status.completedIndexes, '0-3');
  assert.deepEqual(condTypes(u.status), ['SuccessCriteriaMet:CompletionsReached', 'Complete:CompletionsReached']);
});

test('indexes format and parse as runs', () => {
  assert.equal(formatIndexes([5, 1, 3, 4, 7]), '1,3-5,7');
  assert.deepEqual([...parseIndexes('1,3-5,7,junk', 6)].sort(), [1, 3, 4, 5]);
});

test('newPodForJob: owner, finalizer, labels; Indexed adds the index as annotation, label, env and hostname', () => {
  const j = job({ completionMode: 'Indexed', completions: 3 });
  const p = newPodForJob(j, 'pi-2-xxxxx', 2);
  assert.deepEqual(p.metadata?.finalizers, [JOB_TRACKING_FINALIZER]);
  assert.equal(p.metadata?.ownerReferences?.[0].kind, 'Job');
  assert.equal(p.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION], '2');
  assert.equal(p.metadata?.labels?.[COMPLETION_INDEX_ANNOTATION], '2');
  assert.equal(p.spec?.hostname, 'pi-2');
  assert.deepEqual(p.spec?.containers[0].env, [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } }]);
  assert.equal(newPodForJob(job(), 'pi-abcde').spec?.hostname, undefined);
});

test('podFailurePolicy: FailJob on an exit code, Ignore on DisruptionTarget, Count otherwise', () => {
  const policy: JobSpec['podFailurePolicy'] = { rules: [
    { action: 'FailJob', onExitCodes: { containerName: 'c', operator: 'In', values: [42] } },
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
  ] };
  const j = job({ backoffLimit: 5, podFailurePolicy: policy });
  const s = syncJob(j, [pod('a', { phase: 'Failed', exitCode: 42 })], { now: T0 });
  assert.deepEqual(condTypes(s.status), ['FailureTarget:PodFailurePolicy', 'Failed:PodFailurePolicy']);
  assert.equal(s.status.conditions?.[0].message, 'Container c for pod default/a failed with exit code 42 matching FailJob rule at index 0');
  const ign = syncJob(j, [pod('b', { phase: 'Failed', exitCode: 137, conditions: [{ type: 'DisruptionTarget', status: 'True' }] })], { now: T0 });
  assert.deepEqual(ign.status.uncountedTerminatedPods, {}, 'ignored: never counted');
  assert.deepEqual(names(ign.removeFinalizers), ['b']);
  assert.equal(ign.create.length, 1, 'replaced at once, no backoff');
  const cnt = syncJob(j, [pod('c', { phase: 'Failed', exitCode: 1 })], { now: T0 });
  assert.deepEqual(cnt.status.uncountedTerminatedPods, { failed: ['uid-c'] });
  assert.equal(matchPodFailurePolicy(j, pod('d', { phase: 'Failed', exitCode: 1 })), undefined);
});

test('suspend deletes running pods and sets Suspended; resume resets startTime', () => {
  const s = syncJob(job({ suspend: true }), [pod('a')], { now: T0 + 5_000 });
  assert.deepEqual(condTypes(s.status), ['Suspended:JobSuspended']);
  assert.deepEqual(names(s.delete), ['a']);
  assert.equal(s.create.length, 0);
  const r = syncJob(job({ suspend: false }, s.status), [], { now: T0 + 60_000 });
  assert.equal(r.status.conditions?.find((c) => c.type === 'Suspended')?.status, 'False');
  assert.equal(r.status.startTime, at(60));
  assert.equal(r.create.length, 1);
});

test('parallelism lowered: the excess is deleted', () => {
  const s = syncJob(job({ completions: 10, parallelism: 1 }), [pod('a', { ready: true }), pod('b')], { now: T0 });
  assert.deepEqual(names(s.delete), ['b']);
  assert.equal(s.status.ready, 1);
});

test('ttlSecondsAfterFinished: expiry counted from completion', () => {
  const done = job({ ttlSecondsAfterFinished: 30 }, { completionTime: at(100), conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: at(100) }] });
  assert.equal(ttlExpiry(done), T0 + 130_000);
  assert.equal(ttlExpiry(job({ ttlSecondsAfterFinished: 30 })), undefined);
  assert.equal(ttlExpiry(job({}, done.status)), undefined);
});

test('jobStatusChanged ignores nothing that matters and nothing else', () => {
  const s = syncJob(job(), [pod('a')], { now: T0 });
  assert.equal(jobStatusChanged(s.status, structuredClone(s.status)), false);
  assert.equal(jobStatusChanged(s.status, { ...s.status, ready: 1 }), true);
});

test('podReplacementPolicy: TerminatingOrFailed replaces a deleted pod at once; Failed waits until it is terminated', () => {
  const deleting = pod('a', { deleted: true });
  const tof = syncJob(job({ podReplacementPolicy: 'TerminatingOrFailed' }), [deleting], { now: T0 });
  assert.deepEqual(tof.status.uncountedTerminatedPods, { failed: ['uid-a'] });
  assert.equal(tof.create.length, 1);
  const f = syncJob(job({ podReplacementPolicy: 'Failed' }), [deleting], { now: T0 });
  assert.deepEqual(f.status.uncountedTerminatedPods, {}, 'not failed while terminating');
  assert.equal(f.status.terminating, 1);
  assert.equal(f.create.length, 0, 'no replacement yet');
  assert.deepEqual(names(f.removeFinalizers), []);
  // the kubelet's final DELETE (grace 0) ends it: counted failed, replaced once backoff allows
  const d = pod('a', { deleted: true });
  const gone: Pod = { ...d, metadata: { ...d.metadata, deletionGracePeriodSeconds: 0 } };
  const g = syncJob(job({ podReplacementPolicy: 'Failed' }), [gone], { now: T0 });
  assert.deepEqual(g.status.uncountedTerminatedPods, { failed: ['uid-a'] });
  assert.equal(g.status.terminating, 0);
  assert.deepEqual(names(g.removeFinalizers), ['a']);
  assert.equal(g.create.length, 1);
  // a podFailurePolicy implies Failed
  const pfp = syncJob(job({ podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] } }), [deleting], { now: T0 });
  assert.equal(pfp.create.length, 0);
  // Indexed: the index of a terminating pod is not started again, others are
  const ix = syncJob(job({ completionMode: 'Indexed', completions: 3, parallelism: 3, podReplacementPolicy: 'Failed' }), [pod('p1', { index: 1, deleted: true })], { now: T0 });
  assert.deepEqual(ix.create, [0, 2]);
});

test('backoffLimitPerIndex: an index past its limit fails alone; the rest go on; Failed FailedIndexes at the end', () => {
  const spec = { completionMode: 'Indexed' as const, completions: 3, parallelism: 3, backoffLimitPerIndex: 1, backoffLimit: 2147483647 };
  const failed = (name: string, index: number, count: number, finished = 1) => {
    const p = pod(name, { phase: 'Failed', index, finished });
    return { ...p, metadata: { ...p.metadata, annotations: { ...p.metadata?.annotations, 'batch.kubernetes.io/job-index-failure-count': String(count) } } };
  };
  // first failure of index 0: not failed yet; its replacement waits out the backoff, then carries count 1
  const a = syncJob(job(spec), [failed('a0', 0, 0), pod('b1', { index: 1 }), pod('c2', { index: 2 })], { now: T0 + 5_000 });
  assert.equal(a.status.failedIndexes, '');
  assert.deepEqual(a.create, []);
  assert.equal(a.requeueAfterMs, 6_000);
  const a2 = syncJob(job(spec), [failed('a0', 0, 0), pod('b1', { index: 1 }), pod('c2', { index: 2 })], { now: T0 + 11_000 });
  assert.deepEqual(a2.create, [0]);
  assert.deepEqual(a2.failureCounts?.get(0), { failed: 1, ignored: 0 });
  assert.equal(newPodForJob(job(spec), 'pi-0-x', 0, a2.failureCounts?.get(0)).metadata?.annotations?.['batch.kubernetes.io/job-index-failure-count'], '1');
  // second failure (count 1 → 2 > 1): index 0 fails for good, not re-created
  const b = syncJob(job(spec, { failed: 1 }), [failed('a0b', 0, 1), pod('b1', { index: 1 }), pod('c2', { index: 2 })], { now: T0 + 60_000 });
  assert.equal(b.status.failedIndexes, '0');
  assert.deepEqual(b.create, []);
  assert.deepEqual(condTypes(b.status), []);
  // once the others succeed: FailureTarget, then Failed with reason FailedIndexes
  const c = syncJob(job(spec, { failed: 2, failedIndexes: '0', completedIndexes: '1' }), [pod('c2', { index: 2, phase: 'Succeeded' })], { now: T0 + 70_000 });
  assert.deepEqual(condTypes(c.status), ['FailureTarget:FailedIndexes', 'Failed:FailedIndexes']);
  assert.equal(c.status.conditions?.[0].message, 'Job has failed indexes');
  // maxFailedIndexes exceeded: the Job fails at once, its running pods are deleted
  const d = syncJob(job({ ...spec, maxFailedIndexes: 0 }), [failed('a0', 0, 1), pod('b1', { index: 1 })], { now: T0 });
  assert.deepEqual(condTypes(d.status), ['FailureTarget:MaxFailedIndexesExceeded']);
  assert.deepEqual(names(d.delete), ['b1']);
  // FailIndex fails the index on the first failure
  const e = syncJob(job({ ...spec, podFailurePolicy: { rules: [{ action: 'FailIndex', onExitCodes: { operator: 'In', values: [3] } }] } }), [pod('x', { phase: 'Failed', index: 2, exitCode: 3 })], { now: T0 });
  assert.equal(e.status.failedIndexes, '2');
  assert.deepEqual(e.create, [0, 1]);
});

test('successPolicy: SuccessCriteriaMet by a rule, the rest deleted, then Complete with reason SuccessPolicy', () => {
  const spec = { completionMode: 'Indexed' as const, completions: 4, parallelism: 4, successPolicy: { rules: [{ succeededIndexes: '0', succeededCount: 1 }, { succeededCount: 3 }] } };
  const s = syncJob(job(spec), [pod('p0', { index: 0, phase: 'Succeeded' }), pod('p1', { index: 1 })], { now: T0 });
  assert.deepEqual(condTypes(s.status), ['SuccessCriteriaMet:SuccessPolicy']);
  assert.equal(s.status.conditions?.[0].message, 'Matched rules at index 0');
  assert.deepEqual(names(s.delete), ['p1']);
  const t = syncJob(job(spec, s.status), [pod('p1', { index: 1, deleted: true, phase: 'Failed' })], { now: T0 + 1_000 });
  assert.deepEqual(condTypes(t.status), ['SuccessCriteriaMet:SuccessPolicy', 'Complete:SuccessPolicy']);
  // the count rule: 3 of any indexes
  const u = syncJob(job({ ...spec, successPolicy: { rules: [{ succeededCount: 3 }] } }, { completedIndexes: '1-2' }), [pod('p3', { index: 3, phase: 'Succeeded' }), pod('p0', { index: 0 })], { now: T0 });
  assert.equal(u.status.conditions?.[0].message, 'Matched rules at index 0');
  // indexes only: all listed must succeed
  assert.deepEqual(condTypes(syncJob(job({ ...spec, successPolicy: { rules: [{ succeededIndexes: '0-1' }] } }, { completedIndexes: '0' }), [], { now: T0 }).status), []);
});

test('managedBy: a Job another controller manages is left alone', () => {
  assert.equal(isManagedByOther(job({ managedBy: 'example.com/other' })), true);
  assert.equal(isManagedByOther(job({ managedBy: 'kubernetes.io/job-controller' })), false);
  assert.equal(isManagedByOther(job()), false);
});
