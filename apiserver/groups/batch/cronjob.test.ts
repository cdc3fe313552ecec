import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJob } from 'kubernetes-types/batch/v1';
import { validateCronJob } from './cronjob';

const cj = (spec: object): CronJob => ({ metadata: { name: 'c' }, spec: { schedule: '*/1 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } } }, ...spec } });
const errs = (o: CronJob) => validateCronJob(o).map((e) => `${e.field}: ${e.message}`);

test('cronjobs: a malformed schedule gets Kubernetes\' error text', () => {
  assert.deepEqual(errs(cj({})), []);
  assert.deepEqual(errs(cj({ schedule: '@hourly' })), []);
  assert.deepEqual(errs(cj({ schedule: '* * * *' })), ['spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]']);
  assert.deepEqual(errs(cj({ schedule: '@sometimes' })), ['spec.schedule: Invalid value: "@sometimes": unrecognized descriptor: @sometimes']);
  assert.deepEqual(errs(cj({ schedule: 'TZ=UTC 0 * * * *' })), ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']);
  assert.deepEqual(errs(cj({ timeZone: 'Mars/Base' })), ['spec.timeZone: Invalid value: "Mars/Base": unknown time zone Mars/Base']);
  assert.deepEqual(errs(cj({ timeZone: 'Europe/Berlin' })), []);
});
