import { Controller } from '../../../../lib/reconcile/controller';
import { ApiError } from '../../../errors';
import { StoreUnavailableError } from '../../../storage/types';
import type { Finalizer, FinalizerOps } from '../../types';
import { objectName } from '../../../api-object';

/** How often a Terminating namespace with content left (or a failed step) is looked at again. */
const RETRY_MS = 1_000;

/**
 * The namespace lifecycle (Kubernetes' namespace controller, done in the apiserver): once a
 * namespace is Terminating, delete every object in it, then remove the namespace itself.
 * A reconcile loop keyed by namespace name: `enqueue` when a namespace is marked, and the key
 * comes back every second while content remains or a step fails. Idempotent; one namespace
 * is never handled by two workers at once.
 */
export function startNamespaceFinalizer(ops: FinalizerOps): Finalizer {
  /** One pass: true once the namespace is gone (or no longer Terminating). */
  const step = async (name: string): Promise<boolean> => {
    let remaining = 0;
    for (const def of ops.namespacedDefs()) {
      const { items } = await ops.list(def, name, '');
      remaining += items.length;
      for (const it of items) {
        try { await ops.delete(def, name, objectName(it.obj)); } catch (e) { if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e; }
      }
    }
    if (remaining > 0) return false;
    const cur = await ops.read(name);
    if (!cur || !cur.obj.metadata.deletionTimestamp) return true;
    return ops.remove(cur);
  };
  const controller = new Controller({
    name: 'namespace-finalizer',
    logger: ops.log,
    baseDelayMs: RETRY_MS,
    maxDelayMs: RETRY_MS,
    async reconcile(name) {
      try {
        return (await step(name)) ? undefined : { requeueAfterMs: RETRY_MS };
      } catch (e) {
        if (e instanceof StoreUnavailableError) return { requeueAfterMs: RETRY_MS }; // the store is back soon; nothing to report
        throw e;
      }
    },
  });
  let stopped = false;
  controller.start();
  return {
    enqueue(name) { if (!stopped) controller.enqueue(name); },
    async resume() {
      const { items } = await ops.list(ops.def, undefined, '0');
      for (const it of items) if (it.obj.metadata.deletionTimestamp) this.enqueue(objectName(it.obj));
    },
    stop() {
      stopped = true;
      void controller.stop();
    },
  };
}
