import type { CronJob, CronJobSpec, JobSpec } from 'kubernetes-types/batch/v1';
import { withStatus } from '../shared/defs';
import { type FieldError, invalid, nonNegInt, notSupported, required } from '../shared/fields';
import { CronScheduleError, isKnownTimeZone, parseCronSchedule } from '../../../lib/cron-schedule';
import { isObject, objectOr } from '../../json';
import { validateJobPolicies } from './job-policies';
import { templateDefaults, validateSelectorAndTemplate } from '../shared/pod-template';
import { AGE, images, NAME, names, objectAge, orNone, selectorOf, since } from '../shared/printers';
import type { ResourceDef } from '../types';

/** CronJob (batch/v1). */

/** Kubernetes' validateScheduleFormat: robfig/cron's parse error, and no TZ= in the schedule (the timeZone field says it). */
function validateSchedule(schedule: string, timeZone: unknown): FieldError[] {
  const errs: FieldError[] = [];
  try {
    parseCronSchedule(schedule);
  } catch (err) {
    if (!(err instanceof CronScheduleError)) throw err;
    errs.push(invalid('spec.schedule', schedule, err.message));
  }
  if (schedule.includes('TZ')) errs.push(invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  if (timeZone !== undefined && timeZone !== null) {
    if (typeof timeZone !== 'string' || !isKnownTimeZone(timeZone)) errs.push(invalid('spec.timeZone', timeZone, `unknown time zone ${String(timeZone)}`));
  }
  return errs;
}

export function validateCronJob(o: CronJob): FieldError[] {
  const s = o.spec;
  if (!isObject(s)) return [required('spec')];
  const errs: FieldError[] = [];
  if (!s.schedule) errs.push(required('spec.schedule'));
  else if (typeof s.schedule !== 'string') errs.push(invalid('spec.schedule', s.schedule, 'must be a string'));
  else errs.push(...validateSchedule(s.schedule, s.timeZone));
  if (s.startingDeadlineSeconds !== undefined && s.startingDeadlineSeconds !== null && !nonNegInt(s.startingDeadlineSeconds)) errs.push(invalid('spec.startingDeadlineSeconds', s.startingDeadlineSeconds, 'must be greater than or equal to 0'));
  if (s.concurrencyPolicy !== undefined && !['Allow', 'Forbid', 'Replace'].includes(s.concurrencyPolicy as string)) errs.push(notSupported('spec.concurrencyPolicy', s.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
  const js = objectOr(s.jobTemplate).spec;
  if (!isObject(js)) errs.push(required('spec.jobTemplate.spec'));
  else errs.push(...[...validateSelectorAndTemplate(js, { restartPolicies: ['OnFailure', 'Never'], selectorRequired: false }), ...validateJobPolicies(js as unknown as JobSpec)].map((e) => ({ ...e, field: e.field.replace(/^spec\./, 'spec.jobTemplate.spec.') })));
  if (o.metadata?.name && o.metadata.name.length > 52) errs.push(invalid('metadata.name', o.metadata.name, 'must be no more than 52 characters'));
  return errs;
}

export const CRON_JOB: ResourceDef = {
  ...withStatus, group: 'batch', kind: 'CronJob', listKind: 'CronJobList', plural: 'cronjobs', singular: 'cronjob', shortNames: ['cj'], categories: ['all'],
  defaults(o: CronJob) {
    const s = (o.spec ??= {} as CronJobSpec); // a missing spec becomes {}; validation then reports its required fields
    s.concurrencyPolicy ??= 'Allow';
    s.suspend ??= false;
    s.successfulJobsHistoryLimit ??= 3;
    s.failedJobsHistoryLimit ??= 1;
    if (s.jobTemplate?.spec) {
      const js = s.jobTemplate.spec;
      js.backoffLimit ??= 6; js.completionMode ??= 'NonIndexed'; js.suspend ??= false; js.podReplacementPolicy ??= js.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
      if (js.completions === undefined && js.parallelism === undefined) { js.completions = 1; js.parallelism = 1; }
      templateDefaults(js.template);
    }
  },
  prepareForCreate(o: CronJob) { o.status = {}; },
  validate: (o) => validateCronJob(o),
  printer: {
    columns: [NAME, ['Schedule', 'string'], ['Timezone', 'string'], ['Suspend', 'boolean'], ['Active', 'integer'], ['Last Schedule', 'string'], AGE,
      ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    cells(o: CronJob, now) {
      const js = o.spec?.jobTemplate?.spec;
      const cs = js?.template?.spec?.containers;
      const last = o.status?.lastScheduleTime ? since(o.status.lastScheduleTime, now) : '<none>';
      return [o.metadata?.name, o.spec?.schedule ?? '', orNone(o.spec?.timeZone), o.spec?.suspend === true ? 'True' : 'False', (o.status?.active ?? []).length, last, objectAge(o, now),
        names(cs), images(cs), selectorOf(js?.selector)];
    },
  },
};
