import { cloneJson } from './clone';
import { randomSuffix } from '../lib/names';
import { rfc3339 } from '../lib/time';
import type { Logger } from '../lib/log';
import { ApiError, errors } from './errors';
import type { Cidr } from '../lib/ipv4';
import { type PatchType, applyPatch } from './patch';
import { type Registry, apiVersionOf, keyPrefix, objectKey } from './registry';
import type { Finalizer, ResourceDef, StatusSubresource, StrategyContext } from './groups/types';
import { type ApiObject, type StorageView, objectName } from './api-object';
import { type JsonObject, isObject, objectOr } from './json';
import { sameObject } from './same-object';
import { type Compare, type KeyValue, type Store, type TxnOp } from './storage/types';
import { LeaseManager } from './storage/lease-manager';
import { type CachedObject, WatchCache, decodeKv } from './watchcache';
import { type BeforeWriteContext, beforeCreate, beforeUpdate, checkBody, specifiedReservations } from './before-write';
import { type ManagedFieldsEntry, applyManagedFields, fieldsOf, formatPath, removePath, updateManagedFields } from './managedfields';

/**
 * Generic storage semantics of every resource (Kubernetes' registry/generic store): create,
 * get, list, update, patch, delete, plus the status/scale/binding subresources, optimistic
 * concurrency, graceful deletion and finalizers; defaulting, validation and system metadata
 * before a write are before-write.ts. What is
 * particular to a kind (Service reservations, the Namespace lifecycle, Scale and Binding) is
 * that kind's strategy (groups/types.ts KindStrategy), called here by hook. Independent of
 * HTTP: the REST layer and the bootstrap both call it.
 *
 * Read-your-writes: every successful write records its revision per resource; a get or list
 * is served from the watch cache once the cache has reached that revision (else the get goes
 * to the store, the list waits up to 3 s).
 */

export interface ResourceStorageDeps {
  store: Store;
  registry: Registry;
  log: Logger;
  serviceCidr: Cidr;
  nodePortRange: [number, number];
  now?: () => Date;
  /** watch cache tuning (tests) */
  cacheCapacity?: number;
  /** Mutating/validating admission on create, after defaulting and validation (serviceaccount-admission.ts). */
  admit?: (def: ResourceDef, ns: string | undefined, obj: ApiObject, opts?: { dryRun?: boolean }) => Promise<void>;
  /** Admission on a full update (PUT) of `next`, before validation. */
  admitUpdate?: (def: ResourceDef, ns: string | undefined, next: ApiObject, old: ApiObject) => void;
  /** Validating admission of an update or patch (not of a subresource), after validation: `old` as stored. */
  validateUpdate?: (def: ResourceDef, ns: string | undefined, next: ApiObject, old: ApiObject, opts?: { dryRun?: boolean }) => Promise<void>;
  /** Seconds an object of a kind with strategy.expiresAfterEventTtl lives after its last write (--event-ttl); 0 or absent: forever. */
  eventTtlSeconds?: number;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** The field manager recorded in managedFields (none: ownership is left as it was). */
  fieldManager?: string;
  /** Server-side apply: take conflicting fields from other managers. */
  force?: boolean;
}
export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
}

const MAX_RETRIES = 8;
const clone = cloneJson;


/** The stored form: the object without metadata.resourceVersion (the store's mod revision is the truth). */
export function encode(obj: ApiObject): Buffer {
  const { resourceVersion: _rv, ...meta } = objectOr(obj.metadata);
  return Buffer.from(JSON.stringify({ ...obj, metadata: meta }));
}


/** A write lost the race on the mod revision; `current` is the object the store holds now (the txn's failure read), if any. */
class RetryConflict extends Error {
  constructor(readonly current?: KeyValue) { super('conflict'); }
}

/** An update computed from a cached copy that may be behind the store came out a no-op: decide again from the store. */
class StaleRead extends Error {}

export class ResourceStorage {
  /** by key prefix: versions of one resource (autoscaling v1/v2) share their storage */
  private readonly caches = new Map<string, WatchCache>();
  private readonly lastWrite = new Map<string, number>();
  private readonly now: () => Date;
  /** Running finalizers of kinds whose deletion the apiserver finishes (strategy.finalizingDelete), by plural. */
  private readonly finalizers = new Map<string, Finalizer>();
  /** What kinds' validation and allocation see of the configuration and the store. */
  private readonly strategyContext: StrategyContext;
  /** Store leases of expiring kinds (Events); absent without an event TTL. */
  readonly leases?: LeaseManager;

  constructor(private readonly deps: ResourceStorageDeps) {
    this.now = deps.now ?? (() => new Date());
    const grant = deps.store.grantLease?.bind(deps.store);
    if (deps.eventTtlSeconds && grant) this.leases = new LeaseManager({ grant, now: () => this.now().getTime() });
    this.strategyContext = {
      serviceCidr: deps.serviceCidr,
      nodePortRange: deps.nodePortRange,
      listKeys: async (prefix) => (await deps.store.list(prefix, { keysOnly: true })).kvs.map((kv) => kv.key),
    };
    for (const def of deps.registry.stored()) {
      const fd = def.strategy?.finalizingDelete;
      if (!fd) continue;
      this.finalizers.set(def.plural, fd.startFinalizer({
        def,
        log: deps.log,
        namespacedDefs: () => deps.registry.stored().filter((d) => d.namespaced),
        list: (d, ns, rv) => this.list(d, ns, rv),
        delete: (d, ns, name) => this.delete(d, ns, name),
        read: (name) => this.read(def, undefined, name, { fromStore: true }),
        remove: async (cur) => {
          try { await this.commitDelete(def, cur, {}); return true; } catch (e) { if (e instanceof RetryConflict) return false; throw e; }
        },
      }));
    }
  }

  get registry(): Registry { return this.deps.registry; }
  get store(): Store { return this.deps.store; }

  cache(def: ResourceDef): WatchCache {
    const prefix = keyPrefix(def);
    let c = this.caches.get(prefix);
    if (!c) {
      c = new WatchCache(this.deps.store, prefix, this.deps.log, { capacity: this.deps.cacheCapacity });
      this.caches.set(prefix, c);
      void c.ready();
    }
    return c;
  }

  /** Start every resource's watch cache and wait for the initial lists. */
  async start(): Promise<void> {
    await Promise.all(this.deps.registry.stored().map((d) => this.cache(d).ready()));
  }

  stop(): void {
    for (const f of this.finalizers.values()) f.stop();
    for (const c of this.caches.values()) c.stop();
  }

  private noteWrite(def: ResourceDef, rev: number): void {
    const prefix = keyPrefix(def);
    if (rev > (this.lastWrite.get(prefix) ?? 0)) this.lastWrite.set(prefix, rev);
  }

  lastWriteRevision(def: ResourceDef): number {
    return this.lastWrite.get(keyPrefix(def)) ?? 0;
  }

  private fresh(def: ResourceDef): WatchCache | undefined {
    const c = this.cache(def);
    return c.isLoaded && c.revision >= this.lastWriteRevision(def) ? c : undefined;
  }

  private writeContext(): BeforeWriteContext {
    return { now: this.now(), strategy: this.strategyContext };
  }

  /** The store lease a write of `def` attaches its object to (Events: one of --event-ttl), if any. */
  private async leaseFor(def: ResourceDef): Promise<string | undefined> {
    if (!def.strategy?.expiresAfterEventTtl || !this.leases) return undefined;
    return this.leases.leaseFor(this.deps.eventTtlSeconds!);
  }

  private nf(def: ResourceDef, name: string): ApiError {
    return errors.notFound(def.plural, def.group, name);
  }

  /** The current object, read-your-writes; undefined if absent. */
  async read(def: ResourceDef, ns: string | undefined, name: string, opts: { fromStore?: boolean } = {}): Promise<CachedObject | undefined> {
    const key = objectKey(def, ns, name);
    const c = opts.fromStore ? undefined : this.fresh(def);
    if (c) return c.get(key);
    const { kv } = await this.deps.store.get(key);
    return kv ? decodeKv(kv) : undefined;
  }

  /**
   * The object an update starts from: the watch cache's copy even when the cache may be behind
   * this server's last write of the resource (`stale`), as Kubernetes' GuaranteedUpdate starts
   * from its cache: the write compares the mod revision, so a stale copy costs a retry, never a
   * lost update. From the store when the cache is not loaded, or may have missed the object's
   * creation, or for a dry run (which writes nothing that would catch a stale copy).
   */
  private async readForUpdate(def: ResourceDef, ns: string | undefined, name: string, dryRun?: boolean): Promise<{ old?: CachedObject; cached: boolean; stale: boolean }> {
    const c = this.cache(def);
    if (c.isLoaded) {
      const fresh = c.revision >= this.lastWriteRevision(def);
      const cached = fresh || dryRun ? undefined : c.get(objectKey(def, ns, name));
      if (fresh) return { old: c.get(objectKey(def, ns, name)), cached: true, stale: false };
      if (cached) return { old: cached, cached: true, stale: true };
    }
    return { old: await this.read(def, ns, name, { fromStore: true }), cached: false, stale: false };
  }

  async get(def: ResourceDef, ns: string | undefined, name: string): Promise<CachedObject> {
    const c = await this.read(def, ns, name);
    if (!c) throw this.nf(def, name);
    return c;
  }

  /**
   * Objects for a list (namespace-scoped when `ns`), with the list's resourceVersion.
   * `resourceVersion` "" waits for read-your-writes; "0" takes the cache as is; N waits for N.
   */
  async list(def: ResourceDef, ns: string | undefined, resourceVersion?: string): Promise<{ items: CachedObject[]; revision: number }> {
    const c = this.cache(def);
    if (resourceVersion && !/^\d{1,19}$/.test(resourceVersion)) throw errors.badRequest(`invalid resourceVersion "${resourceVersion.slice(0, 100)}"`);
    const want = resourceVersion && resourceVersion !== '0' ? Number(resourceVersion) : resourceVersion === '0' ? 0 : this.lastWriteRevision(def);
    if (Number.isNaN(want)) throw errors.badRequest(`invalid resourceVersion "${resourceVersion}"`);
    const ok = await c.waitFor(want, 3_000);
    if (!ok && !c.isLoaded) throw errors.unavailable('the watch cache is not ready yet (store unavailable?)');
    if (!ok && resourceVersion && resourceVersion !== '0') throw errors.tooLargeResourceVersion(want, c.revision);
    return { items: c.list(def.namespaced && ns ? keyPrefix(def, ns) : undefined), revision: c.revision };
  }

  // ---------------------------------------------------------------- create

  async create(def: ResourceDef, ns: string | undefined, body: unknown, opts: WriteOptions & { apply?: boolean } = {}): Promise<ApiObject> {
    const wctx = this.writeContext();
    const obj = beforeCreate(def, ns, body, wctx);
    if (opts.fieldManager) {
      const info = { manager: opts.fieldManager, apiVersion: apiVersionOf(def), time: rfc3339(wctx.now) };
      const entries = opts.apply
        ? applyManagedFields([], {}, body, info, true).entries
        : updateManagedFields([], {}, body, info);
      if (entries.length) obj.metadata.managedFields = entries;
      else delete obj.metadata.managedFields;
    }
    if (def.namespaced) await this.checkNamespace(def, ns!, obj.metadata.name ?? obj.metadata.generateName);
    const nameGenerated = !obj.metadata.name;
    // The first generated name is picked before admission, so admission's messages name the
    // object as Kubernetes' do (`pods "web-5d4f8-x2k9p" is forbidden: ...`).
    if (nameGenerated) obj.metadata.name = obj.metadata.generateName + randomSuffix();
    if (this.deps.admit) await this.deps.admit(def, ns, obj, { dryRun: opts.dryRun });
    const held = def.strategy?.reservations;
    // Only generated names and allocations change the object between attempts.
    const retries = nameGenerated || held !== undefined;
    for (let attempt = 0; ; attempt++) {
      const o = retries ? clone(obj) : obj;
      if (nameGenerated && attempt > 0) o.metadata.name = o.metadata.generateName + randomSuffix();
      const name = objectName(o);
      const specified = held ? await held.allocate(o, undefined, this.strategyContext) : new Set<string>();
      if (opts.dryRun) return o;
      const key = objectKey(def, ns, name);
      const reservations = held ? held.keys(o) : [];
      const owner = Buffer.from(`${ns}/${name}`);
      const lease = await this.leaseFor(def);
      const r = await this.deps.store.txn(
        [{ key, target: 'create', equals: 0 }, ...reservations.map((k): Compare => ({ key: k, target: 'create', equals: 0 }))],
        [{ put: { key, value: encode(o), lease } }, ...reservations.map((k): TxnOp => ({ put: { key: k, value: owner } }))],
        [{ get: { key } }, ...reservations.map((k): TxnOp => ({ get: { key: k } }))],
      );
      if (r.succeeded) {
        this.noteWrite(def, r.revision);
        o.metadata.resourceVersion = String(r.revision);
        return o;
      }
      if (r.results[0]) {
        if (nameGenerated && attempt < MAX_RETRIES) continue;
        throw errors.alreadyExists(def.plural, def.group, name);
      }
      const taken = reservations.filter((_k, i) => r.results[i + 1]);
      const bad = taken.find((k) => specified.has(k));
      if (bad) throw this.reservationConflict(def, o, bad);
      if (attempt >= MAX_RETRIES) throw errors.internal('could not allocate a free ClusterIP/NodePort after several attempts');
    }
  }

  /** The 422 for a reservation key another object holds (a race lost on a value the user asked for). */
  private reservationConflict(def: ResourceDef, o: ApiObject, key: string): ApiError {
    const held = def.strategy?.reservations;
    return held ? held.conflict(o, key) : errors.conflict(def.plural, def.group, objectName(o));
  }

  private async checkNamespace(def: ResourceDef, ns: string, name: string | undefined): Promise<void> {
    const nsDef = this.deps.registry.lookup('', 'v1', 'namespaces')!;
    const n = await this.read(nsDef, undefined, ns);
    if (!n) throw errors.notFound('namespaces', '', ns);
    if (n.obj.metadata?.deletionTimestamp) {
      throw errors.forbidden(`${def.group ? `${def.plural}.${def.group}` : def.plural} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
        { name, group: def.group, kind: def.plural });
    }
  }

  // ---------------------------------------------------------------- update

  /**
   * Write `next` over `old` atomically (compare on old's mod revision), maintaining the kind's
   * reservations and removing the object when its deletion is complete (deletionTimestamp,
   * grace 0, no finalizers). Throws RetryConflict when `old` is stale.
   */
  private async commit(def: ResourceDef, old: CachedObject, next: ApiObject, opts: WriteOptions, specified = new Set<string>(), staleOld = false): Promise<ApiObject> {
    const meta = next.metadata;
    const finished = !def.strategy?.finalizingDelete && meta.deletionTimestamp && !(meta.finalizers?.length) && (!def.gracefulDelete || meta.deletionGracePeriodSeconds === 0);
    if (finished) return opts.dryRun ? next : this.commitDelete(def, old, opts);
    if (sameObject(old.obj, next)) {
      if (staleOld) throw new StaleRead(); // no-op against a copy that may be old: the store's object decides
      return clone(old.obj); // a no-op write keeps its resourceVersion
    }
    if (opts.dryRun) return next;
    const held = def.strategy?.reservations;
    const oldRes = held ? held.keys(old.obj) : [];
    const newRes = held ? held.keys(next) : [];
    const added = newRes.filter((k) => !oldRes.includes(k));
    const removed = oldRes.filter((k) => !newRes.includes(k));
    const owner = Buffer.from(`${meta.namespace}/${meta.name}`);
    const lease = await this.leaseFor(def);
    const r = await this.deps.store.txn(
      [{ key: old.key, target: 'mod', equals: old.rv }, ...added.map((k): Compare => ({ key: k, target: 'create', equals: 0 }))],
      [{ put: { key: old.key, value: encode(next), lease } }, ...added.map((k): TxnOp => ({ put: { key: k, value: owner } })), ...removed.map((k): TxnOp => ({ delete: { key: k } }))],
      [{ get: { key: old.key } }, ...added.map((k): TxnOp => ({ get: { key: k } }))],
    );
    if (r.succeeded) {
      this.noteWrite(def, r.revision);
      meta.resourceVersion = String(r.revision);
      return next;
    }
    const cur = r.results[0];
    if (!cur) throw this.nf(def, objectName(next));
    if (cur.modRevision !== old.rv) throw new RetryConflict(cur);
    const taken = added.filter((_k, i) => r.results[i + 1]);
    throw this.reservationConflict(def, next, taken.find((k) => specified.has(k)) ?? taken[0]);
  }

  private async commitDelete(def: ResourceDef, old: CachedObject, opts: WriteOptions): Promise<ApiObject> {
    if (opts.dryRun) return old.obj;
    const res = def.strategy?.reservations?.keys(old.obj) ?? [];
    const r = await this.deps.store.txn(
      [{ key: old.key, target: 'mod', equals: old.rv }],
      [{ delete: { key: old.key } }, ...res.map((k): TxnOp => ({ delete: { key: k } }))],
      [{ get: { key: old.key } }],
    );
    if (r.succeeded) {
      this.noteWrite(def, r.revision);
      const out = clone(old.obj);
      out.metadata.resourceVersion = String(r.revision);
      return out;
    }
    if (!r.results[0]) throw this.nf(def, objectName(old.obj));
    throw new RetryConflict();
  }

  /**
   * Read-modify-write with retries on conflict. `mutate` gets a private copy of the current
   * object and returns the desired one. With `precondition` (a client's resourceVersion), a
   * mismatch is a 409 Conflict instead of a retry.
   */
  private async guaranteedUpdate(def: ResourceDef, ns: string | undefined, name: string,
    mutate: (cur: ApiObject, old: CachedObject) => Promise<ApiObject> | ApiObject, opts: WriteOptions & { precondition?: unknown; onMissing?: () => Promise<ApiObject> } = {}): Promise<ApiObject> {
    // the object the store holds, as the last failed write read it
    let current: KeyValue | undefined;
    for (let attempt = 0; ; attempt++) {
      const { old, cached, stale } = attempt === 0 ? await this.readForUpdate(def, ns, name, opts.dryRun)
        : { old: current ? decodeKv(current) : await this.read(def, ns, name, { fromStore: true }), cached: false, stale: false };
      current = undefined;
      if (!old) {
        if (opts.onMissing) return opts.onMissing();
        throw this.nf(def, name);
      }
      if (opts.precondition && opts.precondition !== String(old.rv)) {
        if (attempt === 0 && cached && Number(opts.precondition) > old.rv) continue; // cache behind the client: recheck in the store
        throw errors.conflict(def.plural, def.group, name);
      }
      let next: ApiObject;
      try {
        next = await mutate(clone(old.obj), old);
      } catch (e) {
        if (stale) continue; // refused on a copy that may be old: decide on the store's object
        throw e;
      }
      try {
        return await this.commit(def, old, next, opts, specifiedReservations(next), stale);
      } catch (e) {
        if (e instanceof StaleRead) continue;
        if (!(e instanceof RetryConflict)) throw e;
        if (opts.precondition) throw errors.conflict(def.plural, def.group, name);
        if (attempt >= MAX_RETRIES) throw errors.conflict(def.plural, def.group, name);
        current = e.current;
      }
    }
  }

  /** `next` once validating admission (deps.validateUpdate) let the update of `cur` through. */
  private async validated(def: ResourceDef, ns: string | undefined, next: ApiObject, cur: ApiObject, opts: WriteOptions): Promise<ApiObject> {
    await this.deps.validateUpdate?.(def, ns, next, cur, { dryRun: opts.dryRun });
    return next;
  }

  async update(def: ResourceDef, ns: string | undefined, name: string, body: unknown, opts: WriteOptions & { subresource?: StatusSubresource } = {}): Promise<{ obj: ApiObject; created: boolean }> {
    const incoming = checkBody(def, ns, body);
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`);
    }
    incoming.metadata.name = name;
    let created = false;
    const obj = await this.guaranteedUpdate(def, ns, name, async (cur) => {
      if (opts.subresource) {
        const next: StorageView = { ...cur, status: subresourceStatus(def, opts.subresource, cur, (incoming as StorageView).status) };
        return beforeUpdate(def, cur, next, this.writeContext(), { fieldManager: opts.fieldManager, subresource: opts.subresource });
      }
      const next: StorageView = { ...incoming, metadata: { ...incoming.metadata } };
      if (def.hasStatus) next.status = (cur as StorageView).status;
      if (next.status === undefined) delete next.status;
      this.deps.admitUpdate?.(def, ns, next, cur);
      return this.validated(def, ns, await beforeUpdate(def, cur, next, this.writeContext(), { fieldManager: opts.fieldManager }), cur, opts);
    }, {
      ...opts,
      precondition: incoming.metadata.resourceVersion || undefined,
      onMissing: def.allowCreateOnUpdate && !opts.subresource ? async () => { created = true; return this.create(def, ns, incoming, opts); } : undefined,
    });
    return { obj, created };
  }

  /** `view`: the patch applies to another version's form of the object (autoscaling/v1 over v2). */
  async patch(def: ResourceDef, ns: string | undefined, name: string, type: PatchType, patch: unknown,
    opts: WriteOptions & { subresource?: StatusSubresource; view?: { from(o: ApiObject): ApiObject; to(patched: unknown): unknown } } = {}): Promise<{ obj: ApiObject; created: boolean }> {
    if (type !== 'json' && (patch === null || typeof patch !== 'object' || Array.isArray(patch))) throw errors.badRequest('the patch must be a JSON object');
    let created = false;
    // the client's resourceVersion as sent (only a string can match)
    const precondition = type !== 'json' ? objectOr(objectOr(patch).metadata).resourceVersion : undefined;
    const obj = await this.guaranteedUpdate(def, ns, name, async (cur) => {
      const wctx = this.writeContext();
      const patched = opts.view ? opts.view.to(applyPatch(type, opts.view.from(cur), patch)) : applyPatch(type, cur, patch);
      let applied = false;
      if (type === 'apply' && opts.fieldManager) {
        const info = { manager: opts.fieldManager, apiVersion: apiVersionOf(def), time: rfc3339(wctx.now), subresource: opts.subresource };
        const entries = cur.metadata?.managedFields as ManagedFieldsEntry[] | undefined;
        let r = applyManagedFields(entries, cur, patch, info, opts.force === true);
        // Upgrade from client-side apply (Kubernetes' lastAppliedManager): conflicts on fields
        // the last-applied-configuration declares move to the server-side applier.
        if (r.conflicts.length && upgradesClientSideApply(cur, r.conflicts)) r = applyManagedFields(entries, cur, patch, info, true);
        if (r.conflicts.length) throw conflictError(def, name, r.conflicts);
        for (const path of r.remove) removePath(patched, path);
        if (isObject(patched)) {
          const meta: JsonObject = { ...((patched.metadata ?? {}) as object) };
          if (r.entries.length) meta.managedFields = r.entries;
          else delete meta.managedFields;
          patched.metadata = meta;
        }
        applied = true;
      }
      if (!isObject(patched)) throw errors.badRequest('the patched object must be a JSON object');
      if (patched.kind !== undefined && patched.kind !== def.kind) throw errors.badRequest(`the kind of the patched object (${String(patched.kind)}) does not match ${def.kind}`);
      if (patched.apiVersion !== undefined && patched.apiVersion !== apiVersionOf(def)) throw errors.badRequest(`the API version in the data (${String(patched.apiVersion)}) does not match the expected API version (${apiVersionOf(def)})`);
      const patchedName = objectOr(patched.metadata).name;
      if (patchedName !== undefined && patchedName !== name) throw errors.badRequest(`the name of the object (${String(patchedName)}) does not match the name on the URL (${name})`);
      patched.metadata = patched.metadata && typeof patched.metadata === 'object' ? patched.metadata : {};
      // a JSON object with a metadata object whose kind and apiVersion are the resource's or absent: an ApiObject, as after checkBody
      const result = patched as unknown as StorageView;
      let next = result;
      if (opts.subresource) next = { ...cur, status: subresourceStatus(def, opts.subresource, cur, result.status), metadata: applied ? { ...cur.metadata, managedFields: result.metadata.managedFields } : cur.metadata };
      else if (def.hasStatus) next = { ...result, status: (cur as StorageView).status };
      if (next.status === undefined) delete next.status;
      const updated = await beforeUpdate(def, cur, next, wctx, { fieldManager: opts.fieldManager, subresource: opts.subresource, applied });
      return opts.subresource ? updated : this.validated(def, ns, updated, cur, opts);
    }, {
      ...opts,
      precondition,
      onMissing: type === 'apply' && !opts.subresource ? async () => {
        created = true;
        const body = objectOr(patch);
        const meta: unknown = body.metadata ?? {};
        return this.create(def, ns, { ...body, metadata: { ...(meta as object), name } }, { ...opts, apply: true });
      } : undefined,
    });
    return { obj, created };
  }

  // ---------------------------------------------------------------- delete

  async delete(def: ResourceDef, ns: string | undefined, name: string, opts: DeleteOptions = {}): Promise<ApiObject> {
    for (let attempt = 0; ; attempt++) {
      const old = await this.read(def, ns, name, { fromStore: attempt > 0 });
      if (!old) throw this.nf(def, name);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== old.obj.metadata.uid) {
        throw errors.conflict(def.plural, def.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.obj.metadata.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== String(old.rv)) {
        throw errors.conflict(def.plural, def.group, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.rv}`);
      }
      try {
        return await this.deleteOnce(def, old, opts);
      } catch (e) {
        if (!(e instanceof RetryConflict) || attempt >= MAX_RETRIES) throw e instanceof RetryConflict ? errors.conflict(def.plural, def.group, name) : e;
      }
    }
  }

  private graceFor(def: ResourceDef, obj: ApiObject, opts: DeleteOptions): number {
    if (!def.gracefulDelete) return 0;
    return def.strategy?.gracePeriod?.(obj, opts.gracePeriodSeconds) ?? 0;
  }

  private async deleteOnce(def: ResourceDef, old: CachedObject, opts: DeleteOptions): Promise<ApiObject> {
    const obj = old.obj;
    def.strategy?.beforeDelete?.(obj);
    const meta = obj.metadata;
    const finalizing = def.strategy?.finalizingDelete;
    if (finalizing) {
      if (meta.deletionTimestamp) return obj;
      const out = await this.commitMarked(def, old, finalizing.mark(clone(obj), this.now()), opts);
      if (!opts.dryRun) this.finalizers.get(def.plural)?.enqueue(objectName(obj));
      return out;
    }
    const grace = this.graceFor(def, obj, opts);
    // Orphan and Foreground propagation: the garbage collector finishes the deletion by
    // removing the finalizer once dependents are orphaned or gone.
    const gcFinalizer = opts.propagationPolicy === 'Orphan' ? ORPHAN_FINALIZER : opts.propagationPolicy === 'Foreground' ? FOREGROUND_FINALIZER : undefined;
    const addFinalizer = gcFinalizer !== undefined && !(meta.finalizers ?? []).includes(gcFinalizer);
    const finalizers = (meta.finalizers?.length ?? 0) > 0 || addFinalizer;
    if (grace === 0 && !finalizers) return this.commitDelete(def, old, opts);
    // graceful and/or finalizers: mark for deletion
    const next = clone(obj);
    const now = this.now();
    if (addFinalizer) {
      const others = (meta.finalizers ?? []).filter((f: string) => f !== ORPHAN_FINALIZER && f !== FOREGROUND_FINALIZER);
      next.metadata.finalizers = [...others, gcFinalizer];
    }
    if (meta.deletionTimestamp) {
      const cur = meta.deletionGracePeriodSeconds ?? 0;
      if (grace >= cur && !addFinalizer) return obj; // a longer or equal grace never extends a deletion
      if (grace >= cur) return this.commit(def, old, next, opts);
    }
    next.metadata.deletionTimestamp = rfc3339(now.getTime() + grace * 1000);
    next.metadata.deletionGracePeriodSeconds = grace;
    if (def.hasStatus && next.metadata.generation) next.metadata.generation++;
    return this.commit(def, old, next, opts);
  }

  /** Writes the marked object of a finalizing delete (no reservation or finalizer checks: it stays). */
  private async commitMarked(def: ResourceDef, old: CachedObject, next: ApiObject, opts: WriteOptions): Promise<ApiObject> {
    if (opts.dryRun) return next;
    const r = await this.deps.store.txn([{ key: old.key, target: 'mod', equals: old.rv }], [{ put: { key: old.key, value: encode(next) } }], [{ get: { key: old.key } }]);
    if (!r.succeeded) throw new RetryConflict();
    this.noteWrite(def, r.revision);
    next.metadata.resourceVersion = String(r.revision);
    return next;
  }

  /** Resume the finalizers of objects that were being deleted when the apiserver (re)started (Terminating namespaces). */
  async resumeNamespaceCleanup(): Promise<void> {
    for (const f of this.finalizers.values()) await f.resume();
  }

  // ---------------------------------------------------------------- subresources

  private scaleOf(def: ResourceDef) {
    const scale = def.strategy?.scale;
    if (!scale) throw errors.notFound(`${def.plural}/scale`, def.group, '');
    return scale;
  }

  /** The autoscaling/v1 Scale of an object whose kind has the scale subresource. */
  toScale(def: ResourceDef, obj: ApiObject): ApiObject {
    return this.scaleOf(def).toScale(obj);
  }

  /** PUT/PATCH of /scale: `change` maps the current Scale to the desired one. */
  async updateScale(def: ResourceDef, ns: string | undefined, name: string, change: (scale: ApiObject) => unknown, opts: WriteOptions = {}): Promise<ApiObject> {
    const scale = this.scaleOf(def);
    const obj = await this.guaranteedUpdate(def, ns, name, (cur) => {
      const desired = change(scale.toScale(cur));
      const precondition = objectOr(objectOr(desired).metadata).resourceVersion;
      const next = scale.fromScale(clone(cur), desired, name);
      if (precondition && precondition !== cur.metadata.resourceVersion) throw errors.conflict(def.plural, def.group, name);
      return beforeUpdate(def, cur, next, this.writeContext(), { fieldManager: opts.fieldManager });
    }, opts);
    return scale.toScale(obj);
  }

  /** POST <resource>/NAME/binding (pods): the kind's binding subresource sets the target once. */
  async bind(def: ResourceDef, ns: string, name: string, binding: unknown, opts: WriteOptions = {}): Promise<void> {
    const sub = def.strategy?.binding;
    if (!sub) throw errors.notFound(`${def.plural}/binding`, def.group, name);
    const { target, resourceVersion } = sub.parse(binding, name);
    await this.guaranteedUpdate(def, ns, name, (cur) => sub.bind(cur, name, target, this.now()), { ...opts, precondition: resourceVersion || undefined });
  }
}

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

/** The status a write of /status or /approval leaves: the kind decides, else the incoming status. */
function subresourceStatus(def: ResourceDef, sub: StatusSubresource, cur: ApiObject, incoming: unknown): unknown {
  return def.strategy?.subresourceStatus ? def.strategy.subresourceStatus(sub, cur, incoming) : incoming;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** True when every conflicting field is one the client-side apply's last-applied configuration set. */
function upgradesClientSideApply(live: ApiObject, conflicts: { path: string[] }[]): boolean {
  const raw = objectOr(objectOr(live?.metadata).annotations)[LAST_APPLIED];
  if (typeof raw !== 'string') return false;
  let last: unknown;
  try { last = JSON.parse(raw); } catch { return false; }
  const declared = fieldsOf(last);
  return conflicts.every((c) => declared.has(JSON.stringify(c.path)));
}

/** 409 for server-side apply conflicts, worded like Kubernetes. */
function conflictError(def: ResourceDef, name: string, conflicts: { manager: string; apiVersion: string; path: string[] }[]): ApiError {
  const n = conflicts.length;
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) byManager.set(`"${c.manager}" using ${c.apiVersion}`, [...(byManager.get(`"${c.manager}" using ${c.apiVersion}`) ?? []), formatPath(c.path)]);
  let msg = `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: `;
  if (n === 1) msg += `conflict with ${[...byManager.keys()][0]}: ${formatPath(conflicts[0].path)}`;
  else msg += [...byManager].map(([who, paths]) => `conflicts with ${who}:\n${paths.map((p) => `- ${p}`).join('\n')}`).join('\n');
  return new ApiError('Conflict', msg, {
    name, group: def.group, kind: def.plural,
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${c.apiVersion}`, field: formatPath(c.path) })),
  });
}
