import { type FieldError, invalid, required } from './fields';
import type { JsonObject } from '../../json';

/**
 * Name rules (DNS-1123 labels and subdomains, DNS-1035 labels, path segments) and the
 * validation of ObjectMeta every kind shares (Kubernetes' apimachinery validation). Pure.
 */

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function isDns1123Label(s: string): boolean { return s.length <= 63 && DNS1123_LABEL.test(s); }

export function isDns1123Subdomain(s: string): boolean { return s.length <= 253 && DNS1123_SUBDOMAIN.test(s); }

function isDns1035Label(s: string): boolean { return s.length <= 63 && DNS1035_LABEL.test(s); }

export const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

export const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const DNS1035_MSG = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

/** 'path': any path segment (RBAC objects: "system:node"), as Kubernetes' ValidatePathSegmentName. */
export type NameRule = 'subdomain' | 'label' | 'dns1035' | 'path';

export function validateName(name: unknown, rule: NameRule, field = 'metadata.name'): FieldError[] {
  if (typeof name !== 'string' || name === '') return [required(field)];
  if (rule === 'path') {
    if (name === '.' || name === '..') return [invalid(field, name, `may not be '${name}'`)];
    if (/[/%]/.test(name)) return [invalid(field, name, `may not contain '${name.includes('/') ? '/' : '%'}'`)];
    // control characters would not survive store keys and continue tokens
    if (/[\x00-\x1f\x7f]/.test(name) || name.length > 253 || !(name as string & { isWellFormed(): boolean }).isWellFormed()) return [invalid(field, name, 'must be at most 253 printable characters')];
    return [];
  }
  const ok = rule === 'label' ? isDns1123Label(name) : rule === 'dns1035' ? isDns1035Label(name) : isDns1123Subdomain(name);
  return ok ? [] : [invalid(field, name, rule === 'label' ? LABEL_MSG : rule === 'dns1035' ? DNS1035_MSG : SUBDOMAIN_MSG)];
}

export function validateLabelKey(k: string): boolean {
  const parts = k.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1];
  if (parts.length === 2 && !(parts[0].length <= 253 && isDns1123Subdomain(parts[0]))) return false;
  return name.length > 0 && name.length <= 63 && QUALIFIED_NAME.test(name);
}

export function validateObjectMeta(metadata: unknown, nameRule: NameRule, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (metadata == null || typeof metadata !== 'object') return [required('metadata')];
  const meta = metadata as JsonObject;
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
