import * as fs from 'node:fs';
import * as path from 'node:path';
import { errors } from './errors';

/**
 * `fieldValidation` (Strict, Warn, Ignore): finds the fields of a request body that the
 * kind's schema does not declare, using the known-field table generated from
 * kubernetes-types (schema/known-fields.json, see scripts/gen-known-fields.js). Unknown
 * fields are removed from the body (as Kubernetes' typed decoding drops them); Strict turns
 * them into a 400, Warn into `Warning: 299` headers. Pure apart from loading the table once.
 */

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';
type Schema = Record<string, Record<string, string>>;

let table: Schema | undefined;
function schema(): Schema {
  if (table) return table;
  const candidates = [path.join(__dirname, 'schema'), path.resolve(__dirname, '../../apiserver/schema')];
  for (const dir of candidates) {
    const f = path.join(dir, 'known-fields.json');
    if (fs.existsSync(f)) return (table = JSON.parse(fs.readFileSync(f, 'utf8')) as Schema);
  }
  throw new Error(`apiserver: cannot find schema/known-fields.json (looked in ${candidates.join(', ')})`);
}

/** kubernetes-types' name of a kind: `apps/v1.Deployment`, `networking/v1.Ingress`. */
export function typeName(group: string, version: string, kind: string): string {
  return `${group ? group.split('.')[0] : 'core'}/${version}.${kind}`;
}

export function hasSchema(group: string, version: string, kind: string): boolean {
  return typeName(group, version, kind) in schema();
}

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Unknown field paths of `obj` (`spec.foo`, `spec.containers[0].bar`), removing them from
 * `obj` in place. `patch` skips strategic-merge directives (`$patch`, `$setElementOrder/…`).
 */
export function pruneUnknownFields(obj: unknown, type: string, opts: { patch?: boolean } = {}): string[] {
  const s = schema();
  const found: string[] = [];
  const walk = (v: unknown, t: string, at: string) => {
    if (v === null || v === undefined || t === 's' || t === 'a') return;
    if (t.startsWith('[]')) {
      if (Array.isArray(v)) v.forEach((it, i) => walk(it, t.slice(2), `${at}[${i}]`));
      return;
    }
    if (t.startsWith('{}')) {
      if (isObj(v)) for (const [k, x] of Object.entries(v)) if (!(opts.patch && k.startsWith('$'))) walk(x, t.slice(2), at ? `${at}.${k}` : k);
      return;
    }
    const fields = s[t];
    if (!fields || !isObj(v)) return;
    for (const k of Object.keys(v)) {
      if (opts.patch && k.startsWith('$')) continue;
      const p = at ? `${at}.${k}` : k;
      if (!(k in fields)) { found.push(p); delete v[k]; continue; }
      walk(v[k], fields[k], p);
    }
  };
  walk(obj, type, '');
  return found;
}

export function parseFieldValidation(v: string | undefined): FieldValidation {
  if (v === undefined || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw errors.badRequest(`fieldValidation parameter unsupported: ${v}`);
}

/**
 * Check `body` (pruned in place) per `mode`: throws the 400 for Strict, returns the
 * warnings for Warn, nothing for Ignore.
 */
export function validateFields(body: unknown, group: string, version: string, kind: string, mode: FieldValidation, opts: { patch?: boolean } = {}): string[] {
  const t = typeName(group, version, kind);
  if (!(t in schema()) || !isObj(body)) return [];
  const unknown = pruneUnknownFields(body, t, opts);
  if (!unknown.length || mode === 'Ignore') return [];
  const msgs = unknown.map((f) => `unknown field "${f}"`);
  if (mode === 'Strict') throw errors.badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${msgs.join(', ')}`);
  return msgs;
}

const goType = (t: string): string => (t === 's' ? 'scalar' : t.replace(/[a-z0-9.]+\/(v\d\w*)\./g, '$1.'));
const jsonType = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'object' ? 'object' : typeof v);

/**
 * The structural type check of Kubernetes' typed decoding: a value where the schema wants a
 * list, a map or an object (or the reverse) is a 400, worded like Go's json errors
 * ("json: cannot unmarshal string into Go struct field Endpoints.subsets.addresses of type
 * []v1.EndpointAddress"), so validation code downstream can trust the shapes. Scalars are
 * not told apart (the table has one scalar type).
 */
export function checkTypes(obj: unknown, group: string, version: string, kind: string): void {
  const s = schema();
  const top = typeName(group, version, kind);
  if (!(top in s)) return;
  const fail = (v: unknown, t: string, at: string) => {
    throw errors.badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: json: cannot unmarshal ${jsonType(v)} into Go struct field ${kind}.${at} of type ${goType(t)}`);
  };
  const walk = (v: unknown, t: string, at: string, depth: number): void => {
    if (v === null || v === undefined || t === 'a') return;
    if (depth > 64) throw errors.badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: the object is nested too deeply`);
    if (t === 's') { if (typeof v === 'object') fail(v, t, at); return; }
    if (t.startsWith('[]')) {
      if (!Array.isArray(v)) fail(v, t, at);
      (v as unknown[]).forEach((it) => walk(it, t.slice(2), at, depth + 1));
      return;
    }
    if (t.startsWith('{}')) {
      if (!isObj(v)) fail(v, t, at);
      for (const x of Object.values(v as object)) walk(x, t.slice(2), at, depth + 1);
      return;
    }
    const fields = s[t];
    if (!fields) return;
    if (!isObj(v)) fail(v, t, at);
    for (const [k, x] of Object.entries(v as object)) if (k in fields) walk(x, fields[k], at ? `${at}.${k}` : k, depth + 1);
  };
  walk(obj, top, '', 0);
}
