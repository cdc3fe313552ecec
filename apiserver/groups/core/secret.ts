import type { Secret } from 'kubernetes-types/core/v1';
import { immutableData, validateConfigKeys } from './config-data';
import { base } from '../shared/defs';
import { type FieldError, invalid, required } from '../shared/fields';
import { isObject } from '../../json';
import { AGE, count, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** Secret (core/v1): stringData is merged into data on every write. */

export function validateSecret(s: Secret, old?: Secret): FieldError[] {
  const errs = validateConfigKeys(s.data, 'data', { base64: true });
  if (typeof s.type !== 'string') errs.push(required('type'));
  if (old && old.type !== s.type) errs.push(invalid('type', s.type, 'field is immutable'));
  const need = (key: string) => { if (!isObject(s.data) || !(key in s.data)) errs.push(required(`data[${key}]`)); };
  if (s.type === 'kubernetes.io/tls') { need('tls.crt'); need('tls.key'); }
  if (s.type === 'kubernetes.io/dockerconfigjson') need('.dockerconfigjson');
  if (s.type === 'kubernetes.io/basic-auth' && isObject(s.data) && !('username' in s.data) && !('password' in s.data)) errs.push(required('data[username]'));
  if (s.type === 'kubernetes.io/ssh-auth') need('ssh-privatekey');
  errs.push(...immutableData(s, old, ['data']));
  return errs;
}

/** Secrets: stringData is write-only, merged into data (base64) on every write. */
export function mergeStringData(s: Secret): void {
  if (isObject(s.stringData)) {
    s.data = { ...(isObject(s.data) ? s.data : {}) };
    for (const [k, v] of Object.entries(s.stringData)) s.data[k] = Buffer.from(String(v)).toString('base64');
  }
  delete s.stringData;
}

export const SECRET: ResourceDef = {
  ...base, group: '', kind: 'Secret', listKind: 'SecretList', plural: 'secrets', singular: 'secret', fieldLabels: ['type'],
  defaults(o: Secret) { o.type ??= 'Opaque'; mergeStringData(o); },
  validate: (o, _c, old) => validateSecret(o, old),
  printer: { columns: [NAME, ['Type', 'string'], ['Data', 'integer'], AGE], cells: (o: Secret, now) => [o.metadata?.name, o.type ?? '', count(o.data), objectAge(o, now)] },
};
