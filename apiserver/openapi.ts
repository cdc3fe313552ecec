import { knownFields, loadSchemaFile, typeName } from './fieldvalidation';

/**
 * OpenAPI v3 component schemas of the served kinds, for `kubectl explain` (which reads
 * /openapi/v3/<group-version> and finds a kind by `x-kubernetes-group-version-kind`). Built
 * from the generated field table (schema/known-fields.json: field types) and
 * schema/openapi-types.json (required fields), both from
 * scripts/gen-known-fields.js. Pure apart from loading the tables once.
 *
 * Schema names follow Kubernetes' (`io.k8s.api.core.v1.Pod`,
 * `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`); nested objects are `allOf: [{$ref}]`
 * as in Kubernetes' own v3 documents.
 */

type TypeDocs = Record<string, { required: string[] }>;

let docsTable: TypeDocs | undefined;
const typeDocs = (): TypeDocs => (docsTable ??= loadSchemaFile<TypeDocs>('openapi-types.json') ?? {});

/** Kubernetes' OpenAPI name of a table type: `core/v1.Pod` → `io.k8s.api.core.v1.Pod`. */
export function openapiName(t: string): string {
  const [mod, name] = [t.slice(0, t.lastIndexOf('.')), t.slice(t.lastIndexOf('.') + 1)];
  const pkg = mod.startsWith('meta/') ? `io.k8s.apimachinery.pkg.apis.${mod.replace('/', '.')}` : `io.k8s.api.${mod.replace('/', '.')}`;
  return `${pkg}.${name}`;
}

const SCALAR_SCHEMAS: Record<string, Record<string, unknown>> = {
  s: { type: 'string' }, b: { type: 'boolean' }, i32: { type: 'integer', format: 'int32' }, i64: { type: 'integer', format: 'int64' },
  f: { type: 'number', format: 'double' }, n: { type: 'number' }, t: { type: 'string', format: 'date-time' },
  x: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
  q: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }], format: 'quantity' },
  a: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
};

/**
 * The component schemas for `kinds` (table type names such as `apps/v1.Deployment`) and every
 * type they reach; each kind's schema names its group, version and kind.
 */
export function componentSchemas(kinds: { group: string; version: string; kind: string }[]): Record<string, unknown> {
  const fields = knownFields();
  const docs = typeDocs();
  const out: Record<string, Record<string, unknown>> = {};
  const ref = (t: string, pending: string[]): Record<string, unknown> => {
    if (SCALAR_SCHEMAS[t]) return { ...SCALAR_SCHEMAS[t] };
    if (t.startsWith('[]')) return { type: 'array', items: ref(t.slice(2), pending) };
    if (t.startsWith('{}')) return { type: 'object', additionalProperties: ref(t.slice(2), pending) };
    if (!(t in fields)) return { ...SCALAR_SCHEMAS.a };
    pending.push(t);
    return { allOf: [{ $ref: `#/components/schemas/${openapiName(t)}` }] };
  };
  const pending: string[] = [];
  for (const k of kinds) {
    const t = typeName(k.group, k.version, k.kind);
    if (t in fields) pending.push(t);
  }
  const seen = new Set<string>();
  while (pending.length) {
    const t = pending.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const d = docs[t];
    const properties: Record<string, unknown> = {};
    for (const [f, ft] of Object.entries(fields[t])) {
      properties[f] = ref(ft, pending);
    }
    out[openapiName(t)] = {
      type: 'object',
      ...(d?.required.length ? { required: d.required } : {}),
      properties,
    };
  }
  for (const k of kinds) {
    const s = out[openapiName(typeName(k.group, k.version, k.kind))];
    if (s) s['x-kubernetes-group-version-kind'] = [{ group: k.group, kind: k.kind, version: k.version }];
  }
  return out;
}
