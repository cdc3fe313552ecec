import type { FastifyReply, FastifyRequest } from 'fastify';
import * as YAML from 'yaml';
import { ApiError, errors } from './errors';
import { applyPatch, patchTypeOf } from './patch';
import { type ResourceDef, type Registry, apiVersionOf, keyPrefix } from './registry';
import type { ResourceStorage, DeleteOptions } from './resources';
import { type FieldSelector, type LabelSelector, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors';
import { toTable } from './tables';
import { type CacheEvent, type CachedObject, decodeKv } from './watchcache';
import { type FieldValidation, parseFieldValidation, validateFields } from './fieldvalidation';
import { decodeProtobufObject } from './protobuf';
import { boolParam, param } from './query';
import { CompactedError } from './storage/types';
import type { UserInfo } from './auth';
import type { KubeletClientPool } from './streaming/kubelet-client';
import { STREAMING_SUBRESOURCES, handleStreaming } from './streaming/handlers';

/**
 * The one generic REST handler set: maps Kubernetes API paths and verbs onto
 * ResourceStorage, and renders JSON objects, lists, Tables and watch streams.
 */

export interface ApiPath {
  group: string;
  version: string;
  namespace?: string;
  resource?: string;
  name?: string;
  subresource?: string;
  /** legacy /api/v1/watch/... form */
  watchPath?: boolean;
}

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

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export function verbOf(method: string, p: ApiPath, query: Record<string, unknown>): Verb | undefined {
  const watch = p.watchPath || (method === 'GET' && boolParam(query, 'watch'));
  switch (method) {
    case 'GET': return p.name && !watch ? 'get' : p.name && watch ? 'watch' : watch ? 'watch' : 'list';
    case 'POST': return p.name && !p.subresource ? undefined : 'create';
    case 'PUT': return p.name ? 'update' : undefined;
    case 'PATCH': return p.name ? 'patch' : undefined;
    case 'DELETE': return p.name ? 'delete' : 'deletecollection';
    default: return undefined;
  }
}

/** Accept header asks for a meta.k8s.io Table. */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => {
    const params = part.split(';').map((s) => s.trim());
    return params.includes('as=Table') && (params.includes('g=meta.k8s.io') || !params.some((x) => x.startsWith('g=')));
  });
}

function isDryRun(query: Record<string, unknown>): boolean {
  const v = query.dryRun;
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  for (const d of list) if (d !== 'All') throw errors.badRequest(`unsupported dryRun value "${d}": only "All" is supported`);
  return list.length > 0;
}

/** Decode a request body by Content-Type. */
export function decodeBody(contentType: string | undefined, raw: Buffer | undefined): any {
  if (!raw || raw.length === 0) return undefined;
  const type = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (type === 'application/vnd.kubernetes.protobuf') return decodeProtobufObject(raw);
  if (type.includes('protobuf')) throw errors.unsupportedMediaType(type);
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml') {
    try {
      const docs = YAML.parseAllDocuments(raw.toString());
      if (docs.length !== 1 || docs[0].errors.length) throw new Error(docs[0]?.errors[0]?.message ?? 'expected exactly one YAML document');
      return docs[0].toJS({ maxAliasCount: 100 });
    } catch (e: any) {
      throw errors.badRequest(`error decoding YAML: ${e?.message ?? e}`);
    }
  }
  if (type === '' || type === '*/*' || type.endsWith('json') || type === 'text/plain') {
    try { return JSON.parse(raw.toString()); } catch (e: any) {
      throw errors.badRequest(`error decoding JSON: ${String(e?.message ?? e)}`);
    }
  }
  throw errors.unsupportedMediaType(type);
}

interface Filter { ns?: string; prefix?: string; labels: LabelSelector; fields: FieldSelector }

const BASE_FIELDS = ['metadata.name', 'metadata.namespace'];

function buildFilter(def: ResourceDef, p: ApiPath, query: Record<string, unknown>): Filter {
  const supported = new Set([...BASE_FIELDS, ...def.fieldLabels]);
  const fields = parseFieldSelector(param(query, 'fieldSelector'), supported);
  if (p.name) fields.push({ field: 'metadata.name', op: '=', value: p.name });
  return {
    ns: def.namespaced ? p.namespace : undefined,
    prefix: def.namespaced && p.namespace ? keyPrefix(def, p.namespace) : undefined,
    labels: parseLabelSelector(param(query, 'labelSelector')),
    fields,
  };
}

function matches(f: Filter, obj: any): boolean {
  if (f.ns && obj?.metadata?.namespace !== f.ns) return false;
  return matchesLabels(f.labels, obj?.metadata?.labels) && matchesFields(f.fields, obj);
}

function includeObject(query: Record<string, unknown>): 'None' | 'Metadata' | 'Object' {
  const v = param(query, 'includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

const JSON_TYPE = 'application/json';

export interface RestContext {
  storage: ResourceStorage;
  registry: Registry;
  /** default watch timeout when the client sends none (seconds) */
  minRequestTimeoutSeconds: number;
  bookmarkIntervalMs: number;
  /**
   * Authorization seam for access reviews (and, later, requests): the security engineer's
   * RBAC authorizer replaces it. Default: members of system:masters may do everything.
   */
  authorize?: (user: UserInfo | undefined, attrs: Record<string, unknown>) => Promise<{ allowed: boolean; reason?: string; denied?: boolean }> | { allowed: boolean; reason?: string; denied?: boolean };
  /** The rules that apply to a user in a namespace (SelfSubjectRulesReview). */
  rulesFor?: (user: UserInfo, namespace: string) => Promise<unknown[]> | unknown[];
  /**
   * Subresources served by a handler of their own, keyed "<plural>/<subresource>"
   * (serviceaccounts/token; pods/log, pods/exec). Called after the path is parsed and the
   * request authorized; the handler sends the reply.
   */
  subresourceHandlers?: Record<string, SubresourceHandler>;
  /** Clients towards kubelets (pods/log, exec, attach, portforward; apiserver/streaming/); absent: those answer 503. */
  kubelets?: KubeletClientPool;
}

export type SubresourceHandler = (req: FastifyRequest, reply: FastifyReply, p: ApiPath & { resource: string; name: string; subresource: string }, def: ResourceDef) => Promise<unknown>;

export const mastersOnlyAuthorizer = (user: UserInfo | undefined) =>
  user?.groups.includes('system:masters') ? { allowed: true, reason: 'system:masters' } : { allowed: false, reason: 'no authorizer is configured beyond system:masters' };

/** Kubernetes' default field manager: the User-Agent up to its first '/'. */
export function defaultFieldManager(userAgent: string | undefined): string {
  const m = (userAgent ?? '').split('/')[0].trim();
  return (m || 'unknown').slice(0, 128);
}

/** A list `continue` token: the list's revision and the key to resume from. */
export function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

export function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString());
    if (t.v === 'meta.k8s.io/v1' && Number.isInteger(t.rv) && t.rv > 0 && typeof t.start === 'string') return { rv: t.rv, start: t.start };
  } catch { /* fall through */ }
  throw errors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

/** Labels for metrics, set on the request by the handler. */
export interface RequestLabels { verb: string; resource: string }

export async function handleResource(ctx: RestContext, req: FastifyRequest, reply: FastifyReply, p: ApiPath, labels: RequestLabels): Promise<unknown> {
  const served = p.resource ? ctx.registry.lookup(p.group, p.version, p.resource) : undefined;
  const query = (req.query ?? {}) as Record<string, unknown>;
  if (!served) throw errors.pathNotFound();
  if (served.review) return handleReview(ctx, served, req, reply, p, labels);
  // another version's storage (autoscaling/v1 over v2): convert at this boundary
  const def = ctx.registry.storageDef(served);
  const view = served.storageVersion;
  const out = (o: any) => (view ? view.fromStorage(o) : o);
  const inc = (o: any) => (view && o && typeof o === 'object' ? view.toStorage(o) : o);
  labels.resource = p.subresource ? `${def.plural}/${p.subresource}` : def.plural;
  const own = p.subresource && p.name ? ctx.subresourceHandlers?.[`${def.plural}/${p.subresource}`] : undefined;
  if (own) {
    if (def.namespaced && !p.namespace) throw errors.pathNotFound();
    labels.verb = verbOf(req.method, p, query) ?? req.method.toLowerCase();
    return own(req, reply, p as ApiPath & { resource: string; name: string; subresource: string }, def);
  }
  if (p.subresource && !def.subresources.includes(p.subresource as any)) throw errors.pathNotFound();
  if (p.subresource && STREAMING_SUBRESOURCES.has(p.subresource)) return handleStreaming(ctx, req, reply, p, labels);
  if (def.namespaced && p.name && !p.namespace) throw errors.pathNotFound();
  if (!def.namespaced && p.namespace) throw errors.pathNotFound();
  const verb = verbOf(req.method, p, query);
  if (!verb) throw errors.methodNotAllowed(req.method, `${def.plural}${p.subresource ? '/' + p.subresource : ''}`);
  labels.verb = verb;
  const st = ctx.storage;
  const ns = p.namespace;
  const table = wantsTable(req.headers.accept);
  const sendObj = (code: number, obj: any) => {
    if (p.subresource !== 'scale') obj = out(obj);
    if (table && (verb === 'get' || verb === 'create' || verb === 'update' || verb === 'patch') && !p.subresource) {
      return reply.code(code).type(JSON_TYPE).send(JSON.stringify(toTable(def.plural, [obj], { includeObject: includeObject(query), resourceVersion: obj?.metadata?.resourceVersion })));
    }
    return reply.code(code).type(JSON_TYPE).send(JSON.stringify(obj));
  };
  const write = writeOptions(req, query, verb);
  /** fieldValidation of a body (pruned in place); Warn → `Warning: 299` headers. */
  const checkFields = (body: any, asPatch = false) => {
    const warnings = validateFields(body, served.group, served.version, served.kind, write.fieldValidation, { patch: asPatch });
    if (warnings.length) reply.header('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`));
  };

  // subresources
  if (p.subresource === 'binding') {
    if (verb !== 'create') throw errors.methodNotAllowed(req.method, 'pods/binding');
    const body = decodeBody(req.headers['content-type'], req.body as Buffer);
    await st.bind(def, ns!, p.name!, body, { dryRun: isDryRun(query) });
    return reply.code(201).type(JSON_TYPE).send(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }));
  }
  if (p.subresource === 'scale') {
    switch (verb) {
      case 'get': return sendObj(200, st.toScale(def, (await st.get(def, ns, p.name!)).obj));
      case 'update': {
        const body = decodeBody(req.headers['content-type'], req.body as Buffer);
        return sendObj(200, await st.updateScale(def, ns, p.name!, () => body, write));
      }
      case 'patch': {
        const type = patchTypeOf(req.headers['content-type']);
        if (!type) throw errors.unsupportedMediaType(String(req.headers['content-type']));
        const body = decodeBody(req.headers['content-type'], req.body as Buffer);
        return sendObj(200, await st.updateScale(def, ns, p.name!, (scale) => applyPatch(type, scale, body), write));
      }
      default: throw errors.methodNotAllowed(req.method, `${def.plural}/scale`);
    }
  }
  if (p.subresource === 'status' && !['get', 'update', 'patch'].includes(verb)) throw errors.methodNotAllowed(req.method, `${def.plural}/status`);

  switch (verb) {
    case 'get': {
      const c = await st.get(def, ns, p.name!);
      if (table) return reply.type(JSON_TYPE).send(JSON.stringify(toTable(def.plural, [out(c.obj)], { includeObject: includeObject(query), resourceVersion: String(c.rv) })));
      return reply.type(JSON_TYPE).send(view ? JSON.stringify(out(c.obj)) : c.json);
    }
    case 'list': {
      const f = buildFilter(def, p, query);
      const page = await listPage(ctx, def, ns, query, f);
      const meta = { resourceVersion: String(page.revision), ...(page.continue ? { continue: page.continue } : {}), ...(page.remaining !== undefined ? { remainingItemCount: page.remaining } : {}) };
      if (table) {
        const t = toTable(def.plural, page.items.map((c) => out(c.obj)), { includeObject: includeObject(query), resourceVersion: String(page.revision) });
        if (page.continue) t.metadata.continue = page.continue;
        return reply.type(JSON_TYPE).send(JSON.stringify(t));
      }
      const items = page.items.map((c) => (view ? JSON.stringify(out(c.obj)) : c.json));
      return reply.type(JSON_TYPE).send(`{"kind":"${served.listKind}","apiVersion":"${apiVersionOf(served)}","metadata":${JSON.stringify(meta)},"items":[${items.join(',')}]}`);
    }
    case 'watch':
      return serveWatch(ctx, def, p, query, req, reply, table, out, view !== undefined);
    case 'create': {
      const body = decodeBody(req.headers['content-type'], req.body as Buffer);
      if (def.namespaced && !ns) throw errors.methodNotAllowed('POST', def.plural);
      checkFields(body);
      return sendObj(201, await st.create(def, ns, inc(body), write));
    }
    case 'update': {
      const body = decodeBody(req.headers['content-type'], req.body as Buffer);
      checkFields(body);
      const { obj, created } = await st.update(def, ns, p.name!, inc(body), { ...write, subresource: p.subresource as 'status' | undefined });
      return sendObj(created ? 201 : 200, obj);
    }
    case 'patch': {
      const type = patchTypeOf(req.headers['content-type']);
      if (!type) throw errors.unsupportedMediaType(String(req.headers['content-type'] ?? ''));
      if (type === 'apply' && !param(query, 'fieldManager')) throw errors.badRequest('PATCH (apply) requires the fieldManager query parameter');
      if (write.force && type !== 'apply') throw errors.badRequest('force: Forbidden: may not be specified for non-apply patch');
      const body = decodeBody(req.headers['content-type'], req.body as Buffer);
      if (body === undefined) throw errors.badRequest('the patch body is empty');
      if (type === 'apply' && (body === null || typeof body !== 'object' || Array.isArray(body) || typeof body.kind !== 'string' || !body.kind || typeof body.apiVersion !== 'string' || !body.apiVersion)) {
        throw errors.badRequest(`invalid object type: ${String(body?.apiVersion ?? '')}, Kind=${String(body?.kind ?? '')}: apply patches must name apiVersion and kind`);
      }
      if (type !== 'json') checkFields(body, type !== 'apply');
      const { obj, created } = await st.patch(def, ns, p.name!, type, type === 'apply' ? inc(body) : body,
        { ...write, subresource: p.subresource as 'status' | undefined, view: view && type !== 'apply' ? { from: view.fromStorage, to: view.toStorage } : undefined });
      return sendObj(created ? 201 : 200, obj);
    }
    case 'delete': {
      const opts = deleteOptions(req, query);
      const obj = await st.delete(def, ns, p.name!, opts);
      return reply.code(200).type(JSON_TYPE).send(JSON.stringify(obj));
    }
    case 'deletecollection': {
      const opts = deleteOptions(req, query);
      const f = buildFilter(def, p, query);
      const { items } = await st.list(def, ns, '');
      const deleted: any[] = [];
      for (const c of items.filter((c) => matches(f, c.obj))) {
        try { deleted.push(await st.delete(def, c.obj.metadata.namespace, c.obj.metadata.name, opts)); } catch (e) {
          if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
        }
      }
      return reply.type(JSON_TYPE).send(JSON.stringify({ kind: def.listKind, apiVersion: apiVersionOf(def), metadata: {}, items: deleted }));
    }
  }
}

interface RequestWriteOptions { dryRun: boolean; fieldManager: string; force: boolean; fieldValidation: FieldValidation }

function writeOptions(req: FastifyRequest, query: Record<string, unknown>, verb: Verb): RequestWriteOptions {
  if (verb !== 'create' && verb !== 'update' && verb !== 'patch') return { dryRun: false, fieldManager: '', force: false, fieldValidation: 'Ignore' };
  const fm = param(query, 'fieldManager');
  if (fm !== undefined && (fm.length > 128 || /[^\x20-\x7e]/.test(fm))) throw errors.badRequest(`fieldManager: Invalid value: ${JSON.stringify(fm)}: must be at most 128 printable characters`);
  return {
    dryRun: isDryRun(query),
    fieldManager: fm || defaultFieldManager(req.headers['user-agent']),
    force: boolParam(query, 'force'),
    fieldValidation: parseFieldValidation(param(query, 'fieldValidation')),
  };
}

interface Page { items: CachedObject[]; revision: number; continue?: string; remaining?: number }

/**
 * One page of a list: `limit` matching objects from the watch cache (first page) or from the
 * store at the token's revision (later pages, 410 once that revision is compacted).
 */
async function listPage(ctx: RestContext, def: ResourceDef, ns: string | undefined, query: Record<string, unknown>, f: Filter): Promise<Page> {
  const limitRaw = param(query, 'limit');
  const limit = limitRaw === undefined || limitRaw === '' ? 0 : /^\d{1,15}$/.test(limitRaw) ? Number(limitRaw) : NaN;
  if (!Number.isInteger(limit) || limit < 0) throw errors.badRequest(`invalid limit "${String(limitRaw).slice(0, 100)}"`);
  const token = param(query, 'continue');
  let items: CachedObject[];
  let revision: number;
  if (token) {
    const t = decodeContinue(token);
    const cache = ctx.storage.cache(def);
    if (cache.isLoaded && cache.revision === t.rv) {
      items = cache.list(f.prefix ?? keyPrefix(def));
    } else {
      try {
        const r = await ctx.storage.store.list(f.prefix ?? keyPrefix(def), { revision: t.rv });
        items = r.kvs.map((kv) => decodeKv(kv));
      } catch (e) {
        if (e instanceof CompactedError) {
          throw errors.expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
        }
        throw e;
      }
    }
    revision = t.rv;
    items = items.filter((c) => c.key >= t.start);
  } else {
    const r = await ctx.storage.list(def, ns, param(query, 'resourceVersion'));
    items = r.items;
    revision = r.revision;
  }
  const selected = items.filter((c) => matches(f, c.obj));
  if (!limit || selected.length <= limit) return { items: selected, revision };
  const page = selected.slice(0, limit);
  const unfiltered = f.labels.length === 0 && f.fields.length === 0;
  return { items: page, revision, continue: encodeContinue(revision, `${page[page.length - 1].key}\0`), remaining: unfiltered ? selected.length - limit : undefined };
}

/** POST of a create-only virtual resource (SelfSubjectAccessReview): answered, never stored. */
async function handleReview(ctx: RestContext, def: ResourceDef, req: FastifyRequest, reply: FastifyReply, p: ApiPath, labels: RequestLabels): Promise<unknown> {
  labels.resource = def.plural;
  labels.verb = 'create';
  if (req.method !== 'POST' || p.name || p.namespace) throw errors.methodNotAllowed(req.method, def.plural);
  const body = decodeBody(req.headers['content-type'], req.body as Buffer);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the request body must be a JSON object');
  if (body.kind !== undefined && body.kind !== def.kind) throw errors.badRequest(`the kind of the object (${body.kind}) does not match the expected kind (${def.kind})`);
  if (def.kind.endsWith('AccessReview') && !body.spec?.resourceAttributes && !body.spec?.nonResourceAttributes) {
    throw errors.invalid(def.kind, def.group, '', [{ field: 'spec.resourceAttributes', reason: 'FieldValueRequired', message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified' }]);
  }
  const authorize = ctx.authorize ?? mastersOnlyAuthorizer;
  const result = await def.review!(body, { user: req.user, authorize, rulesFor: ctx.rulesFor });
  return reply.code(201).type(JSON_TYPE).send(JSON.stringify(result));
}

function deleteOptions(req: FastifyRequest, query: Record<string, unknown>): DeleteOptions {
  const body = decodeBody(req.headers['content-type'], req.body as Buffer) ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('DeleteOptions must be a JSON object');
  const grace = body.gracePeriodSeconds ?? (param(query, 'gracePeriodSeconds') !== undefined ? Number(param(query, 'gracePeriodSeconds')) : undefined);
  if (grace !== undefined && !Number.isInteger(grace)) throw errors.badRequest('gracePeriodSeconds must be an integer');
  const policy = body.propagationPolicy ?? param(query, 'propagationPolicy');
  if (policy !== undefined && !['Background', 'Foreground', 'Orphan'].includes(policy)) throw errors.badRequest(`invalid propagationPolicy "${policy}"`);
  const dry = isDryRun(query) || (Array.isArray(body.dryRun) && body.dryRun.includes('All'));
  return { gracePeriodSeconds: grace, propagationPolicy: policy, preconditions: body.preconditions, dryRun: dry };
}

async function serveWatch(ctx: RestContext, def: ResourceDef, p: ApiPath, query: Record<string, unknown>, req: FastifyRequest, reply: FastifyReply, table: boolean,
  out: (o: any) => any = (o) => o, converted = false): Promise<void> {
  const f = buildFilter(def, p, query);
  const rvParam = param(query, 'resourceVersion') ?? '';
  if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw errors.badRequest(`invalid resourceVersion "${rvParam}"`);
  const cache = ctx.storage.cache(def);
  await cache.waitFor(rvParam === '' ? ctx.storage.lastWriteRevision(def) : 0, 3_000);
  if (!cache.isLoaded) throw errors.unavailable('the watch cache is not ready yet');
  // timeoutSeconds: a non-negative integer; 0 or absent → the server's default (randomised like Kubernetes')
  const timeoutRaw = param(query, 'timeoutSeconds');
  if (timeoutRaw !== undefined && timeoutRaw !== '' && !/^\d{1,9}$/.test(timeoutRaw)) throw errors.badRequest(`invalid timeoutSeconds "${timeoutRaw}": must be a non-negative integer`);
  const timeoutS = timeoutRaw !== undefined && timeoutRaw !== '' && Number(timeoutRaw) > 0 ? Number(timeoutRaw) : ctx.minRequestTimeoutSeconds * (1 + Math.random());
  const bookmarks = boolParam(query, 'allowWatchBookmarks');
  const include = includeObject(query);
  let headersSent = false;

  const encode = (type: string, obj: any, json?: string): string => {
    if (converted && type !== 'ERROR' && type !== 'BOOKMARK') { obj = out(obj); json = undefined; }
    if (table && type !== 'ERROR' && type !== 'BOOKMARK') {
      const t = toTable(def.plural, [obj], { includeObject: include, resourceVersion: obj?.metadata?.resourceVersion, noHeaders: headersSent });
      headersSent = true;
      return `{"type":"${type}","object":${JSON.stringify(t)}}\n`;
    }
    return `{"type":"${type}","object":${json ?? JSON.stringify(obj)}}\n`;
  };

  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked', ...(reply.getHeaders() as Record<string, string>) });
  // Send the headers now, as Kubernetes flushes them: client-go's Watch() returns only once they
  // arrive, so a watch with no events yet must not leave the client waiting (kubectl wait hung).
  raw.flushHeaders();
  let closed = false;
  const timers: NodeJS.Timeout[] = [];
  let sub: ReturnType<typeof cache.subscribe>;
  const finish = () => {
    if (closed) return;
    closed = true;
    for (const t of timers) clearTimeout(t), clearInterval(t);
    sub?.cancel();
    raw.end();
  };
  const write = (s: string) => {
    if (closed) return;
    raw.write(s);
    if (raw.writableLength > 32 * 1024 * 1024) finish(); // too slow a consumer: drop it, it will re-watch
  };
  req.raw.on('close', finish);
  raw.on('close', finish);

  let fromRev: number;
  const initial: CachedObject[] = [];
  // sendInitialEvents (watch-list): the current state as ADDED events, then a BOOKMARK
  // annotated k8s.io/initial-events-end, then changes.
  const initialEvents = boolParam(query, 'sendInitialEvents');
  if (initialEvents && rvParam !== '' && rvParam !== '0') await cache.waitFor(Number(rvParam), 3_000);
  // a resourceVersion this cache has not reached: wait a little, then 504 like Kubernetes' watch cache
  if (rvParam !== '' && rvParam !== '0' && Number(rvParam) > cache.revision && !(await cache.waitFor(Number(rvParam), 3_000))) {
    // (in the stream, as Kubernetes' cacher does once a watch is admitted: the reflector re-lists)
    write(encode('ERROR', errors.tooLargeResourceVersion(Number(rvParam), cache.revision).toStatus()));
    finish();
    return;
  }
  if (rvParam === '' || rvParam === '0' || initialEvents) {
    fromRev = cache.revision;
    for (const c of cache.list(f.prefix)) if (matches(f, c.obj)) initial.push(c);
  } else fromRev = Number(rvParam);

  const onEvent = (ev: CacheEvent) => {
    if (ev.rv <= fromRev) return;
    const now = matches(f, ev.obj);
    const before = ev.prev ? matches(f, ev.prev) : false;
    let type: string | undefined;
    if (ev.type === 'ADDED') type = now ? 'ADDED' : undefined;
    else if (ev.type === 'MODIFIED') type = now && before ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined;
    else type = now || before ? 'DELETED' : undefined;
    if (type) write(encode(type, ev.obj, ev.json));
  };
  sub = cache.subscribe(fromRev, onEvent, finish);
  if (!sub) {
    const status = errors.expired(`too old resource version: ${fromRev} (${cache.oldestRevision})`).toStatus();
    write(encode('ERROR', status));
    finish();
    return;
  }
  for (const c of initial) write(encode('ADDED', c.obj, c.json));
  if (initialEvents) {
    write(`{"type":"BOOKMARK","object":{"kind":"${def.kind}","apiVersion":"${apiVersionOf(def)}","metadata":{"resourceVersion":"${fromRev}","annotations":{"k8s.io/initial-events-end":"true"}}}}\n`);
  }
  for (const ev of sub.replay) onEvent(ev);
  if (Number.isFinite(timeoutS) && timeoutS > 0) timers.push(setTimeout(finish, Math.min(timeoutS * 1000, 2 ** 31 - 1)));
  if (bookmarks && !table) {
    timers.push(setInterval(() => write(`{"type":"BOOKMARK","object":{"kind":"${def.kind}","apiVersion":"${apiVersionOf(def)}","metadata":{"resourceVersion":"${cache.revision}"}}}\n`), ctx.bookmarkIntervalMs));
  }
}
