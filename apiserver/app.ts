import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Logger } from '../lib/log';
import type { Authenticator, UserInfo } from './auth';
import { AGGREGATED_CONTENT_TYPE, type DiscoveryDocs, VERSION_INFO, buildDiscovery, wantsAggregated } from './discovery';
import { ApiError, errors } from './errors';
import { type ApiMetrics, createMetrics } from './metrics';
import type { Registry } from './registry';
import type { ResourceStorage } from './resources';
import type { RequestLabels, RestContext } from './handlers/context';
import { handleResource, parseApiPath } from './rest';
import type { AuditSink } from './audit';
import { type Attributes, forbidden } from './rbac';
import { MUTATING_VERBS, requestAttributes } from './request-attributes';
import { impersonate } from './impersonation';
import { CompactedError, StoreUnavailableError } from './storage/types';
import { installUpgradeRouting } from './streaming/handlers';
import type { KubeletClientPool } from '../kubelet/api/client';
import { METRICS_DEFS, type MetricsApi } from './metrics-api/handler';
import { METRICS_GROUP } from './metrics-api/core';

/**
 * The apiserver as a fastify app, separate from listening (tests drive it with app.inject).
 */

export interface AppDeps {
  storage: ResourceStorage;
  registry: Registry;
  authenticate: Authenticator;
  log: Logger;
  metrics?: ApiMetrics;
  /** host:port clients use to reach this server (discovery's serverAddressByClientCIDRs) */
  serverAddress?: string;
  minRequestTimeoutSeconds?: number;
  bookmarkIntervalMs?: number;
  /**
   * The authorizer. When set, every authenticated request is authorized (403 when denied) and
   * access reviews use it; when unset, requests are not authorized and reviews allow only
   * system:masters (unit tests of the REST layer).
   */
  authorize?: RestContext['authorize'];
  rulesFor?: RestContext['rulesFor'];
  subresourceHandlers?: RestContext['subresourceHandlers'];
  /** Audit log of mutating and refused requests. */
  audit?: AuditSink;
  /** Clients towards kubelets for pods/log, exec and portforward. */
  kubelets?: KubeletClientPool;
  /** The cluster CA bundle (PEM) served without authentication at /cacerts; absent: 404. */
  caBundle?: string;
  /** What GET /coxswain/v1/server-bootstrap gives a joining server; absent: 404. */
  serverBootstrap?: () => Promise<ServerBootstrap>;
  /** metrics.k8s.io (metrics-api/): served and listed in discovery when set. */
  metricsApi?: MetricsApi;
}

/** The secrets a joining server needs to run a control plane identical to this one's. */
export interface ServerBootstrap {
  /** PEM files by path relative to $COXSWAIN_HOME/pki: the CA cert and key, the ServiceAccount key pair */
  files: Record<string, string>;
  storeEndpoints: string[];
}

/** The group of bootstrap tokens that may join servers (`coxswain token create --role server`). */
export const SERVER_BOOTSTRAPPERS = 'system:bootstrappers:coxswain:server';

const BODY_LIMIT = 3 * 1024 * 1024;
// /cacerts: a joining host fetches the CA before it has any credential (and checks it against its token's hash)
const UNAUTHENTICATED_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/', '/cacerts']);

declare module 'fastify' {
  interface FastifyRequest {
    user?: UserInfo;
    apiLabels?: RequestLabels;
    authzAttrs?: Attributes;
    /** when the request arrived (latency metric; hrtime) */
    startedAt?: bigint;
    /** when the request arrived (audit) */
    receivedAt?: Date;
    /** the authenticated user when the request impersonates another (audit) */
    impersonatedBy?: UserInfo;
  }
}

/** Send with a Content-Type exactly as given (fastify would normalise the media-type parameters). */
function sendRaw(reply: FastifyReply, contentType: string, body: string): FastifyReply {
  reply.hijack();
  reply.raw.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  reply.raw.end(body);
  return reply;
}

function sendError(reply: FastifyReply, err: ApiError): FastifyReply {
  // a Status that suggests when to retry says so in the header too (clients retry 429s on it)
  const retry = err.details?.retryAfterSeconds;
  if (retry && retry > 0) reply.header('Retry-After', String(retry));
  return reply.code(err.code).type('application/json').send(JSON.stringify(err.toStatus()));
}

/** What fastify's own errors carry (FST_ERR_* codes, an HTTP status). */
interface FrameworkError { code?: unknown; statusCode?: unknown; message?: unknown; stack?: unknown }

/** Any error a handler throws, as the Status to answer: ApiErrors as they are, store and fastify errors mapped, the rest 500. */
export function toApiError(err: unknown, log?: Logger): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StoreUnavailableError) return errors.unavailable(`the storage backend is unavailable: ${err.message}`);
  if (err instanceof CompactedError) return errors.expired(`too old resource version: ${err.revision}`);
  const e = (typeof err === 'object' && err !== null ? err : {}) as FrameworkError;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) return errors.tooLarge();
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.statusCode === 415) return errors.unsupportedMediaType(String(e.message));
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return errors.badRequest(String(e.message));
  if (err instanceof SyntaxError || err instanceof RangeError) return errors.badRequest(err.message);
  log?.error({ err: String(e.stack ?? err) }, 'internal error');
  return errors.internal(String(e.message ?? err));
}

export function buildApp(deps: AppDeps, serverOpts: FastifyServerOptions & { https?: unknown } = {}): FastifyInstance {
  const app = Fastify({
    ...serverOpts, bodyLimit: BODY_LIMIT, logger: false, routerOptions: { maxParamLength: 1000 }, return503OnClosing: false,
    // errors fastify raises before routing (a malformed URL, a bad header): a Status too
    frameworkErrors: (err: Error, _req: FastifyRequest, reply: FastifyReply) => sendError(reply, errors.badRequest(String(err?.message ?? err))),
  } as FastifyServerOptions) as unknown as FastifyInstance;
  const metrics = deps.metrics ?? createMetrics();
  const discovery = buildDiscovery(deps.registry, deps.metricsApi ? METRICS_DEFS : []);
  const ctx: RestContext = {
    storage: deps.storage, registry: deps.registry,
    minRequestTimeoutSeconds: deps.minRequestTimeoutSeconds ?? 1800,
    bookmarkIntervalMs: deps.bookmarkIntervalMs ?? 60_000,
    authorize: deps.authorize,
    rulesFor: deps.rulesFor,
    subresourceHandlers: deps.subresourceHandlers,
    kubelets: deps.kubelets,
  };
  installUpgradeRouting(app);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));

  installAuthentication(app, deps);
  installObservation(app, deps, metrics);
  app.setErrorHandler((err, req, reply) => sendError(reply, toApiError(err, deps.log)));
  app.setNotFoundHandler((_req, reply) => sendError(reply, errors.pathNotFound()));
  installPlainRoutes(app, deps, metrics, discovery);

  const serverAddress = deps.serverAddress ?? '127.0.0.1:6443';
  const apiHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0].replace(/\/+$/, '');
    if (req.method === 'GET') {
      const sent = serveDiscovery(req, reply, path, discovery, serverAddress);
      if (sent) return sent;
    }
    const p = parseApiPath(path);
    if (!p || !p.resource) throw errors.pathNotFound();
    if (p.group === METRICS_GROUP && deps.metricsApi) return deps.metricsApi.handle(req, reply, p);
    return handleResource(ctx, req, reply, p, req.apiLabels!);
  };
  for (const url of ['/api', '/api/*', '/apis', '/apis/*']) {
    app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url, handler: apiHandler });
  }
  return app;
}

/** onRequest: authentication, then (with an authorizer) impersonation and authorization; 401/403 Statuses. */
function installAuthentication(app: FastifyInstance, deps: AppDeps): void {
  app.addHook('onRequest', async (req, reply) => {
    req.startedAt = process.hrtime.bigint();
    req.receivedAt = new Date();
    req.apiLabels = { verb: req.method.toLowerCase(), resource: '' };
    const path = req.url.split('?')[0];
    if (UNAUTHENTICATED_PATHS.has(path)) return;
    const user = deps.authenticate(req);
    if (!user) return sendError(reply, errors.unauthorized());
    req.user = user;
    if (deps.authorize) {
      const acting = await impersonate(req.headers, user, deps.authorize);
      if (acting instanceof ApiError) return sendError(reply, acting);
      if (acting !== user) req.impersonatedBy = user;
      req.user = acting;
      const attrs = requestAttributes(req.method, req.url, (req.query ?? {}) as Record<string, unknown>);
      req.authzAttrs = attrs;
      const d = await deps.authorize(acting, attrs as unknown as Record<string, unknown>);
      if (!d.allowed) return sendError(reply, forbidden(acting.name, attrs, d.reason));
    }
  });
}

/**
 * onResponse: request count and latency metrics. onSend: the audit record of mutating and refused
 * requests, written once the answer is decided rather than once it is delivered, so a request
 * whose client went away meanwhile (a scheduler killed with bindings in flight) is recorded too.
 */
function installObservation(app: FastifyInstance, deps: AppDeps, metrics: ApiMetrics): void {
  const observe = (req: FastifyRequest, code: number) => {
    const l = req.apiLabels ?? { verb: req.method.toLowerCase(), resource: '' };
    metrics.requests.inc({ verb: l.verb, resource: l.resource, code: String(code) });
    const started = req.startedAt;
    if (started !== undefined) metrics.latency.observe({ verb: l.verb, resource: l.resource }, Number(process.hrtime.bigint() - started) / 1e9);
  };
  app.addHook('onResponse', async (req, reply) => {
    observe(req, reply.statusCode);
  });
  const audit = deps.audit;
  if (!audit) return;
  app.addHook('onSend', async (req, reply, payload) => {
    const attrs = req.authzAttrs;
    const code = reply.statusCode;
    if ((attrs && !attrs.nonResource && MUTATING_VERBS.has(attrs.verb)) || code === 401 || code === 403) {
      const by = req.impersonatedBy;
      audit.write({ user: by ?? req.user, impersonatedUser: by ? req.user : undefined, attrs, method: req.method, uri: req.url, code, sourceIP: req.ip, userAgent: req.headers['user-agent'], received: req.receivedAt ?? new Date() });
    }
    return payload;
  });
}

/** Health, version, metrics and OpenAPI. */
function installPlainRoutes(app: FastifyInstance, deps: AppDeps, metrics: ApiMetrics, discovery: DiscoveryDocs): void {
  const text = (reply: FastifyReply, body: string, code = 200) => reply.code(code).type('text/plain; charset=utf-8').send(body);
  app.get('/healthz', async (_req, reply) => text(reply, 'ok'));
  app.get('/livez', async (_req, reply) => text(reply, 'ok'));
  let lastReady = { at: 0, ok: false, msg: '' };
  app.get('/readyz', async (_req, reply) => {
    if (Date.now() - lastReady.at > 1_000) {
      try { await deps.storage.store.ping(2_000); lastReady = { at: Date.now(), ok: true, msg: 'ok' }; } catch (e) {
        lastReady = { at: Date.now(), ok: false, msg: `[-]etcd failed: ${String((e as Error).message)}\nreadyz check failed` };
      }
    }
    return text(reply, lastReady.msg, lastReady.ok ? 200 : 500);
  });
  // '/version/' as '/version', as Kubernetes answers both
  for (const url of ['/version', '/version/']) app.get(url, async (_req, reply) => reply.type('application/json').send(JSON.stringify(VERSION_INFO)));
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  app.get('/cacerts', async (_req, reply) => {
    if (deps.caBundle === undefined) throw errors.pathNotFound();
    return text(reply, deps.caBundle);
  });
  app.get('/coxswain/v1/server-bootstrap', async (req, reply) => {
    if (!deps.serverBootstrap) throw errors.pathNotFound();
    if (!req.user?.groups.includes(SERVER_BOOTSTRAPPERS)) {
      throw errors.forbidden(`user "${req.user?.name ?? ''}" cannot get path "/coxswain/v1/server-bootstrap": only tokens of group ${SERVER_BOOTSTRAPPERS} (server join tokens) may`);
    }
    return reply.type('application/json').send(JSON.stringify(await deps.serverBootstrap()));
  });

  app.get('/openapi/v2', async () => { throw errors.pathNotFound(); });
  app.get('/openapi/v3', async (_req, reply) => reply.type('application/json').send(discovery.openapiIndex));
  app.get('/openapi/v3/*', async (req, reply) => {
    const doc = discovery.openapi((req.params as { '*': string })['*']);
    if (!doc) throw errors.pathNotFound();
    return reply.type('application/json').send(doc);
  });
}

/** GET /api, /apis, /apis/<group>, /api/v1, /apis/<group>/<version>: the discovery documents; undefined for any other path. */
function serveDiscovery(req: FastifyRequest, reply: FastifyReply, path: string, discovery: DiscoveryDocs, serverAddress: string): FastifyReply | undefined {
  const segs = path.split('/').filter(Boolean);
  if (path === '/api') {
    req.apiLabels!.resource = 'discovery';
    return wantsAggregated(req.headers.accept)
      ? sendRaw(reply, AGGREGATED_CONTENT_TYPE, discovery.apiAggregated)
      : reply.type('application/json').send(discovery.apiVersions(serverAddress));
  }
  if (path === '/apis') {
    req.apiLabels!.resource = 'discovery';
    return wantsAggregated(req.headers.accept)
      ? sendRaw(reply, AGGREGATED_CONTENT_TYPE, discovery.apisAggregated)
      : reply.type('application/json').send(discovery.apisLegacy);
  }
  if (segs[0] === 'apis' && segs.length === 2) {
    const g = discovery.group(segs[1]);
    if (!g) throw errors.pathNotFound();
    return reply.type('application/json').send(g);
  }
  if ((segs[0] === 'api' && segs.length === 2) || (segs[0] === 'apis' && segs.length === 3)) {
    const list = segs[0] === 'api' ? discovery.resourceList('', segs[1]) : discovery.resourceList(segs[1], segs[2]);
    if (!list) throw errors.pathNotFound();
    return reply.type('application/json').send(list);
  }
  return undefined;
}
