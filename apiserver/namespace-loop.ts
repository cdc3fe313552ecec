import type { Namespace } from 'kubernetes-types/core/v1';
import type { Logger } from '../lib/log';
import { Controller } from '../lib/reconcile/controller';
import { ApiError } from './errors';
import type { ResourceDef } from './groups/types';
import type { ApiObject } from './api-object';
import { type Registry, objectKey } from './registry';
import type { ResourceStorage } from './resources';
import type { WatchCache } from './watchcache';

/** Races with another writer: the event that writer's change causes brings the namespace back. */
const RACES = ['AlreadyExists', 'Conflict', 'Forbidden', 'NotFound'];

/**
 * A reconcile loop keyed by namespace name, for objects the apiserver keeps in every active
 * namespace (the `default` ServiceAccount, the `kube-root-ca.crt` ConfigMap), as Kubernetes'
 * small per-namespace controllers do (on lib/reconcile's Controller). A namespace is enqueued
 * when it appears or changes and when an object of `watched` in it changes; `ensure` runs for
 * it unless it is gone or Terminating. AlreadyExists, Conflict, Forbidden (the namespace is
 * terminating) and NotFound from `ensure` are races with another writer, settled by the event
 * that writer causes; any other error is logged and retried with backoff.
 */
export function startNamespaceLoop(opts: {
  storage: ResourceStorage;
  registry: Registry;
  log: Logger;
  /** what the loop keeps, for the log line */
  what: string;
  watched: ResourceDef;
  /** delay before re-listing a cache that ended its watches (a relist after compaction), or before a namespace is looked at again while `watched` loads */
  intervalMs?: number;
  ensure: (namespace: string) => Promise<void>;
}): { stop(): void } {
  const nsDef = opts.registry.lookup('', 'v1', 'namespaces')!;
  const nsCache = opts.storage.cache(nsDef);
  const watchedCache = opts.storage.cache(opts.watched);
  const retryMs = opts.intervalMs ?? 200;
  const controller = new Controller({
    name: opts.what,
    logger: opts.log,
    workers: 1,
    async reconcile(ns) {
      if (!watchedCache.isLoaded) return { requeueAfterMs: retryMs }; // `ensure` reads it
      const cur: Namespace | undefined = nsCache.get(objectKey(nsDef, undefined, ns))?.obj;
      if (!cur || cur.metadata?.deletionTimestamp || cur.status?.phase === 'Terminating') return;
      try {
        await opts.ensure(ns);
      } catch (e) {
        if (!(e instanceof ApiError && RACES.includes(e.reason))) throw e;
      }
    },
  });
  let stopped = false;
  const feeds = [
    followCache(nsCache, (o) => o?.metadata?.name, controller, retryMs, () => stopped),
    followCache(watchedCache, (o) => o?.metadata?.namespace, controller, retryMs, () => stopped),
  ];
  controller.start();
  return {
    stop() {
      stopped = true;
      for (const cancel of feeds) cancel();
      void controller.stop();
    },
  };
}

/**
 * Enqueues `keyOf` of every object in `cache` once it is loaded, and of every object a later
 * event touches; re-lists when the cache ends its watches. Returns the cancel function.
 */
function followCache(cache: WatchCache, keyOf: (obj: ApiObject) => unknown, controller: Controller, retryMs: number, stopped: () => boolean): () => void {
  let cancel: (() => void) | undefined;
  const enqueue = (obj: ApiObject) => {
    const key = keyOf(obj);
    if (typeof key === 'string' && key) controller.enqueue(key);
  };
  const start = async (): Promise<void> => {
    await cache.ready();
    if (stopped()) return;
    const revision = cache.revision;
    for (const c of cache.list()) enqueue(c.obj);
    const sub = cache.subscribe(revision, (ev) => enqueue(ev.obj), () => { cancel = undefined; later(); });
    if (!sub) return later();
    cancel = sub.cancel;
    for (const ev of sub.replay) enqueue(ev.obj);
  };
  const later = () => { if (!stopped()) setTimeout(() => void start(), retryMs).unref(); };
  void start();
  return () => cancel?.();
}
