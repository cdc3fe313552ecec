import * as fs from 'node:fs';
import * as path from 'node:path';
import { errors } from './errors';
import { parseQuantity } from '../lib/quantity';
import { isObject } from './json';

/**
 * `fieldValidation` (Strict, Warn, Ignore): finds the fields of a request body that the
 * kind's schema does not declare, using the known-field table generated from
 * kubernetes-types (schema/known-fields.json, see scripts/gen-known-fields.js). Unknown
 * fields are removed from the body (as Kubernetes' typed decoding drops them); Strict turns
 * them into a 400, Warn into `Warning: 299` headers. `checkTypes` is the decoder's type check.
 * Pure apart from loading the table once.
 */

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';
type Schema = Record<string, Record<string, string>>;

/**
 * A generated table from apiserver/schema/ (next to the compiled file when copied there, else
 * in the source tree); undefined when absent.
 */
export function loadSchemaFile<T>(name: string): T | undefined {
  for (const dir of [path.join(__dirname, 'schema'), path.resolve(__dirname, '../../apiserver/schema')]) {
    const f = path.join(dir, name);
    if (fs.existsSync(f)) return JSON.parse(fs.readFileSync(f, 'utf8')) as T;
  }
  return undefined;
}

let table: Schema | undefined;
function schema(): Schema {
  table ??= loadSchemaFile<Schema>('known-fields.json');
  if (!table) throw new Error('apiserver: cannot find schema/known-fields.json (next to the build or in apiserver/schema/)');
  return table;
}

/** The generated field table (see scripts/gen-known-fields.js for its type codes). */
export const knownFields = (): Schema => schema();

/** kubernetes-types' name of a kind: `apps/v1.Deployment`, `networking/v1.Ingress`. */
export function typeName(group: string, version: string, kind: string): string {
  return `${group ? group.split('.')[0] : 'core'}/${version}.${kind}`;
}


/**
 * Unknown field paths of `obj` (`spec.foo`, `spec.containers[0].bar`), removing them from
 * `obj` in place. `patch` skips strategic-merge directives (`$patch`, `$setElementOrder/…`).
 */
export function pruneUnknownFields(obj: unknown, type: string, opts: { patch?: boolean } = {}): string[] {
  const s = schema();
  const found: string[] = [];
  const walk = (v: unknown, t: string, at: string) => {
    if (v === null || v === undefined || isScalarType(t)) return;
    if (t.startsWith('[]')) {
      if (Array.isArray(v)) v.forEach((it, i) => walk(it, t.slice(2), `${at}[${i}]`));
      return;
    }
    if (t.startsWith('{}')) {
      if (isObject(v)) for (const [k, x] of Object.entries(v)) if (!(opts.patch && k.startsWith('$'))) walk(x, t.slice(2), at ? `${at}.${k}` : k);
      return;
    }
    const fields = s[t];
    if (!fields || !isObject(v)) return;
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
  if (!(t in schema()) || !isObject(body)) return [];
  const unknown = pruneUnknownFields(body, t, opts);
  if (!unknown.length || mode === 'Ignore') return [];
  const msgs = unknown.map((f) => `unknown field "${f}"`);
  if (mode === 'Strict') throw errors.badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${msgs.join(', ')}`);
  return msgs;
}

const SCALARS = new Set(['s', 'b', 'i32', 'i64', 'f', 'n', 'x', 'q', 't', 'a']);
/** A type code with no fields of its own (see scripts/gen-known-fields.js for the codes). */
const isScalarType = (t: string): boolean => SCALARS.has(t);

const GO_SCALAR: Record<string, string> = { s: 'string', b: 'bool', i32: 'int32', i64: 'int64', f: 'float64', n: 'float64', x: 'int32', q: 'resource.Quantity', t: 'string', a: 'interface {}' };
/** Go's name of a type code: `[]v1.EndpointAddress`, `map[string]string`, `int32`. */
export function goType(t: string): string {
  if (t.startsWith('[]')) return `[]${goType(t.slice(2))}`;
  if (t.startsWith('{}')) return `map[string]${goType(t.slice(2))}`;
  return GO_SCALAR[t] ?? t.replace(/^.*\//, '');
}
const jsonType = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v);
const structName = (t: string): string => t.replace(/^.*\./, '');
const QUANTITY_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
// int64: JSON numbers lose precision above 2^53, but any integral value within ±2^63 decodes.
const INT_RANGE: Record<string, [number, number]> = { i32: [-(2 ** 31), 2 ** 31 - 1], i64: [-(2 ** 63), 2 ** 63], x: [-(2 ** 31), 2 ** 31 - 1] };

/**
 * Why a scalar `v` does not decode as type code `t` — Go's json value word ("string",
 * "number 1.5") — or undefined when it does. `null` always decodes (to the zero value).
 */
function scalarMismatch(v: unknown, t: string): { value: string; message?: string } | undefined {
  if (v === null || t === 'a') return undefined;
  switch (t) {
    case 's': return typeof v === 'string' ? undefined : { value: jsonType(v) };
    case 't':
      if (typeof v !== 'string') return { value: jsonType(v) };
      return RFC3339.test(v) && !Number.isNaN(Date.parse(v)) ? undefined : { value: 'string', message: `parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(v)} as RFC 3339` };
    case 'b': return typeof v === 'boolean' ? undefined : { value: jsonType(v) };
    case 'f': case 'n': return typeof v === 'number' ? undefined : { value: jsonType(v) };
    case 'q':
      if (typeof v === 'string' || typeof v === 'number') return parseQuantity(v) === undefined ? { value: jsonType(v), message: QUANTITY_MSG } : undefined;
      return { value: jsonType(v), message: QUANTITY_MSG };
    case 'x': case 'i32': case 'i64': {
      // an IntOrString that is not a string decodes as an int32
      if (t === 'x' && typeof v === 'string') return undefined;
      if (typeof v !== 'number') return { value: jsonType(v) };
      const [lo, hi] = INT_RANGE[t];
      return Number.isInteger(v) && v >= lo && v <= hi ? undefined : { value: `number ${v}` };
    }
    default: return undefined;
  }
}

/**
 * The type check of Kubernetes' typed decoding: a value of the wrong JSON type (a string
 * where the schema has an integer, a list, a map or an object, or the reverse; an integer
 * out of range; a malformed quantity or time) is a 400 worded like Go's json error —
 * `json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type
 * int32` (the innermost struct's name, then the field path without indexes or map keys) —
 * so validation code downstream can trust the shapes and types.
 */
export function checkTypes(obj: unknown, group: string, version: string, kind: string): void {
  const s = schema();
  const top = typeName(group, version, kind);
  if (!(top in s)) return;
  const prefix = `${kind} in version "${version}" cannot be handled as a ${kind}: `;
  const fail = (value: string, t: string, at: string, struct: string): never => {
    const where = at ? `Go struct field ${struct}.${at}` : 'Go value';
    throw errors.badRequest(`${prefix}json: cannot unmarshal ${value} into ${where} of type ${goType(t)}`);
  };
  // the field path (keys of structs, not indexes or map keys), joined only for a message
  const path: string[] = [];
  const walk = (v: unknown, t: string, struct: string, depth: number): void => {
    if (v === null || v === undefined || t === 'a') return;
    if (depth > 64) throw errors.badRequest(`${prefix}the object is nested too deeply`);
    if (isScalarType(t)) {
      const bad = scalarMismatch(v, t);
      if (bad?.message) throw errors.badRequest(prefix + bad.message);
      if (bad) fail(bad.value, t, path.join('.'), struct);
      return;
    }
    if (t.startsWith('[]')) {
      if (!Array.isArray(v)) fail(jsonType(v), t, path.join('.'), struct);
      for (const it of v as unknown[]) walk(it, t.slice(2), struct, depth + 1);
      return;
    }
    if (t.startsWith('{}')) {
      if (!isObject(v)) fail(jsonType(v), t, path.join('.'), struct);
      for (const x of Object.values(v as object)) walk(x, t.slice(2), struct, depth + 1);
      return;
    }
    const fields = s[t];
    if (!fields) return;
    if (!isObject(v)) fail(jsonType(v), t, path.join('.'), struct);
    const inner = structName(t);
    for (const k of Object.keys(v as object)) {
      if (!(k in fields)) continue;
      path.push(k);
      walk((v as Record<string, unknown>)[k], fields[k], inner, depth + 1);
      path.pop();
    }
  };
  walk(obj, top, kind, 0);
}
