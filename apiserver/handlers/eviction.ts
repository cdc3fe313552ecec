import type { Pod } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { ApiError, errors } from '../errors';
import type { ResourceDef } from '../groups/types';
import type { DeleteOptions, ResourceStorage } from '../resources';
import {
  budgetBeingProcessed, budgetsFor, canIgnorePDB, decrementBudget, parseEviction, shouldEnforceResourceVersion, unhealthyPodMayGo, withDisruptionTarget,
} from '../groups/core/pod/eviction';
import { requestBody } from './body';
import type { NamedRequest } from './context';
import { deleteOptions } from './options';
import { sendJson } from './respond';

/**
 * POST pods/NAME/eviction (policy/v1 or v1beta1 Eviction): deletes the pod unless that
 * would break the PodDisruptionBudget selecting it. A pod that is pending, finished or
 * already terminating is deleted at once; otherwise its one budget is checked and, when it
 * allows, its status is decremented and the pod recorded in disruptedPods in one
 * optimistic-concurrency write before the delete. Budget refusals are 429s; two budgets
 * selecting the pod a 500, as in Kubernetes.
 */

/** Tries of a write that lost a race with another writer (Kubernetes' EvictionsRetry has 20 steps). */
const MAX_ATTEMPTS = 20;

const isConflict = (e: unknown) => e instanceof ApiError && e.reason === 'Conflict';

export async function handleEviction(r: NamedRequest): Promise<unknown> {
  if (r.verb !== 'create') throw errors.methodNotAllowed(r.req.method, 'pods/eviction');
  const ns = r.path.namespace!;
  const { deleteOptions: body } = parseEviction(requestBody(r.req), r.path.name, ns);
  const opts = deleteOptions(body, r.query);
  const pdbDef = r.ctx.registry.lookup('policy', 'v1', 'poddisruptionbudgets');
  if (!pdbDef) throw errors.internal('PodDisruptionBudgets are not served');
  const failure = await evict(new Eviction(r.ctx.storage, r.def, pdbDef, ns, r.path.name, opts));
  if (failure) return sendJson(r.reply, failure.code, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: failure.message, code: failure.code }));
  return sendJson(r.reply, 201, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }));
}

/** One eviction's reads and writes. */
class Eviction {
  constructor(readonly storage: ResourceStorage, readonly podDef: ResourceDef, readonly pdbDef: ResourceDef,
    readonly ns: string, readonly name: string, readonly opts: DeleteOptions) {}

  /** The client pinned the pod's resourceVersion itself. */
  get pinned(): boolean { return !!this.opts.preconditions?.resourceVersion; }

  async pod(fromStore: boolean): Promise<Pod> {
    const c = await this.storage.read(this.podDef, this.ns, this.name, { fromStore });
    if (!c) throw errors.notFound('pods', '', this.name);
    return c.obj as Pod;
  }

  /**
   * Marks the pod DisruptionTarget (unless a dry run), then deletes it with the client's
   * options, pinned to `resourceVersion` when given.
   */
  async deletePod(resourceVersion: string | undefined): Promise<void> {
    let opts: DeleteOptions = resourceVersion ? { ...this.opts, preconditions: { ...this.opts.preconditions, resourceVersion } } : this.opts;
    if (!opts.dryRun) {
      const pre = opts.preconditions;
      for (let attempt = 0; ; attempt++) {
        const cur = await this.pod(attempt > 0);
        if (pre?.uid && pre.uid !== cur.metadata?.uid) throw errors.conflict('pods', '', this.name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata?.uid}`);
        if (pre?.resourceVersion && pre.resourceVersion !== cur.metadata?.resourceVersion) {
          throw errors.conflict('pods', '', this.name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata?.resourceVersion}`);
        }
        try {
          const { obj } = await this.storage.update(this.podDef, this.ns, this.name, withDisruptionTarget(cur, new Date()), { subresource: 'status' });
          if (pre?.resourceVersion) opts = { ...opts, preconditions: { ...pre, resourceVersion: obj.metadata.resourceVersion } };
          break;
        } catch (e) {
          if (!isConflict(e) || pre?.resourceVersion || attempt >= MAX_ATTEMPTS) throw e;
        }
      }
    }
    await this.storage.delete(this.podDef, this.ns, this.name, opts);
  }

  async budgets(pod: Pod): Promise<PodDisruptionBudget[]> {
    const { items } = await this.storage.list(this.pdbDef, this.ns);
    return budgetsFor(pod, items.map((c) => c.obj as PodDisruptionBudget));
  }

  /** Spends one disruption of `pdb` on the pod: check-and-decrement, re-read and retried on conflict. */
  async spendBudget(pdb: PodDisruptionBudget): Promise<void> {
    const name = pdb.metadata!.name!;
    let cur = pdb;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) {
        const c = await this.storage.read(this.pdbDef, this.ns, name, { fromStore: true });
        if (!c) throw errors.notFound('poddisruptionbudgets', 'policy', name);
        cur = c.obj as PodDisruptionBudget;
      }
      const status = decrementBudget(cur, this.name, new Date(), !!this.opts.dryRun);
      if (this.opts.dryRun) return;
      try {
        await this.storage.update(this.pdbDef, this.ns, name, { ...cur, status }, { subresource: 'status' });
        return;
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }
    throw new ApiError('Timeout', `Timeout: couldn't update PodDisruptionBudget "${name}" due to conflicts`, { retryAfterSeconds: 10 });
  }
}

/** The eviction; a Failure Status to answer instead of success (more than one budget), or undefined. */
async function evict(e: Eviction): Promise<{ code: number; message: string } | undefined> {
  let pod: Pod | undefined;
  // Pods whose deletion disrupts nothing more: delete them, retrying a lost race unless pinned.
  for (let attempt = 0; ; attempt++) {
    pod = await e.pod(attempt > 0);
    if (!canIgnorePDB(pod)) break;
    try {
      await e.deletePod(shouldEnforceResourceVersion(pod) && !e.pinned ? pod.metadata?.resourceVersion : undefined);
      return undefined;
    } catch (err) {
      if (!isConflict(err) || e.pinned || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
  const pdbs = await e.budgets(pod);
  if (pdbs.length > 1) return { code: 500, message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' };
  // An unready pod going while the application is healthy enough: pin the delete to the pod
  // as read, so a pod that became ready meanwhile is not taken without its budget.
  const unhealthy = pdbs.length === 1 && unhealthyPodMayGo(pod, pdbs[0]);
  if (pdbs.length === 1 && !unhealthy) await e.spendBudget(pdbs[0]);
  try {
    await e.deletePod(unhealthy ? pod.metadata?.resourceVersion : undefined);
  } catch (err) {
    if (isConflict(err) && unhealthy && !e.pinned) throw budgetBeingProcessed(pdbs[0].metadata?.name ?? '');
    throw err;
  }
  return undefined;
}
