import type { Logger } from '../lib/log';
import { ApiError } from './errors';
import type { Registry } from './registry';
import type { ResourceDef } from './groups/types';
import type { ResourceStorage } from './resources';

/**
 * A reconcile loop over every active namespace, for objects the apiserver keeps in each one
 * (the `default` ServiceAccount, the `kube-root-ca.crt` ConfigMap), as Kubernetes' small
 * per-namespace controllers do. It runs when the namespaces cache or the cache of `watched`
 * moves (checked every `intervalMs`), never twice at once. AlreadyExists, Conflict, Forbidden
 * (the namespace is terminating) and NotFound from `ensure` are races with another writer and
 * are settled by the next pass; anything else is logged and retried.
 */
export function startNamespaceLoop(opts: {
  storage: ResourceStorage;
  registry: Registry;
  log: Logger;
  /** what the loop keeps, for the log line */
  what: string;
  watched: ResourceDef;
  intervalMs?: number;
  ensure: (namespace: string) => Promise<void>;
}): { stop(): void } {
  const nsDef = opts.registry.lookup('', 'v1', 'namespaces')!;
  let last = '';
  let running = false;
  let stopped = false;
  const tick = async (): Promise<void> => {
    if (running || stopped) return;
    const nsCache = opts.storage.cache(nsDef), watchedCache = opts.storage.cache(opts.watched);
    if (!nsCache.isLoaded || !watchedCache.isLoaded) return;
    const key = `${nsCache.revision},${watchedCache.revision}`;
    if (key === last) return;
    running = true;
    try {
      for (const c of nsCache.list()) {
        const ns = c.obj.metadata?.name;
        if (!ns || c.obj.metadata?.deletionTimestamp || c.obj.status?.phase === 'Terminating') continue;
        try {
          await opts.ensure(ns);
        } catch (e) {
          if (!(e instanceof ApiError && ['AlreadyExists', 'Conflict', 'Forbidden', 'NotFound'].includes(e.reason))) throw e;
        }
      }
      last = key;
    } catch (e) {
      opts.log.warn({ err: String(e) }, `${opts.what}: will retry`);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), opts.intervalMs ?? 200);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
