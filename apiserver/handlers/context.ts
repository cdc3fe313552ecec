import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UserInfo } from '../auth';
import type { Decision } from '../rbac';
import type { Registry } from '../registry';
import type { ResourceDef } from '../groups/types';
import type { ResourceStorage } from '../resources';
import type { Query } from '../query';
import type { KubeletClientPool } from '../../kubelet/api/client';

/**
 * The types the REST dispatcher (rest.ts), the verb handlers (handlers/) and the streaming
 * subresources (streaming/) share: a parsed API path, the server-wide context, one request.
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

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/** Labels for metrics, set on the request by the handler. */
export interface RequestLabels { verb: string; resource: string }

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
  authorize?: (user: UserInfo | undefined, attrs: Record<string, unknown>) => Promise<Decision> | Decision;
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

export type NamedPath = ApiPath & { resource: string; name: string };

export type SubresourceHandler = (req: FastifyRequest, reply: FastifyReply, p: NamedPath & { subresource: string }, def: ResourceDef) => Promise<unknown>;

/** The authorizer when none is configured: members of system:masters may do everything. */
export const mastersOnlyAuthorizer = (user: UserInfo | undefined): Decision =>
  user?.groups.includes('system:masters') ? { allowed: true, reason: 'system:masters' } : { allowed: false, reason: 'no authorizer is configured beyond system:masters' };

/** One resource request, resolved by the dispatcher: what every verb handler is given. */
export interface ResourceRequest {
  readonly ctx: RestContext;
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
  readonly path: ApiPath;
  readonly verb: Verb;
  /** The resource as served at the request's version. */
  readonly served: ResourceDef;
  /** The resource as stored: `served`, or the version it is stored at (autoscaling/v1 over v2). */
  readonly def: ResourceDef;
  readonly query: Query;
  /** The Accept header asks for a meta.k8s.io Table. */
  readonly table: boolean;
}

/** A request on one named object (get, update, patch, delete, subresources). */
export type NamedRequest = ResourceRequest & { readonly path: NamedPath };

export const JSON_TYPE = 'application/json';
