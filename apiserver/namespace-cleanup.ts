import type { Logger } from '../lib/log';
import { ApiError } from './errors';
import type { ResourceDef, Registry } from './registry';
import { StoreUnavailableError } from './storage/types';
import type { CachedObject } from './watchcache';

/**
 * Namespace lifecycle (Kubernetes' namespace controller, done in the apiserver): once a
 * namespace is Terminating, delete every object in it, then remove the namespace itself.
 * Idempotent; a step that fails or finds objects left is retried every second until done or
 * stopped. One loop per namespace at a time.
 */
export interface NamespaceCleanupDeps {
  registry: Registry;
  log: Logger;
  list(def: ResourceDef, ns: string | undefined, resourceVersion: string): Promise<{ items: CachedObject[] }>;
  delete(def: ResourceDef, ns: string, name: string): Promise<unknown>;
  /** The namespace object as stored now (not from the cache). */
  readNamespace(name: string): Promise<CachedObject | undefined>;
  /** Removes the (empty, Terminating) namespace; false when it changed meanwhile (try again). */
  removeNamespace(cur: CachedObject): Promise<boolean>;
}

export class NamespaceCleanup {
  private readonly running = new Set<string>();
  private stopped = false;

  constructor(private readonly deps: NamespaceCleanupDeps) {}

  /** Starts the cleanup loop of a Terminating namespace (no-op when one is running). */
  finalize(name: string): void {
    if (this.running.has(name) || this.stopped) return;
    this.running.add(name);
    void this.loop(name);
  }

  /** Resumes cleanup of every namespace that is Terminating (at apiserver start). */
  async resume(): Promise<void> {
    const nsDef = this.deps.registry.lookup('', 'v1', 'namespaces')!;
    const { items } = await this.deps.list(nsDef, undefined, '0');
    for (const it of items) if (it.obj.metadata.deletionTimestamp) this.finalize(it.obj.metadata.name);
  }

  stop(): void {
    this.stopped = true;
  }

  /** One pass: true once the namespace is gone (or no longer Terminating). */
  private async step(name: string): Promise<boolean> {
    let remaining = 0;
    for (const def of this.deps.registry.stored()) {
      if (!def.namespaced) continue;
      const { items } = await this.deps.list(def, name, '');
      remaining += items.length;
      for (const it of items) {
        try { await this.deps.delete(def, name, it.obj.metadata.name); } catch (e) { if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e; }
      }
    }
    if (remaining > 0) return false;
    const cur = await this.deps.readNamespace(name);
    if (!cur || !cur.obj.metadata.deletionTimestamp) return true;
    return this.deps.removeNamespace(cur);
  }

  private async loop(name: string): Promise<void> {
    while (!this.stopped) {
      try {
        if (await this.step(name)) break;
      } catch (e) {
        if (!(e instanceof StoreUnavailableError)) this.deps.log.warn({ namespace: name, err: String(e) }, 'namespace cleanup step failed');
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
    this.running.delete(name);
  }
}
