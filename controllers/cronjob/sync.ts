import type { CronJob, CronJobStatus, Job } from 'kubernetes-types/batch/v1';
import type { ObjectReference } from 'kubernetes-types/core/v1';
import { parseCronSchedule, rfc3339InZone, isKnownTimeZone, type CronSchedule } from '../../lib/cron-schedule';
import { rfc3339 } from '../../lib/time';
import { newControllerRef } from '../util/owners';

/** Annotation on a scheduled Job: the time it was scheduled for, RFC 3339 in the CronJob's zone. */
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** More missed start times than this → an event, and only the latest runs (Kubernetes' limit). */
export const MAX_MISSED_START_TIMES = 100;

export interface CronJobEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/**
 * What one sync of a CronJob does: write `status` if it changed, delete
 * `delete` (Replace's active Jobs, then Jobs beyond the history limits; with
 * background propagation), create `create`, record `events`, and sync again
 * after `requeueAfterMs` (the next schedule time).
 */
export interface CronJobPlan {
  status: CronJobStatus;
  create?: Job;
  delete: Job[];
  events: CronJobEvent[];
  requeueAfterMs?: number;
}

function condTrue(j: Job, type: string): boolean {
  return j.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

export function jobFinished(j: Job): 'Complete' | 'Failed' | undefined {
  return condTrue(j, 'Complete') ? 'Complete' : condTrue(j, 'Failed') ? 'Failed' : undefined;
}

function ref(j: Job): ObjectReference {
  return { apiVersion: 'batch/v1', kind: 'Job', name: j.metadata?.name, namespace: j.metadata?.namespace, uid: j.metadata?.uid, resourceVersion: j.metadata?.resourceVersion };
}

/** `<cronjob>-<scheduled time in minutes since the epoch>`: the same run always gets the same name. */
export function scheduledJobName(cronJobName: string, scheduledMs: number): string {
  return `${cronJobName}-${Math.floor(scheduledMs / 60_000)}`;
}

/**
 * The latest start time in (earliest, now] that has not run, and how many
 * were missed (Kubernetes' mostRecentScheduleTime). `earliest` is the last
 * schedule time, else the creation time, moved up to now − startingDeadlineSeconds.
 */
export function mostRecentScheduleTime(cj: CronJob, sched: CronSchedule, nowMs: number): { time?: number; missed: number } {
  const created = cj.metadata?.creationTimestamp ? Date.parse(cj.metadata.creationTimestamp) : nowMs;
  let earliest = cj.status?.lastScheduleTime ? Date.parse(cj.status.lastScheduleTime) : created;
  const sds = cj.spec?.startingDeadlineSeconds;
  if (sds !== undefined && sds !== null) earliest = Math.max(earliest, nowMs - sds * 1000);
  let time: number | undefined;
  let missed = 0;
  for (let t = sched.next(earliest); t !== undefined && t <= nowMs; t = sched.next(t)) {
    time = t;
    if (++missed > MAX_MISSED_START_TIMES) {
      // only the latest matters now: look for it near `now` instead of walking every start time
      time = latestActivation(sched, t, nowMs);
      break;
    }
  }
  return { time, missed };
}

/** The last activation in [from, now]: searched from now back through growing windows. */
function latestActivation(sched: CronSchedule, from: number, nowMs: number): number {
  for (const w of [60_000, 3_600_000, 86_400_000, 32 * 86_400_000, 367 * 86_400_000, Infinity]) {
    const start = Math.max(from - 1, nowMs - w);
    let last: number | undefined;
    for (let t = sched.next(start); t !== undefined && t <= nowMs; t = sched.next(t)) last = t;
    if (last !== undefined) return last;
  }
  return from;
}

/** The Job for the run scheduled at `scheduledMs`, from the CronJob's template (getJobFromTemplate2). */
export function jobForRun(cj: CronJob, scheduledMs: number): Job {
  const t = cj.spec?.jobTemplate;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: scheduledJobName(cj.metadata?.name ?? '', scheduledMs),
      namespace: cj.metadata?.namespace,
      labels: { ...(t?.metadata?.labels ?? {}) },
      annotations: { ...(t?.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339InZone(scheduledMs, cj.spec?.timeZone) },
      ownerReferences: [newControllerRef(cj, 'batch/v1', 'CronJob')],
    },
    spec: structuredClone(t?.spec ?? { template: {} }),
  };
}

function startOf(j: Job): number {
  const s = j.status?.startTime ?? j.metadata?.creationTimestamp;
  return s ? Date.parse(s) : 0;
}

/** Oldest finished Jobs beyond the history limits. */
function overHistory(jobs: Job[], cj: CronJob): Job[] {
  const out: Job[] = [];
  const limits: ['Complete' | 'Failed', number | undefined][] = [['Complete', cj.spec?.successfulJobsHistoryLimit ?? 3], ['Failed', cj.spec?.failedJobsHistoryLimit ?? 1]];
  for (const [kind, limit] of limits) {
    if (limit === undefined || limit === null) continue;
    const done = jobs.filter((j) => jobFinished(j) === kind && !j.metadata?.deletionTimestamp).sort((a, b) => startOf(a) - startOf(b));
    out.push(...done.slice(0, Math.max(0, done.length - limit)));
  }
  return out;
}

/**
 * One step of Kubernetes' cronjob controller (v2) for `cj` and the Jobs it
 * controls, at `nowMs`.
 */
export function syncCronJob(cj: CronJob, jobs: Job[], nowMs: number): CronJobPlan {
  const status: CronJobStatus = structuredClone(cj.status ?? {});
  const events: CronJobEvent[] = [];
  const plan: CronJobPlan = { status, delete: [], events };
  const name = cj.metadata?.name ?? '';

  // active: the Jobs it controls that have not finished
  const prevActive = new Set((cj.status?.active ?? []).map((r) => r.uid));
  const active = jobs.filter((j) => !jobFinished(j) && !j.metadata?.deletionTimestamp);
  for (const j of jobs) {
    const f = jobFinished(j);
    if (!f || !prevActive.has(j.metadata?.uid)) continue;
    events.push({ type: 'Normal', reason: 'SawCompletedJob', message: `Saw completed job: ${j.metadata?.name}, condition: ${f}` });
    if (f === 'Complete' && j.status?.completionTime && (!status.lastSuccessfulTime || Date.parse(j.status.completionTime) > Date.parse(status.lastSuccessfulTime))) {
      status.lastSuccessfulTime = j.status.completionTime;
    }
  }
  status.active = active.map(ref);
  if (!status.active.length) delete status.active;
  plan.delete.push(...overHistory(jobs, cj));

  if (cj.metadata?.deletionTimestamp) return plan;
  if (cj.spec?.timeZone && !isKnownTimeZone(cj.spec.timeZone)) {
    events.push({ type: 'Warning', reason: 'UnknownTimeZone', message: `invalid timeZone: ${JSON.stringify(cj.spec.timeZone)}: unknown time zone ${cj.spec.timeZone}` });
    return plan;
  }
  let sched: CronSchedule;
  try {
    sched = parseCronSchedule(cj.spec?.schedule ?? '', cj.spec?.timeZone);
  } catch (err) {
    events.push({ type: 'Warning', reason: 'InvalidSchedule', message: `invalid schedule: ${cj.spec?.schedule} : ${(err as Error).message}` });
    return plan;
  }
  if (cj.spec?.suspend) return plan;

  const { time, missed } = mostRecentScheduleTime(cj, sched, nowMs);
  const wakeAfter = (t: number | undefined) => {
    const n = sched.next(Math.max(t ?? nowMs, nowMs));
    if (n !== undefined) plan.requeueAfterMs = Math.max(1, n - nowMs + 100);
  };
  if (missed > MAX_MISSED_START_TIMES) {
    events.push({ type: 'Warning', reason: 'TooManyMissedTimes', message: `too many missed start times: more than ${MAX_MISSED_START_TIMES}. Set or decrease .spec.startingDeadlineSeconds or check clock skew` });
  }
  if (time === undefined) {
    wakeAfter(nowMs);
    return plan;
  }
  wakeAfter(time);
  const sds = cj.spec?.startingDeadlineSeconds;
  if (sds !== undefined && sds !== null && time + sds * 1000 < nowMs) {
    events.push({ type: 'Warning', reason: 'MissSchedule', message: `Missed scheduled time to start a job: ${rfc3339InZone(time, cj.spec?.timeZone)}` });
    return plan;
  }
  const runName = scheduledJobName(name, time);
  if (jobs.some((j) => j.metadata?.name === runName)) {
    // started already (its status write may have been lost)
    if (!status.lastScheduleTime || Date.parse(status.lastScheduleTime) < time) status.lastScheduleTime = rfc3339(time);
    return plan;
  }

  const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
  if (policy === 'Forbid' && active.length > 0) {
    events.push({ type: 'Normal', reason: 'JobAlreadyActive', message: 'Not starting job because prior execution is running and concurrency policy is Forbid' });
    return plan;
  }
  if (policy === 'Replace') {
    for (const j of active) {
      plan.delete.push(j);
      events.push({ type: 'Normal', reason: 'SuccessfulDelete', message: `Deleted job ${j.metadata?.name}` });
    }
    delete status.active;
  }
  plan.create = jobForRun(cj, time);
  status.lastScheduleTime = rfc3339(time);
  return plan;
}
