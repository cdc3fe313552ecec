import type { Logger } from 'pino';
import { ApiError, type ApiClient, type KubeObject, type WatchEvent } from './client';
import { apiVersionOf, type ResourceRef } from './resources';
import { sleep } from './sleep';

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  logger?: Logger;
  /** Backoff after a failed list or watch: starts at minBackoffMs, doubles to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Injectable delay (tests drive it); defaults to setTimeout honoring the stop signal. */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * Applied to every listed and watched object before it is cached and handed to the handlers
   * (client-go's informer transform), e.g. `stripManagedFields` for a process that never reads them.
   */
  transform?: <O extends KubeObject>(obj: O) => O;
}

/**
 * Drops metadata.managedFields, as kube-scheduler's and the kubelet's informers do: a pod's
 * field ownership is often larger than the rest of it, and only apply needs it (on the server).
 * Objects from the watch are fresh per event, so this edits them in place.
 */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
  return obj;
}

export interface InformerHandlers<T extends KubeObject> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

/** `namespace/name`, or `name` for cluster-scoped objects: the key of a cache and of a work queue. */
export function objectKey(obj: KubeObject): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : `${m.name}`;
}

/**
 * A shared informer: lists a resource, then watches from the list's
 * resourceVersion, keeping a local cache and calling handlers for every change.
 * It re-watches when the server ends a watch, relists (emitting the difference)
 * after 410 Expired, and backs off with a cap on errors, so it survives the
 * apiserver restarting. Handlers receive cached objects: copy before mutating.
 */
export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly stopper = new AbortController();
  private resourceVersion = '';
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private running?: Promise<void>;

  constructor(
    private readonly client: ApiClient,
    private readonly ref: ResourceRef,
    private readonly opts: InformerOptions = {},
  ) {}

  on(handlers: InformerHandlers<T>): this {
    this.handlers.push(handlers);
    return this;
  }

  /**
   * Starts the list/watch loop; resolves once the first list is in the cache,
   * or once `stop()` was called (check `hasSynced` if it matters).
   */
  start(): Promise<void> {
    if (!this.running) this.running = this.run();
    return this.waitForSync();
  }

  /** Ends the loop. Whoever waits for the first sync is released, so a process can stop before the apiserver ever answered. */
  async stop(): Promise<void> {
    this.stopper.abort();
    for (const w of this.syncWaiters.splice(0)) w();
    await this.running;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced || this.stopper.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** The cached object with its apiVersion and kind set (what an Event's involvedObject names). */
  getObject(key: string): KubeObject | undefined {
    const o = this.cache.get(key);
    return o && { ...o, apiVersion: apiVersionOf(this.ref), kind: this.ref.kind };
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  private emit(kind: 'add' | 'update' | 'delete', a: T, b?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === 'add') h.add?.(a);
        else if (kind === 'update') h.update?.(a, b!);
        else h.delete?.(a);
      } catch (err) {
        this.opts.logger?.error({ err, resource: this.ref.resource }, 'informer handler failed');
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.client.list<T>(this.ref, {
      namespace: this.opts.namespace,
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
    });
    const seen = new Set<string>();
    const transform = this.opts.transform;
    for (const listed of list.items) {
      const item = transform ? transform(listed) : listed;
      const key = objectKey(item);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, item);
      if (!old) this.emit('add', item);
      else if (old.metadata?.resourceVersion !== item.metadata?.resourceVersion) this.emit('update', old, item);
    }
    for (const [key, old] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit('delete', old);
      }
    }
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private apply(ev: WatchEvent<T>): void {
    if (ev.type === 'ERROR') {
      const status = ev.object as unknown as Record<string, unknown>;
      throw new ApiError(Number(status.code ?? 0) || 500, String(status.reason ?? ''), String(status.message ?? 'watch error'), status);
    }
    const rv = ev.object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (ev.type === 'BOOKMARK') return;
    if (this.opts.transform) ev.object = this.opts.transform(ev.object);
    const key = objectKey(ev.object);
    const old = this.cache.get(key);
    if (ev.type === 'DELETED') {
      this.cache.delete(key);
      this.emit('delete', old ?? ev.object);
    } else {
      this.cache.set(key, ev.object);
      if (old) this.emit('update', old, ev.object);
      else this.emit('add', ev.object);
    }
  }

  private async run(): Promise<void> {
    const signal = this.stopper.signal;
    const delay = this.opts.delay ?? sleep;
    const minBackoff = this.opts.minBackoffMs ?? 200;
    const maxBackoff = this.opts.maxBackoffMs ?? 5_000;
    let backoff = minBackoff;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        await this.client.watch<T>(
          this.ref,
          {
            namespace: this.opts.namespace,
            labelSelector: this.opts.labelSelector,
            fieldSelector: this.opts.fieldSelector,
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: 240 + Math.floor(Math.random() * 120),
            signal,
          },
          (ev) => this.apply(ev),
        );
        backoff = minBackoff;
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof ApiError && err.expired) {
          needList = true;
          continue;
        }
        this.opts.logger?.warn({ resource: this.ref.resource, err: (err as Error).message, backoffMs: backoff }, 'list/watch failed; retrying');
        needList = needList || !this.resourceVersion;
        await delay(backoff, signal);
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  }
}
