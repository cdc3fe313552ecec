import { randomUUID } from 'node:crypto';
import { rfc3339 } from '../lib/time';
import { cloneJson } from './clone';
import { errors } from './errors';
import { checkTypes } from './fieldvalidation';
import { isObject, objectOr } from './json';
import { validateObjectMeta } from './groups/shared/object-meta';
import type { ResourceDef, StrategyContext } from './groups/types';
import type { ApiObject, ObjectMetadata, StorageView } from './api-object';
import { type ManagedFieldsEntry, updateManagedFields } from './managedfields';
import { apiVersionOf } from './registry';

/**
 * What happens to an object before any write, as Kubernetes' rest.BeforeCreate and
 * rest.BeforeUpdate: the body checked against the URL, system metadata set or carried over,
 * the kind's defaults, its create-time fields and its validation, and (on update) the
 * generation and the field manager's managedFields. Pure but for the uid and the clock; the
 * storage (resources.ts) writes the result.
 */

export interface BeforeWriteContext {
  now: Date;
  strategy: StrategyContext;
}

/**
 * A private copy of a request body that is an object of this kind, with a metadata object: the
 * point where request JSON becomes an ApiObject (api-object.ts states what that guarantees).
 */
export function checkBody(def: ResourceDef, ns: string | undefined, body: unknown): ApiObject {
  if (!isObject(body)) throw errors.badRequest('the request body must be a JSON object');
  if (body.kind !== undefined && body.kind !== def.kind) {
    throw errors.badRequest(`the kind of the object (${String(body.kind)}) does not match the expected kind (${def.kind}) for ${def.plural}`);
  }
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(def)) {
    throw errors.badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersionOf(def)})`);
  }
  const obj = cloneJson(body);
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  const meta = obj.metadata;
  if (!isObject(meta)) throw errors.badRequest('metadata must be an object');
  if (def.namespaced && meta.namespace && ns && meta.namespace !== ns) {
    throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  // kind and apiVersion are the resource's or absent, metadata is an object: an ApiObject
  return obj as unknown as ApiObject;
}

/** Metadata and kind validation together; a 422 listing every field error. */
export function validateObject(def: ResourceDef, obj: ApiObject, ctx: StrategyContext, old?: ApiObject): void {
  const errs = [
    ...validateObjectMeta(obj.metadata, def.nameRule, def.namespaced),
    ...(def.validate?.(obj, ctx, old) ?? []),
  ];
  if (errs.length) throw errors.invalid(def.kind, def.group, obj.metadata?.name ?? obj.metadata?.generateName ?? '', errs);
}

/** A new object from a create body: kind/apiVersion/namespace checks, system metadata, defaults, create-time fields, validation. */
export function beforeCreate(def: ResourceDef, ns: string | undefined, body: unknown, ctx: BeforeWriteContext): ApiObject {
  const obj: StorageView = checkBody(def, ns, body);
  checkTypes(obj, def.group, def.version, def.kind);
  obj.kind = def.kind;
  obj.apiVersion = apiVersionOf(def);
  const meta = obj.metadata;
  if (def.namespaced) meta.namespace = ns;
  else delete meta.namespace;
  for (const f of ['resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink'] as const) delete meta[f];
  meta.uid = randomUUID();
  meta.creationTimestamp = rfc3339(ctx.now);
  if (def.hasStatus) meta.generation = 1;
  else delete meta.generation;
  if (def.statusOnCreate === 'clear') delete obj.status;
  dropEmptyMeta(meta);
  def.defaults?.(obj);
  def.prepareForCreate?.(obj);
  validateObject(def, obj, ctx.strategy);
  return obj;
}

/** Per update that beforeUpdate prepared: the reservation keys the user asked for explicitly. */
const SPECIFIED = new WeakMap<ApiObject, Set<string>>();

/** The reservation keys the user asked for explicitly in an update `beforeUpdate` prepared. */
export function specifiedReservations(next: ApiObject): Set<string> {
  return SPECIFIED.get(next) ?? new Set();
}

/**
 * `next` as an update of `old`: system metadata carried from `old`, generation bumped on a spec
 * change, defaults, validation, the field manager's managedFields and the kind's allocations.
 */
export async function beforeUpdate(def: ResourceDef, old: ApiObject, next: StorageView, ctx: BeforeWriteContext,
  mf?: { fieldManager?: string; subresource?: string; applied?: boolean }): Promise<ApiObject> {
  const m = next.metadata;
  const o = old.metadata;
  for (const f of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'namespace', 'name', 'generateName'] as const) carry(o, m, f);
  if (!mf?.applied) {
    if (o.managedFields === undefined) delete m.managedFields;
    else m.managedFields = o.managedFields;
  }
  next.kind = def.kind;
  next.apiVersion = apiVersionOf(def);
  dropEmptyMeta(m);
  checkTypes(next, def.group, def.version, def.kind);
  def.defaults?.(next);
  if (def.hasStatus) {
    m.generation = (o.generation ?? 1) + (specOf(old) !== specOf(next) ? 1 : 0);
  }
  validateObject(def, next, ctx.strategy, old);
  if (mf?.fieldManager && !mf.applied) {
    const entries = updateManagedFields(o.managedFields as ManagedFieldsEntry[] | undefined, old, next, { manager: mf.fieldManager, apiVersion: apiVersionOf(def), time: rfc3339(ctx.now), subresource: mf.subresource });
    if (entries.length) m.managedFields = entries;
    else delete m.managedFields;
  }
  const held = def.strategy?.reservations;
  if (held) SPECIFIED.set(next, await held.allocate(next, old, ctx.strategy));
  return next;
}

/** `to[f]` becomes `from[f]`, or is removed when `from` has none. */
function carry<K extends keyof ObjectMetadata>(from: ObjectMetadata, to: ObjectMetadata, f: K): void {
  if (from[f] === undefined) delete to[f];
  else to[f] = from[f];
}

/** Everything but metadata and status: what a generation counts changes of. */
function specOf(obj: ApiObject): string {
  const { metadata: _m, status: _s, ...rest } = objectOr(obj);
  return JSON.stringify(rest);
}

/** Empty metadata lists and maps are omitted, as Go's `omitempty` does. */
function dropEmptyMeta(m: ObjectMetadata): void {
  for (const f of ['ownerReferences', 'finalizers', 'managedFields'] as const) { const v: unknown = m[f]; if (Array.isArray(v) && v.length === 0) delete m[f]; }
  for (const f of ['labels', 'annotations'] as const) { const v = m[f]; if (isObject(v) && Object.keys(v).length === 0) delete m[f]; }
}
