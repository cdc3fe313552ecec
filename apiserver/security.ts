import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../lib/log';
import { type Authenticator, type ObjectLookup, type UserInfo, bootstrapTokenAuthenticator, clientCertificateAuthenticator, firstOf, serviceAccountAuthenticator, staticTokenAuthenticator } from './auth';
import { ApiError, errors } from './errors';
import { TokenSigner, type TokenVerifier } from './jwt';
import { type Attributes, type Decision, type PolicyRule, RbacIndex } from './rbac';
import { DEFAULT_CLUSTER_ROLES, DEFAULT_CLUSTER_ROLE_BINDINGS } from './rbac-defaults';
import { type Registry, objectKey } from './registry';
import type { ResourceDef } from './groups/types';
import { startNamespaceLoop } from './namespace-loop';
import type { ResourceStorage } from './resources';
import { requestBody } from './handlers/body';
import { isObject } from './json';
import type { SubresourceHandler } from './handlers/context';
import { rfc3339 } from '../lib/time';
import type { ClusterRole, ClusterRoleBinding } from 'kubernetes-types/rbac/v1';
import { type ApiObject, objectName } from './api-object';

/**
 * The apiserver's security wiring over its watch cache: the authenticator chain, the RBAC
 * authorizer (an index rebuilt when RBAC objects change, read-your-writes within this
 * apiserver, no store round trip per request), default policy at startup, a `default`
 * ServiceAccount in every namespace, and the serviceaccounts/token subresource (TokenRequest).
 */

export interface SecurityOptions {
  staticTokens?: Map<string, UserInfo>;
  verifier?: TokenVerifier;
  signer?: TokenSigner;
  /** Default audiences of issued tokens (--api-audiences; default the issuer). */
  apiAudiences?: string[];
  /** Upper bound of expirationSeconds (--service-account-max-token-expiration), seconds. */
  maxTokenExpirationSeconds?: number;
  now?: () => Date;
}

const RBAC = 'rbac.authorization.k8s.io';

export class Security {
  private index?: RbacIndex;
  private indexKey = '';
  private readonly defs: { roles: ResourceDef; clusterRoles: ResourceDef; roleBindings: ResourceDef; clusterRoleBindings: ResourceDef };
  private saLoop?: { stop(): void };
  readonly objects: ObjectLookup;
  readonly authenticate: Authenticator;

  constructor(private readonly storage: ResourceStorage, private readonly registry: Registry, private readonly log: Logger, private readonly opts: SecurityOptions = {}) {
    const def = (g: string, r: string) => registry.lookup(g, 'v1', r)!;
    this.defs = { roles: def(RBAC, 'roles'), clusterRoles: def(RBAC, 'clusterroles'), roleBindings: def(RBAC, 'rolebindings'), clusterRoleBindings: def(RBAC, 'clusterrolebindings') };
    this.objects = {
      get: (resource, ns, name) => {
        const d = registry.lookup('', 'v1', resource);
        return d ? storage.cache(d).get(objectKey(d, ns, name))?.obj : undefined;
      },
    };
    const chain: Authenticator[] = [clientCertificateAuthenticator];
    if (opts.staticTokens?.size) chain.push(staticTokenAuthenticator(opts.staticTokens));
    if (opts.verifier) chain.push(serviceAccountAuthenticator(opts.verifier, this.objects));
    chain.push(bootstrapTokenAuthenticator(this.objects, opts.now));
    this.authenticate = firstOf(...chain);
  }

  private now(): Date { return this.opts.now?.() ?? new Date(); }

  /** Whether this server signs ServiceAccount tokens (TokenRequest; projected token volumes). */
  get signsTokens(): boolean { return !!this.opts.signer; }

  /** The RBAC index, rebuilt when a cache moved; waits (briefly) for this apiserver's own RBAC writes. */
  private async rbac(): Promise<RbacIndex> {
    const caches = Object.values(this.defs).map((d) => [d, this.storage.cache(d)] as const);
    for (const [d, c] of caches) {
      const want = this.storage.lastWriteRevision(d);
      if (c.revision < want || !c.isLoaded) await c.waitFor(want, 2_000);
    }
    const key = caches.map(([, c]) => c.revision).join(',');
    if (!this.index || key !== this.indexKey) {
      const list = (d: ResourceDef) => this.storage.cache(d).list().map((x) => x.obj);
      this.index = new RbacIndex({
        roles: list(this.defs.roles), clusterRoles: list(this.defs.clusterRoles),
        roleBindings: list(this.defs.roleBindings), clusterRoleBindings: list(this.defs.clusterRoleBindings),
      });
      this.indexKey = key;
    }
    return this.index;
  }

  authorize = async (user: UserInfo | undefined, attrs: Record<string, unknown>): Promise<Decision> => {
    if (user?.groups.includes('system:masters')) return { allowed: true, reason: 'system:masters' };
    const a = normalizeAttributes(attrs);
    return (await this.rbac()).authorize(user, a);
  };

  rulesFor = async (user: UserInfo, namespace: string): Promise<PolicyRule[]> => (await this.rbac()).rulesFor(user, namespace);

  // ---------------------------------------------------------------- startup

  /** Creates the default ClusterRoles/Bindings, and adds missing rules/subjects to auto-updated ones. */
  async reconcileDefaultPolicy(): Promise<void> {
    const ignoreExists = async (f: () => Promise<unknown>) => {
      try { await f(); } catch (e) { if (!(e instanceof ApiError && (e.reason === 'AlreadyExists' || e.reason === 'Conflict'))) throw e; }
    };
    const reconcile = async (d: ResourceDef, desired: ClusterRole | ClusterRoleBinding, field: 'rules' | 'subjects') => {
      const name = desired.metadata?.name ?? '';
      const cur = await this.storage.read(d, undefined, name);
      if (!cur) return ignoreExists(() => this.storage.create(d, undefined, structuredClone(desired)));
      if (cur.obj.metadata?.annotations?.['rbac.authorization.kubernetes.io/autoupdate'] === 'false') return;
      const live = cur.obj as ApiObject & { rules?: unknown; subjects?: unknown; aggregationRule?: unknown };
      const had = live[field];
      const have: unknown[] = Array.isArray(had) ? had : [];
      const seen = new Set(have.map((x) => JSON.stringify(x)));
      const wanted: unknown[] = ('rules' in desired ? desired.rules : 'subjects' in desired ? desired.subjects : undefined) ?? [];
      const missing = wanted.filter((x) => !seen.has(JSON.stringify(x)));
      const aggregationRule = 'aggregationRule' in desired ? desired.aggregationRule : undefined;
      const aggr = field === 'rules' && aggregationRule && JSON.stringify(live.aggregationRule) !== JSON.stringify(aggregationRule);
      if (!missing.length && !aggr) return;
      await ignoreExists(() => this.storage.update(d, undefined, name, {
        ...cur.obj, [field]: [...have, ...missing], ...(aggregationRule ? { aggregationRule } : {}),
      }));
    };
    for (const cr of DEFAULT_CLUSTER_ROLES) await reconcile(this.defs.clusterRoles, cr, 'rules');
    for (const b of DEFAULT_CLUSTER_ROLE_BINDINGS) await reconcile(this.defs.clusterRoleBindings, b, 'subjects');
  }

  /**
   * Keeps a `default` ServiceAccount in every active namespace (Kubernetes' serviceaccounts
   * controller): checked whenever the namespaces or serviceaccounts caches move.
   */
  startServiceAccountsLoop(intervalMs = 200): void {
    const saDef = this.registry.lookup('', 'v1', 'serviceaccounts')!;
    const saCache = this.storage.cache(saDef);
    this.saLoop = startNamespaceLoop({
      storage: this.storage, registry: this.registry, log: this.log, what: 'default ServiceAccounts', watched: saDef, intervalMs,
      ensure: async (ns) => {
        if (saCache.get(objectKey(saDef, ns, 'default'))) return;
        await this.storage.create(saDef, ns, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
      },
    });
  }

  stop(): void {
    this.saLoop?.stop();
  }

  // ---------------------------------------------------------------- serviceaccounts/token

  /** POST .../serviceaccounts/<name>/token: a TokenRequest answered with a signed token (201). */
  tokenRequest: SubresourceHandler = async (req: FastifyRequest, reply: FastifyReply, p, def) => {
    if (req.method !== 'POST') throw errors.methodNotAllowed(req.method, 'serviceaccounts/token');
    if (!this.opts.signer) throw errors.notFound('serviceaccounts/token', '', p.name);
    const spec = tokenRequestSpec(requestBody(req), p.name);
    const audiences = spec.audiences ?? this.opts.apiAudiences ?? [this.opts.signer.issuer];
    const seconds = Math.min(spec.expirationSeconds, this.opts.maxTokenExpirationSeconds ?? spec.expirationSeconds);
    const sa = (await this.storage.get(def, p.namespace, p.name)).obj;
    let bound: { kind: string; name: string; uid: string } | undefined;
    const ref = spec.boundObjectRef;
    if (ref !== undefined && ref !== null) {
      const invalid = invalidTokenRequest(p.name);
      if (!isObject(ref) || typeof ref.kind !== 'string' || !['Pod', 'Secret', 'Node'].includes(ref.kind)) throw invalid('spec.boundObjectRef.kind', 'supported values: "Pod", "Secret", "Node"', isObject(ref) ? ref.kind : undefined);
      if (typeof ref.name !== 'string' || !ref.name) throw invalid('spec.boundObjectRef.name', 'Required value');
      const rdef = this.registry.lookup('', 'v1', ref.kind === 'Pod' ? 'pods' : ref.kind === 'Secret' ? 'secrets' : 'nodes')!;
      const obj = (await this.storage.read(rdef, ref.kind === 'Node' ? undefined : p.namespace, ref.name))?.obj;
      if (!obj) throw errors.notFound(rdef.plural, '', ref.name);
      if (ref.uid && ref.uid !== obj.metadata.uid) throw errors.conflict(rdef.plural, '', ref.name, `the UID in the bound object reference (${String(ref.uid)}) does not match the UID in record. The object might have been deleted and then recreated`);
      bound = { kind: ref.kind, name: ref.name, uid: obj.metadata.uid ?? '' };
    }
    const nowS = Math.floor(this.now().getTime() / 1000);
    const token = this.opts.signer.sign(TokenSigner.claims(nowS, seconds, audiences, p.namespace!, { name: objectName(sa), uid: sa.metadata.uid ?? '' }, bound));
    const out = {
      kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: p.name, namespace: p.namespace, creationTimestamp: null },
      spec: { audiences, expirationSeconds: seconds, boundObjectRef: ref ?? null },
      status: { token, expirationTimestamp: rfc3339((nowS + seconds) * 1000) },
    };
    return reply.code(201).type('application/json').send(JSON.stringify(out));
  };
}

const invalidTokenRequest = (name: string) => (field: string, message: string, value?: unknown) =>
  errors.invalid('TokenRequest', 'authentication.k8s.io', name, [{ field, message: value === undefined ? message : `Invalid value: ${JSON.stringify(value)}: ${message}`, reason: 'FieldValueInvalid' }]);

/** A TokenRequest's spec, checked: audiences (undefined: the server's), expirationSeconds, boundObjectRef as sent. */
function tokenRequestSpec(decoded: unknown, name: string): { audiences?: string[]; expirationSeconds: number; boundObjectRef?: unknown } {
  const body = decoded ?? {};
  if (!isObject(body)) throw errors.badRequest('the request body must be a TokenRequest object');
  if (body.kind !== undefined && body.kind !== 'TokenRequest') throw errors.badRequest(`the kind of the object (${String(body.kind)}) does not match the expected kind (TokenRequest)`);
  const spec = body.spec ?? {};
  if (!isObject(spec)) throw errors.badRequest('spec must be an object');
  const invalid = invalidTokenRequest(name);
  const a = spec.audiences;
  const audiences = a === undefined || a === null || (Array.isArray(a) && !a.length) ? undefined : a;
  if (audiences !== undefined && (!Array.isArray(audiences) || audiences.some((x) => typeof x !== 'string' || !x || x.length > 1024))) throw invalid('spec.audiences', 'must be a list of non-empty strings', a);
  const exp = spec.expirationSeconds ?? 3600;
  if (typeof exp !== 'number' || !Number.isInteger(exp)) throw invalid('spec.expirationSeconds', 'must be an integer', exp);
  if (exp < 600) throw invalid('spec.expirationSeconds', 'may not specify a duration less than 10 minutes', exp);
  if (exp > 2 ** 32) throw invalid('spec.expirationSeconds', 'may not specify a duration larger than 2^32 seconds', exp);
  return { audiences: audiences as string[] | undefined, expirationSeconds: exp, boundObjectRef: spec.boundObjectRef };
}

/** SSAR/SAR attributes or request attributes → Attributes. */
function normalizeAttributes(a: Record<string, unknown>): Attributes {
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  if (a.nonResource) return { nonResource: true, verb: s(a.verb) ?? '', path: s(a.path) ?? '' };
  return { verb: s(a.verb) ?? '', group: s(a.group) ?? '', version: s(a.version), resource: s(a.resource) ?? '', subresource: s(a.subresource) || undefined, name: s(a.name) || undefined, namespace: s(a.namespace) || undefined };
}
