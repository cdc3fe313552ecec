import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from './errors';
import type { ResourceDef } from './groups/types';
import { type Query, boolParam } from './query';
import type { ApiPath, NamedPath, NamedRequest, RequestLabels, ResourceRequest, RestContext, Verb } from './handlers/context';
import { handleBinding } from './handlers/binding';
import { handleDelete, handleDeleteCollection } from './handlers/delete';
import { handleEviction } from './handlers/eviction';
import { handleGet } from './handlers/get';
import { handleList } from './handlers/list';
import { wantsTable } from './handlers/respond';
import { handleReview } from './handlers/review';
import { handleWatch } from './handlers/watch';
import { handleCreate, handlePatch, handleScale, handleUpdate } from './handlers/write';
import { STREAMING_SUBRESOURCES, handleStreaming } from './streaming/handlers';

/**
 * The one generic REST entry point: parses Kubernetes API paths, resolves the resource and
 * the verb, and hands the request to that verb's handler (handlers/): get, list, watch,
 * create, update, patch, delete, deletecollection, and the scale, status, binding and
 * eviction subresources. Streaming subresources (log, exec, attach, portforward) go to streaming/,
 * and subresources with a handler of their own (serviceaccounts/token) to that handler.
 */

/** Parse /api/v1/... and /apis/g/v/... resource paths; undefined for anything else. */
export function parseApiPath(pathname: string): ApiPath | undefined {
  let segs: string[];
  if (pathname.includes('//')) return undefined;
  try { segs = pathname.split('/').filter(Boolean).map(decodeURIComponent); } catch { return undefined; }
  // names and namespaces are path segments: never '.', '..', or anything with '/' or '%' once decoded
  if (segs.some((s) => s === '.' || s === '..' || s.includes('/') || s.includes('%'))) return undefined;
  let group: string, version: string, rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) { group = ''; version = segs[1]; rest = segs.slice(2); }
  else if (segs[0] === 'apis' && segs.length >= 3) { group = segs[1]; version = segs[2]; rest = segs.slice(3); }
  else return undefined;
  const p: ApiPath = { group, version };
  if (rest[0] === 'watch') { p.watchPath = true; rest = rest.slice(1); }
  if (rest.length === 0) return p;
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize') {
    if (rest.length > 5) return undefined;
    p.namespace = rest[1]; p.resource = rest[2]; p.name = rest[3]; p.subresource = rest[4];
  } else {
    if (rest.length > 3) return undefined;
    p.resource = rest[0]; p.name = rest[1]; p.subresource = rest[2];
  }
  return p;
}

/** The verb of a request, as Kubernetes' RequestInfoFactory derives it; undefined for a method the path does not take. */
export function verbOf(method: string, p: ApiPath, query: Query): Verb | undefined {
  const watch = p.watchPath || (method === 'GET' && boolParam(query, 'watch'));
  switch (method) {
    case 'GET': return watch ? 'watch' : p.name ? 'get' : 'list';
    case 'POST': return p.name && !p.subresource ? undefined : 'create';
    case 'PUT': return p.name ? 'update' : undefined;
    case 'PATCH': return p.name ? 'patch' : undefined;
    case 'DELETE': return p.name ? 'delete' : 'deletecollection';
    default: return undefined;
  }
}

/** Handles one request on a resource path; sets the metrics labels on the way. */
export async function handleResource(ctx: RestContext, req: FastifyRequest, reply: FastifyReply, p: ApiPath, labels: RequestLabels): Promise<unknown> {
  const served = p.resource ? ctx.registry.lookup(p.group, p.version, p.resource) : undefined;
  const query = (req.query ?? {}) as Query;
  if (!served) throw errors.pathNotFound();
  if (served.review) return handleReview(ctx, served, req, reply, p, labels);
  // another version's storage (autoscaling/v1 over v2): handlers convert at their boundary
  const def = ctx.registry.storageDef(served);
  labels.resource = p.subresource ? `${def.plural}/${p.subresource}` : def.plural;
  const own = p.subresource && p.name ? ctx.subresourceHandlers?.[`${def.plural}/${p.subresource}`] : undefined;
  if (own) {
    if (def.namespaced && !p.namespace) throw errors.pathNotFound();
    labels.verb = verbOf(req.method, p, query) ?? req.method.toLowerCase();
    return own(req, reply, p as NamedPath & { subresource: string }, def);
  }
  if (p.subresource && !(def.subresources as string[]).includes(p.subresource)) throw errors.pathNotFound();
  if (p.subresource && STREAMING_SUBRESOURCES.has(p.subresource)) return handleStreaming(ctx, req, reply, p, labels);
  if (def.namespaced && p.name && !p.namespace) throw errors.pathNotFound();
  if (!def.namespaced && p.namespace) throw errors.pathNotFound();
  const verb = verbOf(req.method, p, query);
  if (!verb) throw errors.methodNotAllowed(req.method, `${def.plural}${p.subresource ? '/' + p.subresource : ''}`);
  labels.verb = verb;
  const r: ResourceRequest = { ctx, req, reply, path: p, verb, served, def, query, table: wantsTable(req.headers.accept) };
  return p.subresource ? dispatchSubresource(r as NamedRequest, p.subresource, def) : dispatchVerb(r);
}

/** binding, eviction, scale and status: the subresources served here. */
function dispatchSubresource(r: NamedRequest, subresource: string, def: ResourceDef): Promise<unknown> {
  if (subresource === 'binding') return handleBinding(r);
  if (subresource === 'eviction') return handleEviction(r);
  if (subresource === 'scale') return handleScale(r);
  if (!['get', 'update', 'patch'].includes(r.verb)) throw errors.methodNotAllowed(r.req.method, `${def.plural}/${subresource}`);
  return dispatchVerb(r);
}

function dispatchVerb(r: ResourceRequest): Promise<unknown> {
  const named = r as NamedRequest;
  switch (r.verb) {
    case 'get': return handleGet(named);
    case 'list': return handleList(r);
    case 'watch': return handleWatch(r);
    case 'create': return handleCreate(r);
    case 'update': return handleUpdate(named);
    case 'patch': return handlePatch(named);
    case 'delete': return handleDelete(named);
    case 'deletecollection': return handleDeleteCollection(r);
  }
}
