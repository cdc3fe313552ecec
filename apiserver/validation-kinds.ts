import { fromLabelSelector, matchesLabels } from './selectors';
import { type FieldError, duplicate, forbidden, immutable, invalid, isDns1123Label, isDns1123Subdomain, notSupported, required, validatePodSpec } from './validation';
import { parseQuantity } from '../lib/quantity';

/**
 * Validation of the kinds beyond the walking skeleton's (configuration, storage, workloads,
 * networking, policy, RBAC). Pure; Kubernetes' wording. Each function checks what Kubernetes
 * rejects most often, not every rule of pkg/apis/<group>/validation.
 */

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonNegInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;

function validateConfigKeys(map: unknown, field: string, opts: { base64?: boolean; strings?: boolean } = {}): FieldError[] {
  if (map === undefined || map === null) return [];
  if (!isObj(map)) return [invalid(field, map, 'must be a map')];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(map)) {
    if (!(k.length <= 253 && CONFIG_KEY.test(k))) errs.push(invalid(field, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
    if (opts.strings && typeof v !== 'string') errs.push(invalid(`${field}[${k}]`, v, 'must be a string'));
    if (opts.base64 && (typeof v !== 'string' || !BASE64.test(v))) errs.push(invalid(`${field}[${k}]`, '<value omitted>', 'illegal base64 data'));
  }
  return errs;
}

const IMMUTABLE_SET = 'field is immutable when `immutable` is set';

/** ConfigMaps and Secrets marked `immutable: true` keep their data and the mark. */
function immutableData(o: any, old: any, fields: string[]): FieldError[] {
  if (old?.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (o.immutable !== true) errs.push(forbidden('immutable', IMMUTABLE_SET));
  for (const f of fields) if (immutable(f, isObj(o[f]) && Object.keys(o[f]).length ? o[f] : null, isObj(old[f]) && Object.keys(old[f]).length ? old[f] : null).length) errs.push(forbidden(f, IMMUTABLE_SET));
  return errs;
}

export function validateConfigMap(cm: any, old?: any): FieldError[] {
  const errs = [...validateConfigKeys(cm.data, 'data', { strings: true }), ...validateConfigKeys(cm.binaryData, 'binaryData', { base64: true })];
  for (const k of Object.keys(isObj(cm.data) ? cm.data : {})) if (isObj(cm.binaryData) && k in cm.binaryData) errs.push(invalid('data', k, 'duplicate of key present in binaryData'));
  errs.push(...immutableData(cm, old, ['data', 'binaryData']));
  return errs;
}

export function validateSecret(s: any, old?: any): FieldError[] {
  const errs = validateConfigKeys(s.data, 'data', { base64: true });
  if (typeof s.type !== 'string') errs.push(required('type'));
  if (old && old.type !== s.type) errs.push(invalid('type', s.type, 'field is immutable'));
  const need = (key: string) => { if (!isObj(s.data) || !(key in s.data)) errs.push(required(`data[${key}]`)); };
  if (s.type === 'kubernetes.io/tls') { need('tls.crt'); need('tls.key'); }
  if (s.type === 'kubernetes.io/dockerconfigjson') need('.dockerconfigjson');
  if (s.type === 'kubernetes.io/basic-auth' && isObj(s.data) && !('username' in s.data) && !('password' in s.data)) errs.push(required('data[username]'));
  if (s.type === 'kubernetes.io/ssh-auth') need('ssh-privatekey');
  errs.push(...immutableData(s, old, ['data']));
  return errs;
}

/** Secrets: stringData is write-only, merged into data (base64) on every write. */
export function mergeStringData(s: any): void {
  if (isObj(s.stringData)) {
    s.data = { ...(isObj(s.data) ? s.data : {}) };
    for (const [k, v] of Object.entries(s.stringData)) s.data[k] = Buffer.from(String(v)).toString('base64');
  }
  delete s.stringData;
}

const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];

function validateAccessModes(modes: unknown, field: string): FieldError[] {
  if (!Array.isArray(modes) || modes.length === 0) return [required(field)];
  return modes.flatMap((m, i) => (ACCESS_MODES.includes(m) ? [] : [notSupported(`${field}[${i}]`, m, ACCESS_MODES)]));
}

function validateQuantity(v: unknown, field: string): FieldError[] {
  return parseQuantity(v) === undefined ? [invalid(field, v, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")] : [];
}

const PV_SOURCES = ['hostPath', 'local', 'nfs', 'csi', 'iscsi', 'fc', 'cephfs', 'rbd', 'azureDisk', 'azureFile', 'gcePersistentDisk', 'awsElasticBlockStore', 'flexVolume', 'glusterfs', 'vsphereVolume', 'portworxVolume', 'scaleIO', 'storageos', 'photonPersistentDisk', 'quobyte', 'cinder', 'flocker'];

export function validatePersistentVolume(pv: any, old?: any): FieldError[] {
  const s = pv.spec;
  if (!isObj(s)) return [required('spec')];
  const errs = validateAccessModes(s.accessModes, 'spec.accessModes');
  if (!isObj(s.capacity) || s.capacity.storage === undefined) errs.push(required('spec.capacity'));
  else errs.push(...validateQuantity(s.capacity.storage, 'spec.capacity[storage]'));
  const n = PV_SOURCES.filter((k) => s[k] !== undefined).length;
  if (n === 0) errs.push(required('spec'));
  else if (n > 1) errs.push({ field: 'spec', reason: 'FieldValueForbidden', message: 'Forbidden: may not specify more than 1 volume type' });
  if (s.persistentVolumeReclaimPolicy !== undefined && !['Retain', 'Delete', 'Recycle'].includes(s.persistentVolumeReclaimPolicy)) errs.push(notSupported('spec.persistentVolumeReclaimPolicy', s.persistentVolumeReclaimPolicy, ['Delete', 'Recycle', 'Retain']));
  if (old?.spec) {
    const source = (x: any) => Object.fromEntries(PV_SOURCES.filter((k) => x[k] !== undefined).map((k) => [k, x[k]]));
    if (immutable('spec', source(s), source(old.spec)).length) errs.push(forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
    errs.push(...immutable('spec.volumeMode', s.volumeMode, old.spec.volumeMode));
  }
  return errs;
}

export function validatePersistentVolumeClaim(pvc: any, old?: any): FieldError[] {
  const s = pvc.spec;
  if (!isObj(s)) return [required('spec')];
  const errs = validateAccessModes(s.accessModes, 'spec.accessModes');
  const storage = s.resources?.requests?.storage;
  if (storage === undefined) errs.push(required('spec.resources[storage]'));
  else errs.push(...validateQuantity(storage, 'spec.resources[storage]'));
  if (old && JSON.stringify({ ...old.spec, resources: undefined, volumeName: undefined }) !== JSON.stringify({ ...s, resources: undefined, volumeName: old.spec?.volumeName ? s.volumeName : undefined })) {
    errs.push({ field: 'spec', reason: 'FieldValueForbidden', message: 'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims' });
  }
  return errs;
}

export function validateResourceQuota(q: any): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(isObj(q.spec?.hard) ? q.spec.hard : {})) errs.push(...validateQuantity(v, `spec.hard[${k}]`));
  return errs;
}

export function validateLimitRange(lr: any): FieldError[] {
  const errs: FieldError[] = [];
  const limits = lr.spec?.limits;
  if (!Array.isArray(limits)) return [required('spec.limits')];
  limits.forEach((l: any, i: number) => {
    if (!l?.type) errs.push(required(`spec.limits[${i}].type`));
    for (const f of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) {
      for (const [k, v] of Object.entries(isObj(l?.[f]) ? l[f] : {})) errs.push(...validateQuantity(v, `spec.limits[${i}].${f}[${k}]`));
    }
  });
  return errs;
}

function validateSelectorAndTemplate(spec: any, opts: { restartPolicies?: string[]; selectorRequired?: boolean } = {}): FieldError[] {
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

export function validateStatefulSet(o: any, old?: any): FieldError[] {
  const s = o.spec;
  if (!isObj(s)) return [required('spec')];
  const errs = validateSelectorAndTemplate(s);
  if (s.replicas !== undefined && !nonNegInt(s.replicas)) errs.push(invalid('spec.replicas', s.replicas, 'must be greater than or equal to 0'));
  if (s.podManagementPolicy !== undefined && !['OrderedReady', 'Parallel'].includes(s.podManagementPolicy)) errs.push(notSupported('spec.podManagementPolicy', s.podManagementPolicy, ['OrderedReady', 'Parallel']));
  if (s.updateStrategy?.type !== undefined && !['RollingUpdate', 'OnDelete'].includes(s.updateStrategy.type)) errs.push(notSupported('spec.updateStrategy.type', s.updateStrategy.type, ['OnDelete', 'RollingUpdate']));
  if (old) {
    const frozen = (x: any) => JSON.stringify({ ...x.spec, replicas: 0, template: 0, updateStrategy: 0, persistentVolumeClaimRetentionPolicy: 0, minReadySeconds: 0, ordinals: 0, revisionHistoryLimit: 0 });
    if (frozen(o) !== frozen(old)) errs.push({ field: 'spec', reason: 'FieldValueForbidden', message: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden" });
  }
  return errs;
}

export function validateDaemonSet(o: any, old?: any): FieldError[] {
  const s = o.spec;
  if (!isObj(s)) return [required('spec')];
  const errs = validateSelectorAndTemplate(s);
  if (old?.spec) errs.push(...immutable('spec.selector', s.selector, old.spec.selector));
  if (s.updateStrategy?.type !== undefined && !['RollingUpdate', 'OnDelete'].includes(s.updateStrategy.type)) errs.push(notSupported('spec.updateStrategy.type', s.updateStrategy.type, ['OnDelete', 'RollingUpdate']));
  return errs;
}

export function validateControllerRevision(o: any, old?: any): FieldError[] {
  const errs = nonNegInt(o.revision) ? [] : [invalid('revision', o.revision, 'must be greater than or equal to 0')];
  if (old) errs.push(...immutable('data', o.data, old.data));
  return errs;
}

export function validateJob(o: any, old?: any): FieldError[] {
  const s = o.spec;
  if (!isObj(s)) return [required('spec')];
  const errs = validateSelectorAndTemplate(s, { restartPolicies: ['OnFailure', 'Never'] });
  if (s.template?.spec && s.template.spec.restartPolicy === undefined) errs.push(required('spec.template.spec.restartPolicy'));
  for (const f of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished']) {
    if (s[f] !== undefined && s[f] !== null && !nonNegInt(s[f])) errs.push(invalid(`spec.${f}`, s[f], 'must be greater than or equal to 0'));
  }
  if (s.completionMode !== undefined && !['NonIndexed', 'Indexed'].includes(s.completionMode)) errs.push(notSupported('spec.completionMode', s.completionMode, ['NonIndexed', 'Indexed']));
  if (old && JSON.stringify(old.spec?.template) !== JSON.stringify(s.template) && !old.spec?.suspend) errs.push(invalid('spec.template', s.template, 'field is immutable'));
  if (old) errs.push(...immutable('spec.selector', s.selector, old.spec?.selector));
  if (old) errs.push(...immutable('spec.completionMode', s.completionMode, old.spec?.completionMode));
  // completions may change only for Indexed jobs, together with parallelism (elastic indexed jobs)
  if (old && !(s.completionMode === 'Indexed' && s.completions === s.parallelism)) errs.push(...immutable('spec.completions', s.completions, old.spec?.completions));
  return errs;
}

/** A standard 5-field cron schedule (or a @macro). */
export function validCron(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  const t = s.trim().replace(/^(CRON_)?TZ=\S+\s+/, '');
  if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly|every\s+\S+)$/.test(t)) return true;
  const parts = t.split(/\s+/);
  return parts.length === 5 && parts.every((p) => /^[\d*?/,\-A-Za-z]+$/.test(p));
}

export function validateCronJob(o: any): FieldError[] {
  const s = o.spec;
  if (!isObj(s)) return [required('spec')];
  const errs: FieldError[] = [];
  if (!s.schedule) errs.push(required('spec.schedule'));
  else if (!validCron(s.schedule)) errs.push(invalid('spec.schedule', s.schedule, 'unparseable cron expression'));
  if (s.concurrencyPolicy !== undefined && !['Allow', 'Forbid', 'Replace'].includes(s.concurrencyPolicy)) errs.push(notSupported('spec.concurrencyPolicy', s.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
  const js = s.jobTemplate?.spec;
  if (!isObj(js)) errs.push(required('spec.jobTemplate.spec'));
  else errs.push(...validateSelectorAndTemplate(js, { restartPolicies: ['OnFailure', 'Never'], selectorRequired: false }).map((e) => ({ ...e, field: e.field.replace(/^spec\./, 'spec.jobTemplate.spec.') })));
  if (o.metadata?.name && o.metadata.name.length > 52) errs.push(invalid('metadata.name', o.metadata.name, 'must be no more than 52 characters'));
  return errs;
}

const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'];

function validateBackend(b: any, field: string): FieldError[] {
  if (!isObj(b)) return [required(field)];
  if (b.service && b.resource) return [{ field, reason: 'FieldValueForbidden', message: 'Forbidden: cannot set both resource and service backends' }];
  if (b.service) {
    const errs: FieldError[] = [];
    if (!b.service.name) errs.push(required(`${field}.service.name`));
    const p = b.service.port;
    if (!isObj(p) || (p.name === undefined && p.number === undefined)) errs.push(required(`${field}.service.port`));
    else if (p.number !== undefined && !(Number.isInteger(p.number) && p.number >= 1 && p.number <= 65535)) errs.push(invalid(`${field}.service.port.number`, p.number, 'must be between 1 and 65535, inclusive'));
    return errs;
  }
  if (b.resource) return b.resource.kind && b.resource.name ? [] : [required(`${field}.resource`)];
  return [required(field)];
}

export function validateIngress(o: any): FieldError[] {
  const s = o.spec;
  if (!isObj(s)) return [required('spec')];
  const errs: FieldError[] = [];
  if (s.defaultBackend !== undefined) errs.push(...validateBackend(s.defaultBackend, 'spec.defaultBackend'));
  if (!s.defaultBackend && !(Array.isArray(s.rules) && s.rules.length)) errs.push({ field: 'spec.rules', reason: 'FieldValueRequired', message: 'Required value: either `defaultBackend` or `rules` must be specified' });
  (Array.isArray(s.rules) ? s.rules : []).forEach((r: any, i: number) => {
    if (r?.host !== undefined && r.host !== '' && !isDns1123Subdomain(String(r.host).replace(/^\*\./, 'x.'))) errs.push(invalid(`spec.rules[${i}].host`, r.host, 'a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\''));
    (r?.http?.paths ?? []).forEach((p: any, j: number) => {
      const f = `spec.rules[${i}].http.paths[${j}]`;
      if (!p?.pathType) errs.push(required(`${f}.pathType`));
      else if (!PATH_TYPES.includes(p.pathType)) errs.push(notSupported(`${f}.pathType`, p.pathType, PATH_TYPES));
      if (p?.pathType !== 'ImplementationSpecific' && p?.path !== undefined && !String(p.path).startsWith('/')) errs.push(invalid(`${f}.path`, p.path, "must be an absolute path"));
      errs.push(...validateBackend(p?.backend, `${f}.backend`));
    });
    if (r?.http && !(Array.isArray(r.http.paths) && r.http.paths.length)) errs.push(required(`spec.rules[${i}].http.paths`));
  });
  return errs;
}

export function validateIngressClass(o: any, old?: any): FieldError[] {
  const c = o.spec?.controller;
  if (!c) return [required('spec.controller')];
  if (old) { const e = immutable('spec.controller', c, old.spec?.controller); if (e.length) return e; }
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[^ ]+$/.test(c) ? [] : [invalid('spec.controller', c, 'must be a domain-prefixed path (such as "acme.io/foo")')];
}

export function validateNetworkPolicy(o: any): FieldError[] {
  const s = o.spec;
  if (!isObj(s)) return [required('spec')];
  const errs: FieldError[] = [];
  if (!isObj(s.podSelector)) errs.push(required('spec.podSelector'));
  for (const [i, t] of (Array.isArray(s.policyTypes) ? s.policyTypes : []).entries()) if (!['Ingress', 'Egress'].includes(t)) errs.push(notSupported(`spec.policyTypes[${i}]`, t, ['Ingress', 'Egress']));
  return errs;
}

export function validateEndpointSlice(o: any, old?: any): FieldError[] {
  const errs: FieldError[] = old ? immutable('addressType', o.addressType, old.addressType) : [];
  const types = ['IPv4', 'IPv6', 'FQDN'];
  if (!o.addressType) errs.push(required('addressType'));
  else if (!types.includes(o.addressType)) errs.push(notSupported('addressType', o.addressType, types));
  (Array.isArray(o.endpoints) ? o.endpoints : []).forEach((e: any, i: number) => {
    if (!Array.isArray(e?.addresses) || e.addresses.length === 0) errs.push(required(`endpoints[${i}].addresses`));
  });
  (Array.isArray(o.ports) ? o.ports : []).forEach((p: any, i: number) => {
    if (p?.port !== undefined && !(Number.isInteger(p.port) && p.port >= 0 && p.port <= 65535)) errs.push(invalid(`ports[${i}].port`, p.port, 'must be between 0 and 65535, inclusive'));
  });
  return errs;
}

export function validateHPA(o: any): FieldError[] {
  const s = o.spec;
  if (!isObj(s)) return [required('spec')];
  const errs: FieldError[] = [];
  if (!s.scaleTargetRef?.kind) errs.push(required('spec.scaleTargetRef.kind'));
  if (!s.scaleTargetRef?.name) errs.push(required('spec.scaleTargetRef.name'));
  if (!(Number.isInteger(s.maxReplicas) && s.maxReplicas >= 1)) errs.push(invalid('spec.maxReplicas', s.maxReplicas, 'must be greater than or equal to 1'));
  if (s.minReplicas !== undefined && !(Number.isInteger(s.minReplicas) && s.minReplicas >= 1)) errs.push(invalid('spec.minReplicas', s.minReplicas, 'must be greater than or equal to 1'));
  if (Number.isInteger(s.minReplicas) && Number.isInteger(s.maxReplicas) && s.minReplicas > s.maxReplicas) errs.push(invalid('spec.maxReplicas', s.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  return errs;
}

export function validateLease(o: any): FieldError[] {
  const s = o.spec ?? {};
  const errs: FieldError[] = [];
  for (const f of ['leaseDurationSeconds', 'leaseTransitions']) if (s[f] !== undefined && s[f] !== null && !nonNegInt(s[f])) errs.push(invalid(`spec.${f}`, s[f], 'must be greater than or equal to 0'));
  if (s.leaseDurationSeconds === 0) errs.push(invalid('spec.leaseDurationSeconds', 0, 'must be greater than 0'));
  return errs;
}

export function validateStorageClass(o: any, old?: any): FieldError[] {
  const errs: FieldError[] = [];
  if (!o.provisioner) errs.push(required('provisioner'));
  if (o.reclaimPolicy !== undefined && !['Delete', 'Retain'].includes(o.reclaimPolicy)) errs.push(notSupported('reclaimPolicy', o.reclaimPolicy, ['Delete', 'Retain']));
  if (o.volumeBindingMode !== undefined && !['Immediate', 'WaitForFirstConsumer'].includes(o.volumeBindingMode)) errs.push(notSupported('volumeBindingMode', o.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']));
  if (old) for (const f of ['provisioner', 'parameters', 'reclaimPolicy', 'volumeBindingMode']) {
    if (JSON.stringify(old[f]) !== JSON.stringify(o[f])) errs.push({ field: f, reason: 'FieldValueForbidden', message: 'Forbidden: updates to ' + f + ' are forbidden.' });
  }
  return errs;
}

export function validatePDB(o: any): FieldError[] {
  const s = o.spec;
  if (!isObj(s)) return [required('spec')];
  const errs: FieldError[] = [];
  if (s.minAvailable !== undefined && s.maxUnavailable !== undefined) errs.push({ field: 'spec', reason: 'FieldValueInvalid', message: 'Invalid value: minAvailable and maxUnavailable cannot be both set' });
  for (const f of ['minAvailable', 'maxUnavailable']) {
    const v = s[f];
    if (v === undefined) continue;
    if (typeof v === 'number' ? !nonNegInt(v) : !/^\d+%$/.test(String(v))) errs.push(invalid(`spec.${f}`, v, typeof v === 'number' ? 'must be greater than or equal to 0' : "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"));
  }
  return errs;
}

function validateRules(rules: unknown, clusterScoped: boolean): FieldError[] {
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) return [invalid('rules', rules, 'must be a list')];
  const errs: FieldError[] = [];
  rules.forEach((r: any, i: number) => {
    if (!Array.isArray(r?.verbs) || r.verbs.length === 0) errs.push(required(`rules[${i}].verbs`));
    const urls = Array.isArray(r?.nonResourceURLs) && r.nonResourceURLs.length > 0;
    if (urls && !clusterScoped) errs.push(invalid(`rules[${i}].nonResourceURLs`, r.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
    if (urls && Array.isArray(r.resources) && r.resources.length) errs.push(invalid(`rules[${i}].nonResourceURLs`, r.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    if (!urls) {
      if (!Array.isArray(r?.apiGroups) || r.apiGroups.length === 0) errs.push(required(`rules[${i}].apiGroups`));
      if (!Array.isArray(r?.resources) || r.resources.length === 0) errs.push(required(`rules[${i}].resources`));
    }
  });
  return errs;
}

export const validateRole = (o: any) => validateRules(o.rules, false);
export const validateClusterRole = (o: any) => validateRules(o.rules, true);

export function validateBinding(o: any, old: any, clusterScoped: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = o.roleRef;
  if (!isObj(ref)) errs.push(required('roleRef'));
  else {
    const kinds = clusterScoped ? ['ClusterRole'] : ['Role', 'ClusterRole'];
    if (!kinds.includes(ref.kind)) errs.push(notSupported('roleRef.kind', ref.kind, kinds));
    if (ref.apiGroup !== 'rbac.authorization.k8s.io') errs.push(notSupported('roleRef.apiGroup', ref.apiGroup, ['rbac.authorization.k8s.io']));
    if (!ref.name) errs.push(required('roleRef.name'));
  }
  if (old && JSON.stringify(old.roleRef) !== JSON.stringify(o.roleRef)) errs.push(invalid('roleRef', o.roleRef, 'cannot change roleRef'));
  (Array.isArray(o.subjects) ? o.subjects : []).forEach((s: any, i: number) => {
    const f = `subjects[${i}]`;
    if (!['User', 'Group', 'ServiceAccount'].includes(s?.kind)) errs.push(notSupported(`${f}.kind`, s?.kind, ['ServiceAccount', 'User', 'Group']));
    if (!s?.name) errs.push(required(`${f}.name`));
    if (s?.kind === 'ServiceAccount') {
      if (s.apiGroup) errs.push(notSupported(`${f}.apiGroup`, s.apiGroup, ['']));
      if (!s.namespace && clusterScoped) errs.push(required(`${f}.namespace`));
      if (s.name && !isDns1123Subdomain(s.name)) errs.push(invalid(`${f}.name`, s.name, 'a lowercase RFC 1123 subdomain'));
    } else if (s?.kind && s.apiGroup !== 'rbac.authorization.k8s.io') errs.push(notSupported(`${f}.apiGroup`, s.apiGroup, ['rbac.authorization.k8s.io']));
  });
  return errs;
}

export function validateServiceAccount(o: any): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (Array.isArray(o.secrets) ? o.secrets : []).forEach((s: any, i: number) => {
    if (s?.name && seen.has(s.name)) errs.push(duplicate(`secrets[${i}].name`, s.name));
    seen.add(s?.name);
  });
  return errs;
}

export const validLabelName = isDns1123Label;
