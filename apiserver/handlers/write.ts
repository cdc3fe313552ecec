import { errors } from '../errors';
import { validateFields } from '../fieldvalidation';
import { applyPatch, patchTypeOf } from '../patch';
import { param } from '../query';
import type { WriteOptions } from '../resources';
import { requestBody } from './body';
import { isObject } from '../json';
import type { NamedRequest, ResourceRequest } from './context';
import { type RequestWriteOptions, writeOptions } from './options';
import { sendObject, toStored } from './respond';
import { storedOnlyWarning } from '../stored-only';
import type { StatusSubresource } from '../groups/types';
import type { ApiObject } from '../api-object';

/** The write verbs: create (POST), update (PUT) and patch (PATCH) of an object or its status. */

/** Adds `Warning: 299` headers to the response (after any it has). */
function warn(r: ResourceRequest, warnings: string[]): void {
  if (!warnings.length) return;
  const had = r.reply.getHeader('Warning');
  const before = had === undefined ? [] : Array.isArray(had) ? had.map(String) : [String(had)];
  r.reply.header('Warning', [...before, ...warnings.map((w) => `299 - ${JSON.stringify(w)}`)]);
}

/** fieldValidation of a body (pruned in place); Warn → `Warning: 299` headers. */
function checkFields(r: ResourceRequest, obj: unknown, o: RequestWriteOptions, asPatch = false): void {
  warn(r, validateFields(obj, r.served.group, r.served.version, r.served.kind, o.fieldValidation, { patch: asPatch }));
}

/** A write of a kind nothing acts on (stored-only.ts): said in a warning, after the write succeeded. */
function warnStoredOnly(r: ResourceRequest, subresource?: string): void {
  const w = subresource ? undefined : storedOnlyWarning(r.def.group, r.def.plural);
  if (w) warn(r, [w]);
}

const subresourceOf = (r: NamedRequest) => r.path.subresource as StatusSubresource | undefined;

export async function handleCreate(r: ResourceRequest): Promise<unknown> {
  const o = writeOptions(r.req, r.query);
  const obj = requestBody(r.req);
  if (r.def.namespaced && !r.path.namespace) throw errors.methodNotAllowed('POST', r.def.plural);
  checkFields(r, obj, o);
  const stored = toStored(r, obj);
  if (r.def.setRequester && isObject(stored)) r.def.setRequester(stored as unknown as ApiObject, r.req.user);
  const created = await r.ctx.storage.create(r.def, r.path.namespace, stored, o);
  warnStoredOnly(r);
  return sendObject(r, 201, created);
}

export async function handleUpdate(r: NamedRequest): Promise<unknown> {
  const o = writeOptions(r.req, r.query);
  const obj = requestBody(r.req);
  checkFields(r, obj, o);
  const { obj: saved, created } = await r.ctx.storage.update(r.def, r.path.namespace, r.path.name, toStored(r, obj), { ...o, subresource: subresourceOf(r) });
  warnStoredOnly(r, r.path.subresource);
  return sendObject(r, created ? 201 : 200, saved);
}

/** A server-side apply body must be an object naming apiVersion and kind. */
function checkApplyBody(patch: unknown): void {
  const b = isObject(patch) ? patch : undefined;
  if (!b || typeof b.kind !== 'string' || !b.kind || typeof b.apiVersion !== 'string' || !b.apiVersion) {
    throw errors.badRequest(`invalid object type: ${String(b?.apiVersion ?? '')}, Kind=${String(b?.kind ?? '')}: apply patches must name apiVersion and kind`);
  }
}

export async function handlePatch(r: NamedRequest): Promise<unknown> {
  const o = writeOptions(r.req, r.query);
  const type = patchTypeOf(r.req.headers['content-type']);
  if (!type) throw errors.unsupportedMediaType(String(r.req.headers['content-type'] ?? ''));
  if (type === 'apply' && !param(r.query, 'fieldManager')) throw errors.badRequest('PATCH (apply) requires the fieldManager query parameter');
  if (o.force && type !== 'apply') throw errors.badRequest('force: Forbidden: may not be specified for non-apply patch');
  const patch = requestBody(r.req);
  if (patch === undefined) throw errors.badRequest('the patch body is empty');
  if (type === 'apply') checkApplyBody(patch);
  if (type !== 'json') checkFields(r, patch, o, type !== 'apply');
  const view = r.served.storageVersion;
  const { obj, created } = await r.ctx.storage.patch(r.def, r.path.namespace, r.path.name, type, type === 'apply' ? toStored(r, patch) : patch,
    { ...o, subresource: subresourceOf(r), view: view && type !== 'apply' ? { from: view.fromStorage, to: view.toStorage } : undefined });
  warnStoredOnly(r, r.path.subresource);
  return sendObject(r, created ? 201 : 200, obj);
}

/** The scale subresource: get, update and patch of an autoscaling/v1 Scale. */
export async function handleScale(r: NamedRequest): Promise<unknown> {
  const st = r.ctx.storage;
  const { namespace: ns, name } = r.path;
  switch (r.verb) {
    case 'get': return sendObject(r, 200, st.toScale(r.def, (await st.get(r.def, ns, name)).obj));
    case 'update': {
      const o: WriteOptions = writeOptions(r.req, r.query);
      const scale = requestBody(r.req);
      return sendObject(r, 200, await st.updateScale(r.def, ns, name, () => scale, o));
    }
    case 'patch': {
      const o: WriteOptions = writeOptions(r.req, r.query);
      const type = patchTypeOf(r.req.headers['content-type']);
      if (!type) throw errors.unsupportedMediaType(String(r.req.headers['content-type']));
      const patch = requestBody(r.req);
      return sendObject(r, 200, await st.updateScale(r.def, ns, name, (scale) => applyPatch(type, scale, patch), o));
    }
    default: throw errors.methodNotAllowed(r.req.method, `${r.def.plural}/scale`);
  }
}
