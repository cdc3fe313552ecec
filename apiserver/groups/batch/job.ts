import type { Job, JobSpec } from 'kubernetes-types/batch/v1';
import { humanDuration } from '../../../lib/duration';
import { withStatus } from '../shared/defs';
import { type FieldError, immutable, invalid, nonNegInt, notSupported, required } from '../shared/fields';
import { isObject, objectOr } from '../../json';
import { validateJobPolicies, validateJobPoliciesUpdate } from './job-policies';
import { templateDefaults, validateSelectorAndTemplate } from '../shared/pod-template';
import { AGE, images, NAME, names, objectAge, selectorOf } from '../shared/printers';
import type { ResourceDef } from '../types';
import type { ApiObject } from '../../api-object';

/** Job (batch/v1): defaults, a selector generated from the Job's uid, validation, printer columns. */

export function defaultJobSpec(s: JobSpec | undefined): void {
  if (!s || typeof s !== 'object') return;
  if (s.completions === undefined && s.parallelism === undefined) { s.completions = 1; s.parallelism = 1; }
  s.parallelism ??= 1;
  s.backoffLimit ??= s.backoffLimitPerIndex !== undefined ? 2147483647 : 6;
  s.completionMode ??= 'NonIndexed';
  s.suspend ??= false;
  // a podFailurePolicy allows only Failed (Kubernetes defaults it so)
  s.podReplacementPolicy ??= s.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  templateDefaults(s.template);
}

/** Jobs get a selector on their own uid unless manualSelector (Kubernetes' job strategy). */
function generateJobSelector(o: Job & ApiObject): void {
  const s = o.spec;
  if (!s || typeof s !== 'object' || s.manualSelector === true) return;
  const uid = o.metadata.uid as string; // set by beforeCreate, before prepareForCreate
  // a generated name is not known yet: the label's value is then undefined, dropped when stored
  const name = o.metadata.name as string;
  const labels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name };
  if (s.template && typeof s.template === 'object') {
    s.template.metadata ??= {};
    s.template.metadata.labels = { ...(s.template.metadata.labels ?? {}), ...labels };
  }
  s.selector ??= { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
}

export function validateJob(o: Job, old?: Job): FieldError[] {
  const s = o.spec;
  if (!isObject(s)) return [required('spec')];
  const errs = validateSelectorAndTemplate(s, { restartPolicies: ['OnFailure', 'Never'] });
  const tplSpec = objectOr(s.template).spec;
  if (isObject(tplSpec) && tplSpec.restartPolicy === undefined) errs.push(required('spec.template.spec.restartPolicy'));
  for (const f of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished']) {
    if (s[f] !== undefined && s[f] !== null && !nonNegInt(s[f])) errs.push(invalid(`spec.${f}`, s[f], 'must be greater than or equal to 0'));
  }
  if (s.completionMode !== undefined && !['NonIndexed', 'Indexed'].includes(s.completionMode as string)) errs.push(notSupported('spec.completionMode', s.completionMode, ['NonIndexed', 'Indexed']));
  if (old && JSON.stringify(old.spec?.template) !== JSON.stringify(s.template) && !old.spec?.suspend) errs.push(invalid('spec.template', s.template, 'field is immutable'));
  if (old) errs.push(...immutable('spec.selector', s.selector, old.spec?.selector));
  if (old) errs.push(...immutable('spec.completionMode', s.completionMode, old.spec?.completionMode));
  errs.push(...validateJobPolicies(s));
  if (old) errs.push(...validateJobPoliciesUpdate(s, old.spec));
  // completions may change only for Indexed jobs, together with parallelism (elastic indexed jobs)
  if (old && !(s.completionMode === 'Indexed' && s.completions === s.parallelism)) errs.push(...immutable('spec.completions', s.completions, old.spec?.completions));
  return errs;
}

function jobStatus(j: Job): string {
  const conds = (j.status?.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type);
  if (j.metadata?.deletionTimestamp) return 'Terminating';
  for (const t of ['Complete', 'Failed', 'FailureTarget', 'SuccessCriteriaMet', 'Suspended']) if (conds.includes(t)) return t;
  return 'Running';
}

function jobCompletions(j: Job): string {
  const ok = j.status?.succeeded ?? 0;
  if (j.spec?.completions !== undefined && j.spec?.completions !== null) return `${ok}/${j.spec.completions}`;
  const par = j.spec?.parallelism ?? 0;
  return par > 1 ? `${ok}/1 of ${par}` : `${ok}/1`;
}

function jobDuration(j: Job, now: Date): string {
  const start = j.status?.startTime;
  if (!start) return '';
  const end = j.status?.completionTime ? Date.parse(j.status.completionTime) : now.getTime();
  return humanDuration(end - Date.parse(start));
}

export const JOB: ResourceDef = {
  ...withStatus, group: 'batch', kind: 'Job', listKind: 'JobList', plural: 'jobs', singular: 'job', categories: ['all'], fieldLabels: ['status.successful'],
  defaults(o: Job) { defaultJobSpec(o.spec); },
  prepareForCreate(o: Job & ApiObject) { generateJobSelector(o); o.status = {}; },
  validate: (o, _c, old) => validateJob(o, old),
  printer: {
    columns: [NAME, ['Status', 'string'], ['Completions', 'string'], ['Duration', 'string'], AGE, ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    cells(o: Job, now) {
      const cs = o.spec?.template?.spec?.containers;
      return [o.metadata?.name, jobStatus(o), jobCompletions(o), jobDuration(o, now), objectAge(o, now), names(cs), images(cs), selectorOf(o.spec?.selector)];
    },
  },
};
