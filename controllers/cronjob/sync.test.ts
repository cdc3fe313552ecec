import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJob, CronJobSpec, Job } from 'kubernetes-types/batch/v1';
import { FakeClock } from '../../lib/fake-clock';
import { parseCronSchedule, rfc3339InZone } from '../../lib/cron-schedule';
import { SCHEDULED_TIMESTAMP_ANNOTATION, scheduledJobName, syncCronJob } from './sync';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const MIN = 60_000;

function cronJob(spec: Partial<CronJobSpec> = {}, status: CronJob['status'] = {}, created = T0): CronJob {
  return {
    metadata: { name: 'tick', namespace: 'default', uid: 'cj-uid', creationTimestamp: iso(created) },
    spec: { schedule: '*/1 * * * *', concurrencyPolicy: 'Allow', jobTemplate: { metadata: { labels: { a: 'b' } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } }, ...spec },
    status,
  };
}

function jobOf(scheduled: number, state?: 'Complete' | 'Failed', uid = `j-${scheduled}`): Job {
  return {
    metadata: { name: scheduledJobName('tick', scheduled), namespace: 'default', uid, creationTimestamp: iso(scheduled), ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: 'cj-uid', controller: true }] },
    spec: { template: {} },
    status: state ? { startTime: iso(scheduled), completionTime: state === 'Complete' ? iso(scheduled + 5000) : undefined, conditions: [{ type: state, status: 'True' }] } : { startTime: iso(scheduled) },
  };
}

test('schedules: five fields, macros, @every, time zones; malformed ones get robfig/cron wording', () => {
  assert.equal(parseCronSchedule('*/5 * * * *', 'UTC').next(T0), T0 + 5 * MIN);
  assert.equal(parseCronSchedule('@hourly', 'UTC').next(T0 + 1), T0 + 60 * MIN);
  assert.equal(parseCronSchedule('@daily', 'UTC').next(T0), T0 + 24 * 60 * MIN);
  assert.equal(parseCronSchedule('@every 90s').next(T0), T0 + 90_000);
  assert.equal(parseCronSchedule('0 9 * * *', 'Europe/Berlin').next(T0), Date.parse('2026-01-01T08:00:00Z'));
  assert.throws(() => parseCronSchedule('* * * *'), /expected exactly 5 fields, found 4: \[\* \* \* \*\]/);
  assert.throws(() => parseCronSchedule('@fortnightly'), /unrecognized descriptor: @fortnightly/);
  assert.throws(() => parseCronSchedule('61 * * * *'), /: end of range \(61\) above maximum \(59\): 61$/);
  assert.throws(() => parseCronSchedule('* * 0 * *'), /beginning of range \(0\) below minimum \(1\): 0/);
  assert.throws(() => parseCronSchedule('5-2 * * * *'), /beginning of range \(5\) beyond end of range \(2\): 5-2/);
  assert.throws(() => parseCronSchedule('*/0 * * * *'), /step of range should be a positive number: \*\/0/);
  assert.throws(() => parseCronSchedule('x * * * *'), /failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax/);
  assert.throws(() => parseCronSchedule('* * * * 7'), /end of range \(7\) above maximum \(6\): 7/);
  assert.equal(parseCronSchedule('0 0 * JAN mon-fri', 'UTC').next(T0), Date.parse('2026-01-02T00:00:00Z'));
  // day of month and day of week: either one when both are restricted, as robfig/cron and Vixie cron
  assert.equal(parseCronSchedule('0 0 * * 6', 'UTC').next(T0), Date.parse('2026-01-03T00:00:00Z'));
  assert.equal(parseCronSchedule('0 0 1 * 6', 'UTC').next(T0), Date.parse('2026-01-03T00:00:00Z'));
  assert.equal(parseCronSchedule('0 0 1 * *', 'UTC').next(T0), Date.parse('2026-02-01T00:00:00Z'));
  assert.throws(() => parseCronSchedule(''), /empty spec string/);
  assert.equal(rfc3339InZone(T0, 'Europe/Berlin'), '2026-01-01T01:00:00+01:00');
  assert.equal(rfc3339InZone(T0, 'UTC'), '2026-01-01T00:00:00Z');
});

test('nothing before the first start time; a Job named by the scheduled minute at it', () => {
  const cj = cronJob({ timeZone: 'UTC' }, {}, T0 + 10_000);
  const early = syncCronJob(cj, [], T0 + 30_000);
  assert.equal(early.create, undefined);
  assert.equal(early.requeueAfterMs, 30_000 + 100);
  const p = syncCronJob(cj, [], T0 + MIN + 2_000);
  assert.equal(p.create?.metadata?.name, `tick-${(T0 + MIN) / MIN}`);
  assert.equal(p.create?.metadata?.annotations?.[SCHEDULED_TIMESTAMP_ANNOTATION], '2026-01-01T00:01:00Z');
  assert.deepEqual(p.create?.metadata?.labels, { a: 'b' });
  assert.equal(p.create?.metadata?.ownerReferences?.[0].kind, 'CronJob');
  assert.equal(p.status.lastScheduleTime, iso(T0 + MIN));
});

test('a run whose Job exists is never started again (a restarted controller)', () => {
  const cj = cronJob({}, {}, T0);
  const p = syncCronJob(cj, [jobOf(T0 + MIN)], T0 + MIN + 5_000);
  assert.equal(p.create, undefined);
  assert.equal(p.status.lastScheduleTime, iso(T0 + MIN));
  assert.equal(p.status.active?.[0].name, `tick-${(T0 + MIN) / MIN}`);
});

test('on a fake clock: one run per minute, each once', () => {
  const clock = new FakeClock(T0);
  let cj = cronJob({}, {}, T0);
  const jobs: Job[] = [];
  for (let i = 0; i < 5 * 60; i++) {
    clock.advance(1000);
    const p = syncCronJob(cj, jobs, clock.now());
    if (p.create) jobs.push({ ...p.create, metadata: { ...p.create.metadata, uid: `u${jobs.length}` }, status: {} });
    cj = { ...cj, status: p.status };
  }
  cj = { ...cj, status: syncCronJob(cj, jobs, clock.now()).status };
  assert.deepEqual(jobs.map((j) => j.metadata?.name), [1, 2, 3, 4, 5].map((m) => `tick-${(T0 + m * MIN) / MIN}`));
  assert.equal(cj.status?.active?.length, 5);
});

test('missed runs: only the latest starts; more than 100 missed → TooManyMissedTimes', () => {
  const cj = cronJob({}, { lastScheduleTime: iso(T0) });
  const few = syncCronJob(cj, [], T0 + 10 * MIN + 1);
  assert.equal(few.create?.metadata?.name, `tick-${T0 / MIN + 10}`);
  assert.ok(!few.events.some((e) => e.reason === 'TooManyMissedTimes'));
  const many = syncCronJob(cj, [], T0 + 500 * MIN + 1);
  assert.equal(many.create?.metadata?.name, `tick-${T0 / MIN + 500}`);
  assert.ok(many.events.some((e) => e.reason === 'TooManyMissedTimes' && e.type === 'Warning'));
  // startingDeadlineSeconds bounds how far back it looks: then nothing is "too many"
  const bounded = syncCronJob(cronJob({ startingDeadlineSeconds: 300 }, { lastScheduleTime: iso(T0) }), [], T0 + 500 * MIN + 1);
  assert.ok(!bounded.events.some((e) => e.reason === 'TooManyMissedTimes'));
  assert.equal(bounded.create?.metadata?.name, `tick-${T0 / MIN + 500}`);
});

test('startingDeadlineSeconds: a run later than its deadline is skipped; the next one is awaited', () => {
  const cj = cronJob({ schedule: '0 * * * *', startingDeadlineSeconds: 30 }, { lastScheduleTime: iso(T0) });
  // the 01:00 run, looked at 45 s late (the controller was down)
  const late = syncCronJob(cj, [], T0 + 60 * MIN + 45_000);
  assert.equal(late.create, undefined);
  assert.equal(late.requeueAfterMs, 60 * MIN - 45_000 + 100);
  const onTime = syncCronJob(cj, [], T0 + 60 * MIN + 20_000);
  assert.ok(onTime.create);
});

test('Forbid: no new run while one is active; Replace: the active one is deleted', () => {
  const active = jobOf(T0 + MIN);
  const forbid = syncCronJob(cronJob({ concurrencyPolicy: 'Forbid' }, { lastScheduleTime: iso(T0 + MIN), active: [{ uid: active.metadata?.uid }] }), [active], T0 + 2 * MIN + 1);
  assert.equal(forbid.create, undefined);
  assert.ok(forbid.events.some((e) => e.reason === 'JobAlreadyActive'));
  assert.equal(forbid.requeueAfterMs, MIN - 1 + 100);
  const replace = syncCronJob(cronJob({ concurrencyPolicy: 'Replace' }, { lastScheduleTime: iso(T0 + MIN) }), [active], T0 + 2 * MIN + 1);
  assert.deepEqual(replace.delete.map((j) => j.metadata?.name), [active.metadata?.name]);
  assert.equal(replace.create?.metadata?.name, `tick-${T0 / MIN + 2}`);
  const allow = syncCronJob(cronJob({}, { lastScheduleTime: iso(T0 + MIN) }), [active], T0 + 2 * MIN + 1);
  assert.ok(allow.create);
  assert.equal(allow.delete.length, 0);
});

test('finished Jobs leave active, set lastSuccessfulTime, and are pruned beyond the history limits', () => {
  const jobs = [jobOf(T0 + MIN, 'Complete'), jobOf(T0 + 2 * MIN, 'Complete'), jobOf(T0 + 3 * MIN, 'Failed'), jobOf(T0 + 4 * MIN, 'Failed'), jobOf(T0 + 5 * MIN)];
  const cj = cronJob({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }, { lastScheduleTime: iso(T0 + 5 * MIN), active: jobs.map((j) => ({ uid: j.metadata?.uid })) });
  const p = syncCronJob(cj, jobs, T0 + 5 * MIN + 30_000);
  assert.deepEqual(p.status.active?.map((r) => r.name), [`tick-${T0 / MIN + 5}`]);
  assert.equal(p.status.lastSuccessfulTime, iso(T0 + 2 * MIN + 5000));
  assert.deepEqual(p.delete.map((j) => j.metadata?.name).sort(), [`tick-${T0 / MIN + 1}`, `tick-${T0 / MIN + 3}`]);
  assert.ok(p.events.some((e) => e.reason === 'SawCompletedJob'));
});

test('suspend: no runs; a bad schedule or zone: an event, no crash', () => {
  assert.equal(syncCronJob(cronJob({ suspend: true }), [], T0 + 10 * MIN).create, undefined);
  const bad = syncCronJob(cronJob({ schedule: 'every minute' }), [], T0 + 10 * MIN);
  assert.equal(bad.events[0].reason, 'InvalidSchedule');
  assert.equal(syncCronJob(cronJob({ timeZone: 'Mars/Olympus' }), [], T0 + 10 * MIN).events[0].reason, 'UnknownTimeZone');
});
