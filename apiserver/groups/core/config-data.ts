import { type FieldError, forbidden, immutable, invalid } from '../shared/fields';
import { isObject } from '../../json';
/** The fields of a ConfigMap or Secret that `immutable: true` freezes. */
interface ConfigData { immutable?: boolean; data?: Record<string, string>; binaryData?: Record<string, string> }

/** Keys and values of ConfigMap and Secret data, and their `immutable` mark. Pure. */

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function validateConfigKeys(map: unknown, field: string, opts: { base64?: boolean; strings?: boolean } = {}): FieldError[] {
  if (map === undefined || map === null) return [];
  if (!isObject(map)) return [invalid(field, map, 'must be a map')];
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
export function immutableData(o: ConfigData, old: ConfigData | undefined, fields: ('data' | 'binaryData')[]): FieldError[] {
  if (old?.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (o.immutable !== true) errs.push(forbidden('immutable', IMMUTABLE_SET));
  for (const f of fields) {
    const next: unknown = o[f];
    const prev: unknown = old[f];
    if (immutable(f, isObject(next) && Object.keys(next).length ? next : null, isObject(prev) && Object.keys(prev).length ? prev : null).length) errs.push(forbidden(f, IMMUTABLE_SET));
  }
  return errs;
}
