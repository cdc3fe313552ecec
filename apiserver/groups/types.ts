import type { Cidr } from '../../lib/ipv4';
import type { ApiError } from '../errors';
import type { FieldError } from './shared/fields';
import type { JsonObject } from '../json';
import type { NameRule } from './shared/object-meta';
import type { CachedObject } from '../watchcache';
import type { Logger } from '../../lib/log';
import type { ApiObject } from '../api-object';

/**
 * The shape of a served resource (ResourceDef) and of the per-kind storage strategy
 * (KindStrategy), as Kubernetes' per-resource registries define them
 * (pkg/registry/<group>/<kind>/strategy.go). The generic storage (resources.ts) calls these
 * hooks and names no kind; each kind's module under groups/<group>/ fills them in.
 */

export type Subresource = 'status' | 'approval' | 'scale' | 'binding' | 'eviction' | 'log' | 'exec' | 'attach' | 'portforward';

/** Subresources that write (part of) an object's status: /status, and /approval of CSRs. */
export type StatusSubresource = 'status' | 'approval';

/** The user a request runs as. */
export interface UserInfo { name: string; groups: string[]; uid?: string; extra?: Record<string, string[]> }

export interface AuthorizationDecision { allowed: boolean; reason?: string; denied?: boolean }

/** What a virtual (review) resource learns about the request. */
export interface ReviewContext {
  user?: UserInfo;
  /** The authorization seam: the security engineer's RBAC authorizer replaces the default. */
  /** `attrs`: the review's resourceAttributes or nonResourceAttributes (JSON), plus `nonResource`; request-attributes.ts normalizes them. */
  authorize(user: UserInfo | undefined, attrs: Record<string, unknown>): Promise<AuthorizationDecision> | AuthorizationDecision;
  /** The rules that apply to a user in a namespace (SelfSubjectRulesReview); absent without RBAC. */
  rulesFor?(user: UserInfo, namespace: string): Promise<unknown[]> | unknown[];
}

/** What validation and allocation may use from the apiserver's configuration and store. */
export interface StrategyContext {
  nodePortRange: [number, number];
  serviceCidr: Cidr;
  /** Keys currently in the store under `prefix` (another object's reservations). */
  listKeys(prefix: string): Promise<string[]>;
}


/**
 * Values an object holds exclusively (Service ClusterIPs and NodePorts): each is a store key
 * written in the same transaction as the object (compare create_revision == 0) and deleted
 * with it, so two apiservers can never hand out one value twice.
 */
export interface Reservations {
  /**
   * Before a create (old undefined) or update: fill in allocated values, keeping old's. Returns
   * the keys the user asked for explicitly: a conflict on one is a 422, on another a retry.
   */
  allocate(obj: ApiObject, old: ApiObject | undefined, ctx: StrategyContext): Promise<Set<string>>;
  /** The reservation keys an object holds. */
  keys(obj: ApiObject): string[];
  /** The 422 for a key another object holds. */
  conflict(obj: ApiObject, key: string): ApiError;
}

/** Storage access a kind's finalizer gets (the namespace lifecycle deletes the namespace's content). */
export interface FinalizerOps {
  /** The finalizing kind. */
  def: ResourceDef;
  log: Logger;
  /** Every stored namespaced resource. */
  namespacedDefs(): ResourceDef[];
  list(def: ResourceDef, ns: string | undefined, resourceVersion: string): Promise<{ items: CachedObject[] }>;
  delete(def: ResourceDef, ns: string, name: string): Promise<unknown>;
  /** The finalizing object as stored now (not from the cache). */
  read(name: string): Promise<CachedObject | undefined>;
  /** Removes the (finalized) object; false when it changed meanwhile (try again). */
  remove(cur: CachedObject): Promise<boolean>;
}

/** A running finalizer: takes marked objects by name until stopped. */
export interface Finalizer {
  /** The object `name` was marked for deletion. */
  enqueue(name: string): void;
  /** Enqueue every object that is marked (at apiserver start). */
  resume(): Promise<void>;
  stop(): void;
}

/**
 * A DELETE the apiserver itself finishes (the Namespace lifecycle): the object is marked
 * (deletionTimestamp, phase Terminating) and a finalizer removes it once its content is gone;
 * finalizers running out never remove it.
 */
export interface FinalizingDelete {
  /** The marked copy of `obj` (a private copy the hook may change). */
  mark(obj: ApiObject, now: Date): ApiObject;
  startFinalizer(ops: FinalizerOps): Finalizer;
}

/** The autoscaling/v1 Scale subresource of a kind with replicas. */
export interface ScaleSubresource {
  toScale(obj: ApiObject): ApiObject;
  /** The object with the replicas of `scale` (a Scale body from the client); throws 400/422/409. */
  fromScale(cur: ApiObject, scale: unknown, name: string): ApiObject;
}

/** POST <kind>/NAME/binding (pods). */
export interface BindingSubresource {
  /** Checks a Binding body from the client (400/422); its target and resourceVersion precondition. */
  parse(binding: unknown, name: string): { target: string; resourceVersion?: string };
  /** The bound copy of `cur` (a private copy); throws 409 when it cannot be bound. */
  bind(cur: ApiObject, name: string, target: string, now: Date): ApiObject;
}

/** Storage hooks beyond defaulting and validation; absent ones mean the generic behaviour. */
export interface KindStrategy {
  /**
   * The grace period (seconds) of a DELETE of a `gracefulDelete` kind, given the client's
   * gracePeriodSeconds; 0 deletes at once, more marks the object for its node to finish.
   */
  gracePeriod?(obj: ApiObject, requested: number | undefined): number;
  reservations?: Reservations;
  /** Before a DELETE of `obj` (as stored): throws an ApiError to refuse it (the built-in PriorityClasses). */
  beforeDelete?(obj: ApiObject): void;
  finalizingDelete?: FinalizingDelete;
  scale?: ScaleSubresource;
  binding?: BindingSubresource;
  /**
   * The status a write of a status-like subresource leaves (default: the incoming status as
   * it is). CSRs: /approval changes only the Approved/Denied conditions, /status keeps them.
   */
  subresourceStatus?(subresource: StatusSubresource, cur: ApiObject, incoming: unknown): unknown;
  /**
   * Every write (create and update) attaches the object to a store lease of the apiserver's
   * --event-ttl, so the store deletes it that long after its last write (Events).
   */
  expiresAfterEventTtl?: boolean;
}

/** A printer column: name, type, priority (> 0: `-o wide` only), format ('name' for the name column). */
export type PrinterColumn = [name: string, type: string, priority?: number, format?: string];

/** The Table columns of a kind (kubectl get), as Kubernetes' pkg/printers/internalversion prints them. */
export interface Printer<T = ApiObject> {
  columns: PrinterColumn[];
  /** The row of a stored object (validated on write; typed with kubernetes-types where the kind has one). */
  cells(obj: T, now: Date): unknown[];
}

export interface ResourceDef {
  group: string; // '' for core
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  nameRule: NameRule;
  subresources: Subresource[];
  /** spec/status split: the main resource ignores status changes, /status changes only status. */
  hasStatus: boolean;
  /** On create: 'clear' drops the client's status (then `prepareForCreate` may set one). */
  statusOnCreate: 'clear' | 'keep';
  /** PUT of a missing object creates it (Kubernetes: endpoints, events). */
  allowCreateOnUpdate: boolean;
  /** DELETE sets deletionTimestamp and waits for the kubelet (pods on a node), for strategy.gracePeriod. */
  gracefulDelete: boolean;
  /** field labels accepted by fieldSelector, beyond metadata.name / metadata.namespace */
  fieldLabels: string[];
  /** Fills in defaults, on create and on update. */
  defaults?(obj: ApiObject): void;
  /** System fields set on create only (status, generated selectors). */
  prepareForCreate?(obj: ApiObject): void;
  /** On create: fields taken from the requesting user, whatever the body says (CSR spec.username/groups). */
  setRequester?(obj: ApiObject, user: UserInfo | undefined): void;
  /** Verbs served (default VERBS); create-only virtual resources (access reviews) list ['create']. */
  verbs?: string[];
  /** Not stored: a POST is answered by this function (SelfSubjectAccessReview). */
  review?(body: JsonObject, ctx: ReviewContext): Promise<unknown> | unknown;
  /**
   * Served from another version's storage (autoscaling/v1 HPAs live as autoscaling/v2):
   * objects are converted at the REST boundary; the storage version's def does the rest.
   */
  storageVersion?: { version: string; toStorage(body: unknown): unknown; fromStorage(obj: ApiObject): ApiObject };
  /** Field errors of a new object (old undefined) or of an update. */
  validate?(obj: ApiObject, ctx: StrategyContext, old?: ApiObject): FieldError[];
  strategy?: KindStrategy;
  /** Table columns (default: Name, Age). */
  printer?: Printer;
}
