import type { Pod } from 'kubernetes-types/core/v1';
import type { Job, JobCondition, JobStatus } from 'kubernetes-types/batch/v1';
import { rfc3339 } from '../../lib/time';
import { isPodReady } from '../util/pods';
import { rankPodsForDeletion } from '../replicaset/sync';
import { formatIndexes, parseIndexes } from './indexes';
import { annotationCount, completionIndex, finishTime, hasTrackingFinalizer, INDEX_FAILURE_COUNT_ANNOTATION, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION, isActive, isFailed, isFinished, isTerminating, matchPodFailurePolicy, restartCount, type IndexFailureCounts } from './pods';

/** Kubernetes' pod creation backoff: 10 s, doubling per failure since the last success, at most 6 min. */
export const DEFAULT_BACKOFF_BASE_MS = 10_000;
export const DEFAULT_BACKOFF_MAX_MS = 360_000;

export interface JobSyncOptions {
  now: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export interface JobEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/**
 * What one sync of a Job does, in this order: write `status` (it records in
 * uncountedTerminatedPods every finished pod it is about to release), then
 * remove the tracking finalizer from `removeFinalizers`, delete `delete`, and
 * create one pod per entry of `create` (an index for Indexed Jobs).
 *
 * A finished pod is counted in status.succeeded/failed only on a later sync,
 * once its uid is in the stored uncountedTerminatedPods and its finalizer is
 * gone. A pod without the finalizer and not in that list was counted before,
 * so a restart of the controller at any step never counts a pod twice or
 * loses one. The status must be written with the Job's resourceVersion.
 */
export interface JobPlan {
  status: JobStatus;
  removeFinalizers: Pod[];
  delete: Pod[];
  /** One entry per pod to create: its completion index (Indexed) or undefined. */
  create: (number | undefined)[];
  /** With backoffLimitPerIndex: failures so far of each index in `create`, for its new pod's annotations. */
  failureCounts?: Map<number, IndexFailureCounts>;
  events: JobEvent[];
  /** Sync again after this long (pod creation backoff, activeDeadlineSeconds). */
  requeueAfterMs?: number;
}

type CondType = 'Complete' | 'Failed' | 'SuccessCriteriaMet' | 'FailureTarget' | 'Suspended';

function cond(status: JobStatus, type: CondType): JobCondition | undefined {
  return status.conditions?.find((c) => c.type === type);
}

export function isTrue(job: Job, type: CondType): boolean {
  return job.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

/** Complete or Failed: nothing more happens to the Job but its TTL. */
export function isJobFinished(job: Job): boolean {
  return isTrue(job, 'Complete') || isTrue(job, 'Failed');
}

/** Sets a condition; its lastTransitionTime moves only when its status changes. Returns true when anything changed. */
function setCondition(status: JobStatus, type: CondType, value: 'True' | 'False', reason: string, message: string, now: string): boolean {
  const conds = (status.conditions ??= []);
  const c = conds.find((x) => x.type === type);
  if (!c) {
    conds.push({ type, status: value, reason, message, lastProbeTime: now, lastTransitionTime: now });
    return true;
  }
  if (c.status === value && c.reason === reason && c.message === message) return false;
  if (c.status !== value) c.lastTransitionTime = now;
  c.status = value;
  c.reason = reason;
  c.message = message;
  c.lastProbeTime = now;
  return true;
}

/**
 * The pod creation delay after failures (Kubernetes' backoff records): `n`
 * failed pods finished after the last succeeded one → base·2^(n-1), capped;
 * counted from the last failure. 0 when creating now is fine.
 */
export function backoffRemainingMs(job: Job, pods: Pod[], o: JobSyncOptions): number {
  const base = o.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const max = o.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
  let lastSuccess = -Infinity;
  for (const p of pods) if (p.status?.phase === 'Succeeded') lastSuccess = Math.max(lastSuccess, finishTime(p));
  let n = 0;
  let lastFailure = -Infinity;
  for (const p of pods) {
    if (p.status?.phase !== 'Failed' && !(isFailed(p) && isFinished(p))) continue;
    if (job.spec?.podFailurePolicy && matchPodFailurePolicy(job, p)?.action === 'Ignore') continue;
    const t = finishTime(p);
    if (t < lastSuccess) continue;
    n++;
    lastFailure = Math.max(lastFailure, t);
  }
  if (n === 0) return 0;
  const delay = Math.min(base * 2 ** Math.min(n - 1, 30), max);
  return Math.max(0, lastFailure + delay - o.now);
}

/** The value of spec.managedBy that means this controller (also the meaning of no value). */
export const JOB_CONTROLLER_NAME = 'kubernetes.io/job-controller';

/** Whether another controller manages the Job (spec.managedBy): then this one leaves it alone. */
export function isManagedByOther(job: Job): boolean {
  const m = job.spec?.managedBy;
  return m != null && m !== JOB_CONTROLLER_NAME;
}

/** podReplacementPolicy Failed (a podFailurePolicy implies it): a deleted pod is replaced only once terminated. */
export function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec?.podReplacementPolicy === 'Failed' || !!job.spec?.podFailurePolicy;
}

/**
 * The first successPolicy rule the succeeded indexes satisfy (Kubernetes'
 * matchSuccessPolicy): all of `succeededIndexes`, at least `succeededCount`
 * of them, or both (that many among those indexes). Returns the condition
 * message, or undefined.
 */
export function matchSuccessPolicy(job: Job, succeeded: Set<number>): string | undefined {
  const rules = job.spec?.successPolicy?.rules ?? [];
  const n = job.spec?.completions ?? 0;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    let met = false;
    if (r.succeededIndexes != null) {
      const want = parseIndexes(r.succeededIndexes, n);
      const have = [...want].filter((x) => succeeded.has(x)).length;
      met = r.succeededCount != null ? have >= r.succeededCount : want.size > 0 && have === want.size;
    } else if (r.succeededCount != null) met = succeeded.size >= r.succeededCount;
    if (met) return `Matched rules at index ${i}`;
  }
  return undefined;
}

/**
 * One level-triggered step of Kubernetes' job controller for `job` and every
 * pod it controls (any phase, including terminating ones).
 */
export function syncJob(job: Job, pods: Pod[], o: JobSyncOptions): JobPlan {
  const spec = job.spec ?? { template: {} };
  const now = rfc3339(o.now);
  const indexed = spec.completionMode === 'Indexed';
  const completions = spec.completions ?? undefined;
  const parallelism = spec.parallelism ?? 1;
  const status: JobStatus = structuredClone(job.status ?? {});
  const events: JobEvent[] = [];
  const plan: JobPlan = { status, removeFinalizers: [], delete: [], create: [], events };
  const onlyFailed = onlyReplaceFailedPods(job);
  const perIndex = indexed && spec.backoffLimitPerIndex != null;
  const policyAction = (p: Pod) => (spec.podFailurePolicy ? matchPodFailurePolicy(job, p) : undefined);
  const ordered = [...pods].sort((a, b) => finishTime(a) - finishTime(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));

  // 1. Count recorded pods whose finalizer is gone.
  const withFinalizer = new Set(pods.filter(hasTrackingFinalizer).map((p) => p.metadata?.uid ?? ''));
  const prevUncounted = status.uncountedTerminatedPods ?? {};
  const uncSucceeded = new Set<string>();
  const uncFailed = new Set<string>();
  let succeededCount = status.succeeded ?? 0;
  let failedCount = status.failed ?? 0;
  for (const uid of prevUncounted.succeeded ?? []) {
    if (withFinalizer.has(uid)) uncSucceeded.add(uid);
    else succeededCount++;
  }
  for (const uid of prevUncounted.failed ?? []) {
    if (withFinalizer.has(uid)) uncFailed.add(uid);
    else failedCount++;
  }

  // 2. Record newly finished pods before releasing them.
  const finished = isJobFinished(job);
  const succeededIndexes = indexed ? parseIndexes(status.completedIndexes, completions ?? 0) : new Set<number>();
  const failedIndexes = perIndex ? parseIndexes(status.failedIndexes, completions ?? 0) : new Set<number>();
  let failJob: { reason: string; message: string } | undefined;
  for (const p of ordered) {
    if (!hasTrackingFinalizer(p)) continue;
    const uid = p.metadata?.uid ?? '';
    if (uncSucceeded.has(uid) || uncFailed.has(uid)) {
      plan.removeFinalizers.push(p);
      continue;
    }
    if (p.status?.phase === 'Succeeded') {
      if (indexed) {
        const ix = completionIndex(p, completions ?? 0);
        if (ix !== undefined) succeededIndexes.add(ix);
      } else uncSucceeded.add(uid);
      plan.removeFinalizers.push(p);
    } else if (isFailed(p, onlyFailed)) {
      const match = policyAction(p);
      plan.removeFinalizers.push(p);
      if (match?.action === 'Ignore') continue;
      if (match?.action === 'FailJob' && !failJob) failJob = { reason: 'PodFailurePolicy', message: match.message };
      if (perIndex) {
        // the index fails for good on a FailIndex rule or past backoffLimitPerIndex
        const ix = completionIndex(p, completions ?? 0);
        const failures = annotationCount(p, INDEX_FAILURE_COUNT_ANNOTATION) + 1;
        if (ix !== undefined && !succeededIndexes.has(ix) && (match?.action === 'FailIndex' || failures > (spec.backoffLimitPerIndex ?? 0))) failedIndexes.add(ix);
      }
      uncFailed.add(uid);
    } else if (finished) {
      plan.removeFinalizers.push(p);
    }
  }

  const succeeded = indexed ? succeededIndexes.size : succeededCount + uncSucceeded.size;
  const failed = failedCount + uncFailed.size;
  const active = pods.filter(isActive);
  const terminating = pods.filter(isTerminating);

  status.succeeded = indexed ? succeededIndexes.size : succeededCount;
  status.failed = failedCount;
  status.uncountedTerminatedPods = {
    ...(uncSucceeded.size && !indexed ? { succeeded: [...uncSucceeded] } : {}),
    ...(uncFailed.size ? { failed: [...uncFailed] } : {}),
  };
  if (indexed) {
    const s = formatIndexes(succeededIndexes);
    if (s) status.completedIndexes = s;
    else delete status.completedIndexes;
  }
  if (perIndex) status.failedIndexes = formatIndexes(failedIndexes);
  status.active = active.length;
  status.ready = active.filter(isPodReady).length;
  status.terminating = terminating.length;

  if (finished) {
    plan.delete = active;
    status.active = 0;
    return plan;
  }

  // 3. Suspension.
  const suspended = spec.suspend === true;
  const wasSuspended = cond(status, 'Suspended')?.status === 'True';
  if (suspended && !wasSuspended && setCondition(status, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) {
    events.push({ type: 'Normal', reason: 'Suspended', message: 'Job suspended' });
  }
  if (!suspended && wasSuspended) {
    setCondition(status, 'Suspended', 'False', 'JobResumed', 'Job resumed', now);
    events.push({ type: 'Normal', reason: 'Resumed', message: 'Job resumed' });
    status.startTime = now;
  }
  if (!suspended && !status.startTime) status.startTime = now;

  // 4. Failure and success criteria (FailureTarget / SuccessCriteriaMet first, as 1.32 does).
  let target: 'fail' | 'success' | undefined = isTrue(job, 'FailureTarget') ? 'fail' : isTrue(job, 'SuccessCriteriaMet') ? 'success' : undefined;
  if (!target) {
    const backoffLimit = spec.backoffLimit ?? 6;
    const restarts = spec.template?.spec?.restartPolicy === 'OnFailure' ? active.reduce((n, p) => n + restartCount(p), 0) : 0;
    const overRestarts = spec.template?.spec?.restartPolicy === 'OnFailure' && (backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit);
    const deadlineAt = status.startTime && spec.activeDeadlineSeconds != null ? Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000 : undefined;
    let failure = failJob;
    if (!failure && (failed > backoffLimit || overRestarts)) failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    if (!failure && !suspended && deadlineAt !== undefined && o.now >= deadlineAt) failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
    if (!failure && perIndex && spec.maxFailedIndexes != null && failedIndexes.size > spec.maxFailedIndexes) {
      failure = { reason: 'MaxFailedIndexesExceeded', message: 'Job has exceeded the specified maximal number of failed indexes' };
    }
    if (!failure && perIndex && failedIndexes.size > 0 && failedIndexes.size + succeededIndexes.size >= (completions ?? 0)) {
      failure = { reason: 'FailedIndexes', message: 'Job has failed indexes' };
    }
    const bySuccessPolicy = !failure && indexed ? matchSuccessPolicy(job, succeededIndexes) : undefined;
    if (failure) {
      setCondition(status, 'FailureTarget', 'True', failure.reason, failure.message, now);
      events.push({ type: 'Warning', reason: failure.reason, message: failure.message });
      target = 'fail';
    } else {
      const done = indexed || completions !== undefined ? succeeded >= (completions ?? 1) : succeeded > 0 && active.length === 0;
      if (bySuccessPolicy) {
        setCondition(status, 'SuccessCriteriaMet', 'True', 'SuccessPolicy', bySuccessPolicy, now);
        target = 'success';
      } else if (done) {
        setCondition(status, 'SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
        target = 'success';
      } else if (deadlineAt !== undefined && !suspended) plan.requeueAfterMs = Math.max(1, deadlineAt - o.now);
    }
  }

  // 5. A Job that met its target ends once no pod of it runs any more.
  if (target) {
    plan.delete = active;
    if (active.length === 0 && terminating.length === 0) {
      const c = target === 'fail' ? cond(status, 'FailureTarget') : cond(status, 'SuccessCriteriaMet');
      if (target === 'fail') setCondition(status, 'Failed', 'True', c?.reason ?? 'BackoffLimitExceeded', c?.message ?? '', now);
      else {
        setCondition(status, 'Complete', 'True', c?.reason ?? 'CompletionsReached', c?.message ?? '', now);
        status.completionTime = now;
        events.push({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
      }
      // every pod is released now; the ones just recorded are counted on the next sync
      plan.removeFinalizers = pods.filter(hasTrackingFinalizer);
    }
    return plan;
  }

  if (suspended) {
    plan.delete = active;
    return plan;
  }

  // 6. Keep the wanted number of pods running.
  let excess: Pod[] = [];
  let missing: (number | undefined)[] = [];
  if (indexed) {
    const n = completions ?? 0;
    const held = new Set<number>();
    // with podReplacementPolicy Failed, an index whose pod is still terminating waits for it
    const blocked = new Set<number>(onlyFailed ? terminating.map((p) => completionIndex(p, n)).filter((x): x is number => x !== undefined) : []);
    const keep: Pod[] = [];
    for (const p of active) {
      const ix = completionIndex(p, n);
      if (ix === undefined || succeededIndexes.has(ix) || failedIndexes.has(ix) || held.has(ix)) excess.push(p);
      else {
        held.add(ix);
        keep.push(p);
      }
    }
    const want = Math.min(parallelism, n - succeededIndexes.size - failedIndexes.size);
    if (keep.length > want) excess.push(...rankPodsForDeletion(keep).slice(0, keep.length - want));
    const waits = perIndex ? indexBackoff(job, pods, o) : undefined;
    for (let i = 0; i < n && keep.length + blocked.size + missing.length < want; i++) {
      if (held.has(i) || blocked.has(i) || succeededIndexes.has(i) || failedIndexes.has(i)) continue;
      const wait = waits?.get(i)?.remainingMs ?? 0;
      if (wait > 0) plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, wait);
      else missing.push(i);
    }
    if (waits) plan.failureCounts = new Map([...waits].map(([i, w]) => [i, w.counts]));
  } else {
    const want = completions === undefined ? (succeeded > 0 ? active.length : parallelism) : Math.min(parallelism, Math.max(0, completions - succeeded));
    const occupied = active.length + (onlyFailed ? terminating.length : 0);
    if (active.length > want) excess = rankPodsForDeletion(active).slice(0, active.length - want);
    else missing = Array.from({ length: Math.max(0, want - occupied) }, () => undefined);
  }
  plan.delete = excess;
  if (missing.length) {
    const wait = perIndex ? 0 : backoffRemainingMs(job, pods, o);
    if (wait > 0) plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, wait);
    else plan.create = missing;
  }
  return plan;
}

/**
 * Per index (backoffLimitPerIndex): the failures of its pods so far, which its
 * next pod carries, and how long until that pod may be created: base·2^(n−1)
 * after the index's last failure, n its failure count, capped.
 */
export function indexBackoff(job: Job, pods: Pod[], o: JobSyncOptions): Map<number, { counts: IndexFailureCounts; remainingMs: number }> {
  const base = o.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const max = o.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
  const n = job.spec?.completions ?? 0;
  const onlyFailed = onlyReplaceFailedPods(job);
  const out = new Map<number, { counts: IndexFailureCounts; remainingMs: number; last: number }>();
  for (const p of pods) {
    const ix = completionIndex(p, n);
    if (ix === undefined) continue;
    const failed = isFailed(p, onlyFailed);
    const ignored = failed && job.spec?.podFailurePolicy ? matchPodFailurePolicy(job, p)?.action === 'Ignore' : false;
    const e = out.get(ix) ?? { counts: { failed: 0, ignored: 0 }, remainingMs: 0, last: -Infinity };
    e.counts.failed = Math.max(e.counts.failed, annotationCount(p, INDEX_FAILURE_COUNT_ANNOTATION) + (failed && !ignored ? 1 : 0));
    e.counts.ignored = Math.max(e.counts.ignored, annotationCount(p, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION) + (ignored ? 1 : 0));
    if (failed && !ignored) e.last = Math.max(e.last, finishTime(p));
    out.set(ix, e);
  }
  const res = new Map<number, { counts: IndexFailureCounts; remainingMs: number }>();
  for (const [ix, e] of out) {
    const delay = e.counts.failed > 0 ? Math.min(base * 2 ** Math.min(e.counts.failed - 1, 30), max) : 0;
    res.set(ix, { counts: e.counts, remainingMs: e.last > -Infinity ? Math.max(0, e.last + delay - o.now) : 0 });
  }
  return res;
}

/** Whether writing `next` over `prev` changes anything (times of unchanged conditions are kept by syncJob). */
export function jobStatusChanged(prev: JobStatus | undefined, next: JobStatus): boolean {
  const norm = (s: JobStatus | undefined) => JSON.stringify({
    active: s?.active ?? 0, ready: s?.ready ?? 0, terminating: s?.terminating ?? 0, succeeded: s?.succeeded ?? 0, failed: s?.failed ?? 0,
    startTime: s?.startTime ?? null, completionTime: s?.completionTime ?? null, completedIndexes: s?.completedIndexes ?? '', failedIndexes: s?.failedIndexes ?? null,
    unS: s?.uncountedTerminatedPods?.succeeded ?? [], unF: s?.uncountedTerminatedPods?.failed ?? [],
    conditions: (s?.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message]),
  });
  return norm(prev) !== norm(next);
}

/**
 * When a finished Job with ttlSecondsAfterFinished expires (ms since epoch),
 * or undefined when it never does (Kubernetes' ttl-after-finished controller).
 */
export function ttlExpiry(job: Job): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null || !isJobFinished(job)) return undefined;
  const c = job.status?.conditions?.find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  const at = job.status?.completionTime ?? c?.lastTransitionTime;
  const t = at ? Date.parse(at) : NaN;
  return Number.isFinite(t) ? t + ttl * 1000 : undefined;
}
