import { parseQuantity } from '../lib/quantity';
import { isIP } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { fromLabelSelector, matchesLabels } from './selectors';
import type { StatusCause } from './errors';

/**
 * Validation of API objects: pure functions returning field errors in Kubernetes' wording
 * (`field: Required value`, `Invalid value: "X": ...`). An empty list means valid.
 */

export type FieldError = StatusCause & { field: string };

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export const required = (field: string): FieldError => ({ field, reason: 'FieldValueRequired', message: 'Required value' });
export const invalid = (field: string, value: unknown, detail: string): FieldError =>
  ({ field, reason: 'FieldValueInvalid', message: `Invalid value: ${typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value)}: ${detail}` });
export const notSupported = (field: string, value: unknown, allowed: string[]): FieldError =>
  ({ field, reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}` });
export const duplicate = (field: string, value: unknown): FieldError => ({ field, reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(value)}` });

export const forbidden = (field: string, detail: string): FieldError => ({ field, reason: 'FieldValueForbidden', message: `Forbidden: ${detail}` });

/** `field: Invalid value: …: field is immutable` when an update changed the value (deep, key order ignored). */
export function immutable(field: string, next: unknown, old: unknown): FieldError[] {
  return isDeepStrictEqual(next ?? null, old ?? null) ? [] : [invalid(field, next ?? null, 'field is immutable')];
}

export function isDns1123Label(s: string): boolean { return s.length <= 63 && DNS1123_LABEL.test(s); }
export function isDns1123Subdomain(s: string): boolean { return s.length <= 253 && DNS1123_SUBDOMAIN.test(s); }
export function isDns1035Label(s: string): boolean { return s.length <= 63 && DNS1035_LABEL.test(s); }

export const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_MSG = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

/** 'path': any path segment (RBAC objects: "system:node"), as Kubernetes' ValidatePathSegmentName. */
export type NameRule = 'subdomain' | 'label' | 'dns1035' | 'path';

export function validateName(name: unknown, rule: NameRule, field = 'metadata.name'): FieldError[] {
  if (typeof name !== 'string' || name === '') return [required(field)];
  if (rule === 'path') {
    if (name === '.' || name === '..') return [invalid(field, name, `may not be '${name}'`)];
    if (/[/%]/.test(name)) return [invalid(field, name, `may not contain '${name.includes('/') ? '/' : '%'}'`)];
    // control characters would not survive store keys and continue tokens
    if (/[\x00-\x1f\x7f]/.test(name) || name.length > 253 || !(name as any).isWellFormed()) return [invalid(field, name, 'must be at most 253 printable characters')];
    return [];
  }
  const ok = rule === 'label' ? isDns1123Label(name) : rule === 'dns1035' ? isDns1035Label(name) : isDns1123Subdomain(name);
  return ok ? [] : [invalid(field, name, rule === 'label' ? LABEL_MSG : rule === 'dns1035' ? DNS1035_MSG : SUBDOMAIN_MSG)];
}

function validateLabelKey(k: string): boolean {
  const parts = k.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1];
  if (parts.length === 2 && !(parts[0].length <= 253 && isDns1123Subdomain(parts[0]))) return false;
  return name.length > 0 && name.length <= 63 && QUALIFIED_NAME.test(name);
}

export function validateObjectMeta(meta: any, nameRule: NameRule, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (meta == null || typeof meta !== 'object') return [required('metadata')];
  if (!meta.name && !meta.generateName) errs.push({ field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' });
  else if (meta.name) errs.push(...validateName(meta.name, nameRule));
  else if (typeof meta.generateName !== 'string') errs.push(invalid('metadata.generateName', meta.generateName, 'must be a string'));
  else {
    // the prefix plus the 5-character suffix must make a valid name (Kubernetes' prefix validation)
    const g: string = meta.generateName;
    const probe = nameRule === 'path' ? g : g.length > 1 && g.endsWith('-') ? g.slice(0, -2) + 'a' : g;
    if (validateName(probe, nameRule).length || meta.generateName.length > 248) {
      errs.push(...validateName(probe, nameRule, 'metadata.generateName').map((e) => ({ ...e, message: e.message.replace(JSON.stringify(probe), JSON.stringify(meta.generateName)) })));
      if (!errs.some((e) => e.field === 'metadata.generateName')) errs.push(invalid('metadata.generateName', meta.generateName, 'must be no more than 248 characters'));
    }
  }
  if (namespaced && meta.namespace !== undefined) errs.push(...validateName(meta.namespace, 'label', 'metadata.namespace'));
  for (const [field, map] of [['metadata.labels', meta.labels], ['metadata.annotations', meta.annotations]] as const) {
    if (map === undefined || map === null) continue;
    if (typeof map !== 'object' || Array.isArray(map)) { errs.push(invalid(field, map, 'must be a map of string to string')); continue; }
    for (const [k, v] of Object.entries(map)) {
      if (!validateLabelKey(k)) errs.push(invalid(field, k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
      if (typeof v !== 'string') errs.push(invalid(`${field}[${k}]`, v, 'must be a string'));
      else if (field === 'metadata.labels' && (v.length > 63 || !LABEL_VALUE.test(v))) errs.push(invalid(`${field}`, v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
    }
  }
  return errs;
}

export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
export const validPort = (p: unknown) => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;

function validateContainers(list: any, field: string, requireOne: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) return requireOne ? [required(field)] : [];
  if (!Array.isArray(list)) return [invalid(field, list, 'must be a list')];
  const seen = new Set<string>();
  list.forEach((c: any, i: number) => {
    const f = `${field}[${i}]`;
    if (!c || typeof c !== 'object') { errs.push(invalid(f, c, 'must be an object')); return; }
    if (!c.name) errs.push(required(`${f}.name`));
    else {
      errs.push(...validateName(c.name, 'label', `${f}.name`));
      if (seen.has(c.name)) errs.push(duplicate(`${f}.name`, c.name));
      seen.add(c.name);
    }
    if (!c.image || typeof c.image !== 'string' || !c.image.trim()) errs.push(required(`${f}.image`));
    (c.ports ?? []).forEach((p: any, j: number) => {
      if (!validPort(p?.containerPort)) errs.push(invalid(`${f}.ports[${j}].containerPort`, p?.containerPort, 'must be between 1 and 65535, inclusive'));
      if (p?.hostPort !== undefined && p.hostPort !== 0 && !validPort(p.hostPort)) errs.push(invalid(`${f}.ports[${j}].hostPort`, p.hostPort, 'must be between 1 and 65535, inclusive'));
      if (p?.protocol !== undefined && !PROTOCOLS.includes(p.protocol)) errs.push(notSupported(`${f}.ports[${j}].protocol`, p.protocol, PROTOCOLS));
    });
    (c.env ?? []).forEach((e: any, j: number) => { if (!e?.name) errs.push(required(`${f}.env[${j}].name`)); });
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

export function validatePodSpec(spec: any, field: string, opts: { templateRestartAlways?: boolean } = {}): FieldError[] {
  if (!spec || typeof spec !== 'object') return [required(field)];
  const errs = [...validateContainers(spec.containers, `${field}.containers`, true), ...validateContainers(spec.initContainers, `${field}.initContainers`, false)];
  const policies = opts.templateRestartAlways ? ['Always'] : ['Always', 'OnFailure', 'Never'];
  if (spec.restartPolicy !== undefined && !policies.includes(spec.restartPolicy)) errs.push(notSupported(`${field}.restartPolicy`, spec.restartPolicy, policies));
  const vols = new Set<string>();
  (spec.volumes ?? []).forEach((v: any, i: number) => {
    if (!v?.name) errs.push(required(`${field}.volumes[${i}].name`));
    else if (vols.has(v.name)) errs.push(duplicate(`${field}.volumes[${i}].name`, v.name));
    else vols.add(v.name);
  });
  if (spec.nodeName !== undefined && spec.nodeName !== '' && !isDns1123Subdomain(String(spec.nodeName))) errs.push(invalid(`${field}.nodeName`, spec.nodeName, SUBDOMAIN_MSG));
  return errs;
}

export function validatePod(pod: any, old?: any): FieldError[] {
  const errs = validatePodSpec(pod.spec, 'spec');
  if (old) errs.push(...validatePodUpdate(pod, old));
  return errs;
}

const POD_UPDATE_MSG = 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,'
  + '`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/**
 * A pod's spec is immutable but for container images, activeDeadlineSeconds (set, or lowered),
 * tolerations (additions only) and the removal of scheduling gates (Kubernetes' ValidatePodUpdate).
 */
export function validatePodUpdate(pod: any, old: any): FieldError[] {
  const next = pod.spec;
  const prev = old.spec;
  if (!next || typeof next !== 'object' || !prev || typeof prev !== 'object') return [];
  const errs: FieldError[] = [];
  const ad = next.activeDeadlineSeconds;
  const oldAd = prev.activeDeadlineSeconds;
  if (oldAd != null && (ad == null || ad > oldAd)) errs.push(invalid('spec.activeDeadlineSeconds', ad ?? null, 'must be less than or equal to previous value'));
  const oldTol: unknown[] = Array.isArray(prev.tolerations) ? prev.tolerations : [];
  const newTol: unknown[] = Array.isArray(next.tolerations) ? next.tolerations : [];
  if (oldTol.some((t) => !newTol.some((n) => isDeepStrictEqual(n, t)))) errs.push(forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
  const oldGates: any[] = Array.isArray(prev.schedulingGates) ? prev.schedulingGates : [];
  const newGates: any[] = Array.isArray(next.schedulingGates) ? next.schedulingGates : [];
  if (newGates.some((g) => !oldGates.some((o) => isDeepStrictEqual(o, g)))) errs.push(forbidden('spec.schedulingGates', 'only deletion is allowed, but found new scheduling gate'));
  // compare what is left once the mutable fields are taken from the old spec
  const masked = { ...next, activeDeadlineSeconds: prev.activeDeadlineSeconds, tolerations: prev.tolerations, schedulingGates: prev.schedulingGates };
  if (next.terminationGracePeriodSeconds === 1 && typeof prev.terminationGracePeriodSeconds === 'number' && prev.terminationGracePeriodSeconds < 0) masked.terminationGracePeriodSeconds = prev.terminationGracePeriodSeconds;
  for (const list of ['containers', 'initContainers'] as const) {
    if (Array.isArray(next[list]) && Array.isArray(prev[list]) && next[list].length === prev[list].length) {
      masked[list] = next[list].map((c: any, i: number) => (c && typeof c === 'object' ? { ...c, image: prev[list][i]?.image } : c));
    }
  }
  for (const k of Object.keys(masked)) if (masked[k] === undefined) delete masked[k];
  const prevClean = Object.fromEntries(Object.entries(prev).filter(([, v]) => v !== undefined));
  if (!isDeepStrictEqual(masked, prevClean)) errs.push(forbidden('spec', POD_UPDATE_MSG));
  return errs;
}

/** Deployments and ReplicaSets: selector required, non-empty, matching the template's labels. */
export function validateWorkload(obj: any, kind: 'Deployment' | 'ReplicaSet', old?: any): FieldError[] {
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
  if (kind === 'Deployment' && spec.strategy?.type !== undefined && !['RollingUpdate', 'Recreate'].includes(spec.strategy.type)) {
    errs.push(notSupported('spec.strategy.type', spec.strategy.type, ['Recreate', 'RollingUpdate']));
  }
  // apps/v1: the selector is immutable
  if (old?.spec) errs.push(...immutable('spec.selector', spec.selector, old.spec.selector));
  return errs;
}

export function validateEndpoints(ep: any): FieldError[] {
  const errs: FieldError[] = [];
  if (ep.subsets !== undefined && ep.subsets !== null && !Array.isArray(ep.subsets)) return [invalid('subsets', ep.subsets, 'must be a list')];
  (ep.subsets ?? []).forEach((ss: any, i: number) => {
    for (const field of ['addresses', 'notReadyAddresses']) {
      const list = ss?.[field] ?? [];
      if (!Array.isArray(list)) { errs.push(invalid(`subsets[${i}].${field}`, list, 'must be a list')); continue; }
      list.forEach((a: any, j: number) => {
        if (a?.ip === undefined || a?.ip === '') errs.push(required(`subsets[${i}].${field}[${j}].ip`));
        else if (typeof a.ip !== 'string' || !isIP(a.ip)) errs.push(invalid(`subsets[${i}].${field}[${j}].ip`, a.ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
      });
    }
    if (ss?.ports !== undefined && ss.ports !== null && !Array.isArray(ss.ports)) { errs.push(invalid(`subsets[${i}].ports`, ss.ports, 'must be a list')); return; }
    (ss.ports ?? []).forEach((p: any, j: number) => { if (!validPort(p?.port)) errs.push(invalid(`subsets[${i}].ports[${j}].port`, p?.port, 'must be between 1 and 65535, inclusive')); });
  });
  return errs;
}

export function validateEvent(ev: any): FieldError[] {
  const errs: FieldError[] = [];
  if (!ev.involvedObject || typeof ev.involvedObject !== 'object') errs.push(required('involvedObject'));
  if (ev.type !== undefined && ev.type !== '' && !['Normal', 'Warning'].includes(ev.type)) errs.push(notSupported('type', ev.type, ['Normal', 'Warning']));
  return errs;
}

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** Nodes: taints (qualified-name key, known effect, unique key+effect) and podCIDR(s). */
export function validateNode(n: any, old?: any): FieldError[] {
  const errs: FieldError[] = [];
  const spec = n.spec ?? {};
  const seen = new Set<string>();
  (Array.isArray(spec.taints) ? spec.taints : []).forEach((t: any, i: number) => {
    const f = `spec.taints[${i}]`;
    if (typeof t?.key !== 'string' || !t.key) errs.push(required(`${f}.key`));
    else if (!validateLabelKey(t.key)) errs.push(invalid(`${f}.key`, t.key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
    if (t?.value !== undefined && t.value !== '' && (typeof t.value !== 'string' || t.value.length > 63 || !LABEL_VALUE.test(t.value))) errs.push(invalid(`${f}.value`, t.value, 'a valid label must be an empty string or consist of alphanumeric characters'));
    if (!TAINT_EFFECTS.includes(t?.effect)) errs.push(t?.effect ? notSupported(`${f}.effect`, t.effect, TAINT_EFFECTS) : required(`${f}.effect`));
    const k = `${t?.key}:${t?.effect}`;
    if (seen.has(k)) errs.push(duplicate(`${f}`, k));
    seen.add(k);
  });
  for (const [i, c] of [spec.podCIDR, ...(Array.isArray(spec.podCIDRs) ? spec.podCIDRs : [])].entries()) {
    if (c === undefined || c === '' || c === null) continue;
    const [ip, bits] = typeof c === 'string' ? c.split('/') : [];
    if (!ip || !isIP(ip) || bits === undefined || !/^\d{1,3}$/.test(bits) || Number(bits) > (isIP(ip) === 4 ? 32 : 128)) errs.push(invalid(i === 0 ? 'spec.podCIDR' : `spec.podCIDRs[${i - 1}]`, c, 'must be a valid CIDR'));
  }
  // podCIDR(s) and providerID may go from unset to set, never change after (ValidateNodeUpdate)
  const prev = old?.spec ?? {};
  const oldCidrs: unknown[] = Array.isArray(prev.podCIDRs) && prev.podCIDRs.length ? prev.podCIDRs : prev.podCIDR ? [prev.podCIDR] : [];
  const newCidrs: unknown[] = Array.isArray(spec.podCIDRs) && spec.podCIDRs.length ? spec.podCIDRs : spec.podCIDR ? [spec.podCIDR] : [];
  if (old && oldCidrs.length && !isDeepStrictEqual(oldCidrs, newCidrs)) errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  if (old && prev.providerID && prev.providerID !== spec.providerID) errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  return errs;
}
