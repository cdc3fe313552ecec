import type { CronJob, CronJobSpec } from 'kubernetes-types/batch/v1';
import { withStatus } from '../shared/defs';
import { type FieldError, invalid, notSupported, required } from '../shared/fields';
import { isObject, objectOr } from '../../json';
import { templateDefaults, validateSelectorAndTemplate } from '../shared/pod-template';
import { AGE, images, NAME, names, objectAge, orNone, selectorOf, since } from '../shared/printers';
import type { ResourceDef } from '../types';

/** CronJob (batch/v1). */

/** A standard 5-field cron schedule (or a @macro). */
function validCron(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  const t = s.trim().replace(/^(CRON_)?TZ=\S+\s+/, '');
  if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly|every\s+\S+)$/.test(t)) return true;
  const parts = t.split(/\s+/);
  return parts.length === 5 && parts.every((p) => /^[\d*?/,\-A-Za-z]+$/.test(p));
}

export function validateCronJob(o: CronJob): FieldError[] {
  const s = o.spec;
  if (!isObject(s)) return [required('spec')];
  const errs: FieldError[] = [];
  if (!s.schedule) errs.push(required('spec.schedule'));
  else if (!validCron(s.schedule)) errs.push(invalid('spec.schedule', s.schedule, 'unparseable cron expression'));
  if (s.concurrencyPolicy !== undefined && !['Allow', 'Forbid', 'Replace'].includes(s.concurrencyPolicy as string)) errs.push(notSupported('spec.concurrencyPolicy', s.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
  const js = objectOr(s.jobTemplate).spec;
  if (!isObject(js)) errs.push(required('spec.jobTemplate.spec'));
  else errs.push(...validateSelectorAndTemplate(js, { restartPolicies: ['OnFailure', 'Never'], selectorRequired: false }).map((e) => ({ ...e, field: e.field.replace(/^spec\./, 'spec.jobTemplate.spec.') })));
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
      js.backoffLimit ??= 6; js.completionMode ??= 'NonIndexed'; js.suspend ??= false; js.podReplacementPolicy ??= 'TerminatingOrFailed';
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
