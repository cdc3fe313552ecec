import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import type { Container, ContainerPort, EnvVar, PodSpec, PodTemplateSpec, Volume } from 'kubernetes-types/core/v1';
import { parseQuantity } from '../../../lib/quantity';
import { duplicate, type FieldError, immutable, invalid, notSupported, PROTOCOLS, required, validPort } from './fields';
import { isDns1123Subdomain, SUBDOMAIN_MSG, validateName } from './object-meta';
import { fromLabelSelector, matchesLabels } from '../../selectors';

/**
 * Pod specs and pod templates, shared by Pods and every workload kind: defaulting (Kubernetes'
 * pkg/apis/core/v1/defaults.go) and validation (containers, volumes, restart policy, a
 * template matching its selector). Pure.
 */

function defaultImagePullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.split('/').pop() ?? image;
  const tag = last.includes(':') ? last.split(':').pop() : undefined;
  return !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

export function defaultPodSpec(spec: PodSpec | undefined): void {
  if (!spec || typeof spec !== 'object') return;
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  // v1 conversion keeps the deprecated serviceAccount and serviceAccountName in step.
  if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName && !spec.serviceAccount) spec.serviceAccount = spec.serviceAccountName;
  else if (typeof spec.serviceAccount === 'string' && spec.serviceAccount && !spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount;
  for (const list of [spec.containers, spec.initContainers]) {
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (!c || typeof c !== 'object') continue;
      if (typeof c.image === 'string' && c.image) c.imagePullPolicy ??= defaultImagePullPolicy(c.image);
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.resources ??= {};
      // requests default to limits (Kubernetes: SetDefaults_ResourceList for containers)
      const r = c.resources;
      if (r && typeof r === 'object' && r.limits && typeof r.limits === 'object') {
        for (const [k, v] of Object.entries(r.limits)) {
          if (r.requests?.[k] === undefined) r.requests = { ...(r.requests ?? {}), [k]: v };
        }
      }
      for (const p of c.ports ?? []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
    }
  }
}

/** Defaults of a pod template (spec.template of a workload). */
export const templateDefaults = (tpl: PodTemplateSpec | undefined) => { if (tpl && typeof tpl === 'object') defaultPodSpec(tpl.spec); };

function validateContainers(list: Container[] | undefined, field: string, requireOne: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) return requireOne ? [required(field)] : [];
  if (!Array.isArray(list)) return [invalid(field, list, 'must be a list')];
  const seen = new Set<string>();
  list.forEach((c: Container | null, i: number) => {
    const f = `${field}[${i}]`;
    if (!c || typeof c !== 'object') { errs.push(invalid(f, c, 'must be an object')); return; }
    if (!c.name) errs.push(required(`${f}.name`));
    else {
      errs.push(...validateName(c.name, 'label', `${f}.name`));
      if (seen.has(c.name)) errs.push(duplicate(`${f}.name`, c.name));
      seen.add(c.name);
    }
    if (!c.image || typeof c.image !== 'string' || !c.image.trim()) errs.push(required(`${f}.image`));
    (c.ports ?? []).forEach((p: ContainerPort | null, j: number) => {
      if (!validPort(p?.containerPort)) errs.push(invalid(`${f}.ports[${j}].containerPort`, p?.containerPort, 'must be between 1 and 65535, inclusive'));
      if (p?.hostPort !== undefined && p.hostPort !== 0 && !validPort(p.hostPort)) errs.push(invalid(`${f}.ports[${j}].hostPort`, p.hostPort, 'must be between 1 and 65535, inclusive'));
      if (p?.protocol !== undefined && !PROTOCOLS.includes(p.protocol)) errs.push(notSupported(`${f}.ports[${j}].protocol`, p.protocol, PROTOCOLS));
    });
    (c.env ?? []).forEach((e: EnvVar | null, j: number) => { if (!e?.name) errs.push(required(`${f}.env[${j}].name`)); });
    for (const kind of ['limits', 'requests'] as const) {
      const m = c.resources?.[kind];
      if (!m || typeof m !== 'object') continue;
      for (const [r, q] of Object.entries(m)) {
        const n = typeof q === 'string' || typeof q === 'number' ? parseQuantity(q) : undefined;
        if (n === undefined) errs.push(invalid(`${f}.resources.${kind}[${r}]`, q, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
        else if (n < 0) errs.push(invalid(`${f}.resources.${kind}[${r}]`, q, 'must be greater than or equal to 0'));
      }
    }
    if (c.imagePullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy)) errs.push(notSupported(`${f}.imagePullPolicy`, c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']));
  });
  return errs;
}

export function validatePodSpec(spec: PodSpec | undefined, field: string, opts: { templateRestartAlways?: boolean } = {}): FieldError[] {
  if (!spec || typeof spec !== 'object') return [required(field)];
  const errs = [...validateContainers(spec.containers, `${field}.containers`, true), ...validateContainers(spec.initContainers, `${field}.initContainers`, false)];
  const policies = opts.templateRestartAlways ? ['Always'] : ['Always', 'OnFailure', 'Never'];
  if (spec.restartPolicy !== undefined && !policies.includes(spec.restartPolicy)) errs.push(notSupported(`${field}.restartPolicy`, spec.restartPolicy, policies));
  const vols = new Set<string>();
  (spec.volumes ?? []).forEach((v: Volume | null, i: number) => {
    if (!v?.name) errs.push(required(`${field}.volumes[${i}].name`));
    else if (vols.has(v.name)) errs.push(duplicate(`${field}.volumes[${i}].name`, v.name));
    else vols.add(v.name);
  });
  if (spec.nodeName !== undefined && spec.nodeName !== '' && !isDns1123Subdomain(String(spec.nodeName))) errs.push(invalid(`${field}.nodeName`, spec.nodeName, SUBDOMAIN_MSG));
  return errs;
}

/**
 * Replicated workloads (Deployments, ReplicaSets): replicas, a selector required, non-empty and
 * matching the template's labels, a valid pod template; `extra` adds the kind's own checks.
 */
export function validateReplicatedWorkload<W extends Deployment | ReplicaSet>(obj: W, old?: W, extra: (spec: NonNullable<W['spec']>) => FieldError[] = () => []): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj.spec;
  if (!spec || typeof spec !== 'object') return [required('spec')];
  if (spec.replicas !== undefined && !(Number.isInteger(spec.replicas) && spec.replicas >= 0)) errs.push(invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  const sel = spec.selector;
  if (!sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length)) errs.push(required('spec.selector'));
  const labels = spec.template?.metadata?.labels;
  if (!spec.template) errs.push(required('spec.template'));
  else {
    if (sel && (Object.keys(sel.matchLabels ?? {}).length || (sel.matchExpressions ?? []).length)) {
      let ok = false;
      try { ok = matchesLabels(fromLabelSelector(sel), labels ?? {}); } catch { errs.push(invalid('spec.selector', sel, 'invalid label selector')); ok = true; }
      if (!ok) errs.push(invalid('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`'));
    }
    errs.push(...validatePodSpec(spec.template.spec, 'spec.template.spec', { templateRestartAlways: true }));
  }
  errs.push(...extra(spec));
  // apps/v1: the selector is immutable
  if (old?.spec) errs.push(...immutable('spec.selector', spec.selector, old.spec.selector));
  return errs;
}

/** The selector and pod template every workload spec has (StatefulSet, DaemonSet, Job). */
export interface WorkloadSpec { selector?: LabelSelector; template?: PodTemplateSpec }

export function validateSelectorAndTemplate(spec: WorkloadSpec, opts: { restartPolicies?: string[]; selectorRequired?: boolean } = {}): FieldError[] {
  const errs: FieldError[] = [];
  const sel = spec.selector;
  const empty = !sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length);
  if (empty && opts.selectorRequired !== false) errs.push(required('spec.selector'));
  if (!spec.template) { errs.push(required('spec.template')); return errs; }
  if (!empty) {
    let ok = false;
    try { ok = matchesLabels(fromLabelSelector(sel), spec.template.metadata?.labels ?? {}); } catch { errs.push(invalid('spec.selector', sel, 'invalid label selector')); ok = true; }
    if (!ok) errs.push(invalid('spec.template.metadata.labels', spec.template.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
  }
  const policies = opts.restartPolicies ?? ['Always'];
  const rp = spec.template.spec?.restartPolicy;
  const errsPod = validatePodSpec(spec.template.spec, 'spec.template.spec').filter((e) => e.field !== 'spec.template.spec.restartPolicy');
  errs.push(...errsPod);
  if (rp !== undefined && !policies.includes(rp)) errs.push(notSupported('spec.template.spec.restartPolicy', rp, policies));
  return errs;
}
