import type { ControllerRevision, StatefulSet } from 'kubernetes-types/apps/v1';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { objectKey } from '../../lib/informer';
import { CONTROLLERREVISIONS, PERSISTENT_VOLUME_CLAIMS, PODS, STATEFULSETS } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import { nsKey, type ControllerContext } from '../context';
import { applyClaims, orphanHandlers } from '../claim-objects';
import { planClaims, type ClaimOptions } from '../util/claim';
import { controllerRef, isControlledBy } from '../util/owners';
import { historyToTrim, planRevisions, sameData } from './revisions';
import { ordinalOf, podRevision } from './identity';
import { planStatefulSet, statusEqual, type StatefulSetAction } from './sync';


/**
 * Runs StatefulSets: one reconcile resolves the set's revisions (creating or
 * renumbering a ControllerRevision when the template changed), computes one
 * step with `planStatefulSet` from the informer caches, makes its writes in
 * order, trims the history and writes the status. Pod names are fixed per
 * ordinal, so a stale cache or a restart can at worst repeat a create (409,
 * ignored) or a delete (uid precondition), never run an ordinal twice.
 */
export class StatefulSetController extends QueueController {
  private readonly setInformer;
  private readonly podInformer;
  private readonly revInformer;
  private readonly claimInformer;

  constructor(ctx: ControllerContext, opts: { workers?: number } = {}) {
    super('statefulset', ctx, opts.workers ?? 2);
    this.setInformer = ctx.informers.for<StatefulSet>(STATEFULSETS);
    this.podInformer = ctx.informers.for<Pod>(PODS);
    this.revInformer = ctx.informers.for<ControllerRevision>(CONTROLLERREVISIONS);
    this.claimInformer = ctx.informers.for<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS);
    this.enqueueOwnKey(this.setInformer);
    const onOwned = (o: KubeObject) => {
      const ref = controllerRef(o);
      if (ref?.kind === 'StatefulSet') this.controller.enqueue(nsKey(o.metadata?.namespace, ref.name));
    };
    for (const inf of [this.podInformer, this.revInformer] as const) {
      (inf as typeof this.podInformer).on({ add: onOwned, update: (a, b) => (onOwned(a), onOwned(b)), delete: onOwned });
    }
    // orphans the set's selector matches: it adopts them
    const enqueue = (k: string) => this.controller.enqueue(k);
    this.podInformer.on(orphanHandlers(() => this.setInformer.list(), (s) => s.spec?.selector, enqueue));
    this.revInformer.on(orphanHandlers(() => this.setInformer.list(), (s) => s.spec?.selector, enqueue));
    // A claim that goes away (or gets an owner) may unblock a set: look at the sets of its namespace.
    this.claimInformer.on({
      delete: (c) => {
        for (const s of this.setInformer.list()) if (s.metadata?.namespace === c.metadata?.namespace && s.spec?.volumeClaimTemplates?.length) this.controller.enqueue(objectKey(s));
      },
    });
  }

  protected override objectFor(key: string): KubeObject | undefined {
    return this.setInformer.getObject(key);
  }

  private setObj(set: StatefulSet): KubeObject {
    return { ...set, apiVersion: 'apps/v1', kind: 'StatefulSet' } as KubeObject;
  }

  /** The set's objects of one kind: its own that still match, plus adopted orphans; its own that stopped matching are released (util/claim.ts). */
  private async claim<T extends KubeObject>(set: StatefulSet, resource: typeof PODS, objects: T[], o: ClaimOptions<T> = {}): Promise<T[]> {
    const owner = this.setObj(set);
    const plan = planClaims(owner, set.spec?.selector, objects.filter((x) => x.metadata?.namespace === set.metadata?.namespace), o);
    return applyClaims({ ctx: this.ctx, resource, owner, fresh: () => this.ctx.client.tryGet(STATEFULSETS, set.metadata!.name!, set.metadata?.namespace) }, plan);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const set = this.setInformer.get(key);
    if (!set) return;
    const ns = set.metadata?.namespace;
    const uid = set.metadata?.uid;
    const { client, recorder } = this.ctx;
    // Kubernetes' getPodsForStatefulSet: a pod belongs when the selector matches and its name is <set>-<ordinal>
    const member = (p: Pod) => ordinalOf(set.metadata?.name ?? '', p.metadata?.name) >= 0;
    const owned = await this.claim(set, CONTROLLERREVISIONS, this.revInformer.list());
    const pods = await this.claim(set, PODS, this.podInformer.list(), { filter: member });

    // Revisions first: pods are created from them.
    const revs = planRevisions(set, owned);
    let update = revs.update;
    if (revs.create && !set.metadata?.deletionTimestamp) {
      try {
        update = (await client.create(CONTROLLERREVISIONS, revs.create as KubeObject, ns)) as ControllerRevision & KubeObject;
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
        // Our cache may not have it yet (fine), or another template hashed to
        // the same name: bump collisionCount so the next name differs.
        const existing = await client.tryGet<ControllerRevision & KubeObject>(CONTROLLERREVISIONS, revs.create.metadata!.name!, ns);
        if (existing && isControlledBy(existing, uid) && sameData(existing, revs.create)) {
          update = existing;
        } else {
          const status = { ...(set.status ?? {}), collisionCount: (set.status?.collisionCount ?? 0) + 1 };
          await client.updateStatus(STATEFULSETS, { ...this.setObj(set), status } as KubeObject);
          return { requeueAfterMs: 100 };
        }
      }
    } else if (revs.renumber && !set.metadata?.deletionTimestamp) {
      update = (await client.update(CONTROLLERREVISIONS, revs.renumber as KubeObject)) as ControllerRevision & KubeObject;
    }
    const current = revs.current === revs.update ? update : revs.current;

    const plan = planStatefulSet({
      set,
      current,
      update,
      pods,
      claim: (name) => this.claimInformer.get(nsKey(ns, name)),
      nowMs: this.ctx.now(),
    });
    let actionError: unknown;
    for (const a of plan.actions) {
      try {
        await this.apply(set, a);
      } catch (err) {
        actionError = err;
        break;
      }
    }

    if (!set.metadata?.deletionTimestamp && !actionError) {
      const live = new Set([current.metadata?.name ?? '', update.metadata?.name ?? '', ...pods.map(podRevision)]);
      for (const r of historyToTrim(set, owned, live)) {
        await client.delete(CONTROLLERREVISIONS, r.metadata!.name!, { namespace: ns, ignoreNotFound: true, preconditions: r.metadata?.uid ? { uid: r.metadata.uid } : undefined });
      }
    }

    if (!statusEqual(set.status, plan.status)) {
      try {
        await client.updateStatus(STATEFULSETS, { ...this.setObj(set), status: plan.status } as KubeObject);
      } catch (err) {
        if (!(err instanceof ApiError && (err.notFound || err.conflict))) throw err;
        if (err.conflict) return { requeueAfterMs: 100 };
      }
    }
    if (actionError) throw actionError;
    if (plan.waiting) this.ctx.logger.debug({ statefulset: key, waiting: plan.waiting }, 'statefulset waiting');
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  }

  private async apply(set: StatefulSet, a: StatefulSetAction): Promise<void> {
    const { client, recorder } = this.ctx;
    const ns = set.metadata?.namespace;
    const setName = set.metadata?.name;
    const obj = this.setObj(set);
    switch (a.type) {
      case 'createClaim': {
        const name = a.claim.metadata!.name!;
        try {
          await client.create(PERSISTENT_VOLUME_CLAIMS, a.claim as KubeObject, ns);
          recorder.event(obj, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${a.pod} in StatefulSet ${setName} success`);
        } catch (err) {
          if (err instanceof ApiError && err.code === 409) return; // already there (our cache lags)
          recorder.event(obj, 'Warning', 'FailedCreate', `create Claim ${name} for Pod ${a.pod} in StatefulSet ${setName} failed error: ${(err as Error).message}`);
          throw err;
        }
        return;
      }
      case 'createPod': {
        const name = a.pod.metadata!.name!;
        try {
          await client.create(PODS, a.pod as KubeObject, ns);
          recorder.event(obj, 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${setName} successful`);
        } catch (err) {
          // An existing pod of that name (our cache lags, or its predecessor is
          // still there): never a second one; the next pass sees it.
          if (err instanceof ApiError && err.code === 409) return;
          recorder.event(obj, 'Warning', 'FailedCreate', `create Pod ${name} in StatefulSet ${setName} failed error: ${(err as Error).message}`);
          throw err;
        }
        return;
      }
      case 'deletePod': {
        const p = a.pod;
        const name = p.metadata!.name!;
        try {
          await client.delete(PODS, name, { namespace: ns, preconditions: p.metadata?.uid ? { uid: p.metadata.uid } : undefined });
          recorder.event(obj, 'Normal', 'SuccessfulDelete', `delete Pod ${name} in StatefulSet ${setName} successful`);
        } catch (err) {
          if (err instanceof ApiError && (err.notFound || err.conflict)) return;
          recorder.event(obj, 'Warning', 'FailedDelete', `delete Pod ${name} in StatefulSet ${setName} failed error: ${(err as Error).message}`);
          throw err;
        }
        return;
      }
      case 'updateClaimOwners': {
        const c = a.claim;
        try {
          await client.patch(PERSISTENT_VOLUME_CLAIMS, c.metadata!.name!, { metadata: { ownerReferences: a.ownerReferences, resourceVersion: c.metadata?.resourceVersion } }, { namespace: ns, type: 'merge' });
        } catch (err) {
          if (err instanceof ApiError && err.notFound) return;
          throw err;
        }
        return;
      }
    }
  }
}
