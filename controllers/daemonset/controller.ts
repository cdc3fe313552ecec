import type { ControllerRevision, DaemonSet } from 'kubernetes-types/apps/v1';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { objectKey } from '../../lib/informer';
import { CONTROLLERREVISIONS, DAEMONSETS, NODES, PODS } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import { nsKey, type ControllerContext } from '../context';
import { applyClaims, orphanHandlers } from '../claim-objects';
import { createPodsExpected } from '../create-pods';
import { Expectations, ownedPodHandlers } from '../expectations';
import { parallelLimit } from '../util/batch';
import { controllerRef, isControlledBy } from '../util/owners';
import { planClaims } from '../util/claim';
import { Backoff } from './backoff';
import { planHistory, revisionMatches, revisionsToPrune, type HistoryPlan } from './history';
import { newDaemonPod, newDaemonPodName } from './placement';
import { computeDaemonSetStatus, daemonSetStatusEqual, planManage, planRollingUpdate, podsByNode, type DaemonSetPlan } from './sync';

/** Node fields that change where daemon pods belong. */
function nodePlacementKey(n: Node): string {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return JSON.stringify([n.metadata?.labels ?? {}, n.spec?.taints ?? [], !!n.spec?.unschedulable, ready]);
}

/**
 * Runs one pod of each DaemonSet on every node it should run on (see
 * placement.ts), replaces them on a template change (RollingUpdate) or leaves
 * that to the user (OnDelete), keeps the ControllerRevision history and writes
 * the status. Each pod names its node by required node affinity; the scheduler
 * binds it. Creations and deletions are expected by name (expectations.ts):
 * until the informer has seen them, the DaemonSet's pods are not touched again,
 * so a stale cache never puts a second pod on a node.
 */
export class DaemonSetController extends QueueController {
  private readonly expectations = new Expectations(60_000);
  private readonly failedBackoff = new Backoff();
  private readonly dsInformer;
  private readonly podInformer;
  private readonly nodeInformer;
  private readonly crInformer;

  constructor(ctx: ControllerContext, opts: { workers?: number } = {}) {
    super('daemonset', ctx, opts.workers ?? 2);
    this.dsInformer = ctx.informers.for<DaemonSet>(DAEMONSETS);
    this.podInformer = ctx.informers.for<Pod>(PODS);
    this.nodeInformer = ctx.informers.for<Node>(NODES);
    this.crInformer = ctx.informers.for<ControllerRevision>(CONTROLLERREVISIONS);
    this.dsInformer.on({
      add: (ds) => this.controller.enqueue(objectKey(ds)),
      update: (_o, ds) => this.controller.enqueue(objectKey(ds)),
      delete: (ds) => {
        this.expectations.forget(objectKey(ds));
        this.failedBackoff.forgetPrefix(`${ds.metadata?.uid}/`);
      },
    });
    this.podInformer.on(ownedPodHandlers(this.expectations, (p) => this.ownerKey(p), (k) => this.controller.enqueue(k)));
    this.nodeInformer.on({
      add: () => this.enqueueAll(),
      update: (o, n) => {
        if (nodePlacementKey(o) !== nodePlacementKey(n)) this.enqueueAll();
      },
      delete: () => this.enqueueAll(),
    });
    const onRevision = (cr: ControllerRevision) => {
      const ref = controllerRef(cr);
      if (ref?.kind === 'DaemonSet') this.controller.enqueue(nsKey(cr.metadata?.namespace, ref.name));
    };
    this.crInformer.on({ add: onRevision, update: (_o, cr) => onRevision(cr), delete: onRevision });
    // orphans a DaemonSet's selector matches: it adopts them
    const enqueue = (k: string) => this.controller.enqueue(k);
    this.podInformer.on(orphanHandlers(() => this.dsInformer.list(), (ds) => ds.spec?.selector, enqueue));
    this.crInformer.on(orphanHandlers(() => this.dsInformer.list(), (ds) => ds.spec?.selector, enqueue));
  }

  private ownerKey(p: Pod): string | undefined {
    const ref = controllerRef(p);
    if (!ref || ref.kind !== 'DaemonSet') return undefined;
    return nsKey(p.metadata?.namespace, ref.name);
  }

  private enqueueAll(): void {
    for (const ds of this.dsInformer.list()) this.controller.enqueue(objectKey(ds));
  }

  protected override objectFor(key: string): KubeObject | undefined {
    return this.dsInformer.getObject(key);
  }

  private dsObj(ds: DaemonSet): KubeObject {
    return { ...ds, apiVersion: 'apps/v1', kind: 'DaemonSet' } as KubeObject;
  }

  /**
   * Claims the DaemonSet's objects of one kind in its namespace: its own that
   * still match the selector, plus adopted orphans; its own that stopped
   * matching are released (Kubernetes' ControllerRefManager, util/claim.ts).
   */
  private async claim<T extends KubeObject>(ds: DaemonSet, resource: typeof PODS, objects: T[]): Promise<T[]> {
    const owner = this.dsObj(ds);
    const plan = planClaims(owner, ds.spec?.selector, objects.filter((o) => o.metadata?.namespace === ds.metadata?.namespace));
    return applyClaims({ ctx: this.ctx, resource, owner, fresh: () => this.ctx.client.tryGet(DAEMONSETS, ds.metadata!.name!, ds.metadata?.namespace) }, plan);
  }

  /** The DaemonSet's pods (claimed); terminal pods already being deleted are gone for our purposes. */
  private async ownedPods(ds: DaemonSet): Promise<Pod[]> {
    const pods = await this.claim(ds, PODS, this.podInformer.list());
    return pods.filter((p) => {
      const terminal = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
      return !(terminal && p.metadata?.deletionTimestamp);
    });
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const ds = this.dsInformer.get(key);
    if (!ds) {
      this.expectations.forget(key);
      return;
    }
    if (ds.metadata?.deletionTimestamp) return;
    const now = this.ctx.now();
    const nodes = this.nodeInformer.list();
    const revisions = await this.claim(ds, CONTROLLERREVISIONS, this.crInformer.list());
    const history = planHistory(ds, revisions);
    const hashOk = await this.applyHistory(ds, history);
    if (!hashOk) return { requeueAfterMs: 200 };

    const pods = await this.ownedPods(ds);
    const byNode = podsByNode(pods);
    const satisfied = this.expectations.satisfied(key);
    let requeueAfterMs: number | undefined;
    let actError: unknown;
    if (satisfied) {
      try {
        let plan = planManage(ds, nodes, byNode, history.hash, now);
        if (plan.create.length === 0 && plan.delete.length === 0 && plan.failed.length === 0) plan = planRollingUpdate(ds, nodes, byNode, history.hash, now);
        requeueAfterMs = await this.apply(key, ds, plan, history.hash, now);
        for (const cr of revisionsToPrune(ds, history.old, pods)) {
          await this.ctx.client.delete(CONTROLLERREVISIONS, cr.metadata!.name!, { namespace: cr.metadata?.namespace, ignoreNotFound: true, preconditions: cr.metadata?.uid ? { uid: cr.metadata.uid } : undefined });
        }
      } catch (err) {
        actError = err;
      }
    }
    const status = computeDaemonSetStatus(ds, nodes, byNode, history.hash, now, satisfied);
    if (!daemonSetStatusEqual(ds.status, status)) {
      try {
        await this.ctx.client.updateStatus(DAEMONSETS, { ...structuredClone(ds), status } as KubeObject);
      } catch (err) {
        if (!(err instanceof ApiError && (err.notFound || err.conflict))) throw err;
        requeueAfterMs = Math.min(requeueAfterMs ?? 200, 200);
      }
    }
    if (actError) throw actError;
    const minReady = ds.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && (status.numberReady ?? 0) !== (status.numberAvailable ?? 0)) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, minReady * 1000);
    return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
  }

  /**
   * Writes the history plan. False when the current revision could not be
   * settled this time (a hash collision bumped collisionCount, or a create
   * raced): the caller requeues.
   */
  private async applyHistory(ds: DaemonSet, h: HistoryPlan): Promise<boolean> {
    const { client } = this.ctx;
    const ns = ds.metadata?.namespace;
    if (h.create) {
      try {
        await client.create(CONTROLLERREVISIONS, h.create as KubeObject, ns);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
        const existing = await client.tryGet<ControllerRevision & KubeObject>(CONTROLLERREVISIONS, h.create.metadata!.name!, ns);
        if (existing && isControlledBy(existing, ds.metadata?.uid) && revisionMatches(ds, existing)) return true;
        // Another template hashed to the same name: a new collisionCount gives a new hash.
        const status = { ...(ds.status ?? {}), collisionCount: (ds.status?.collisionCount ?? 0) + 1 };
        await client.updateStatus(DAEMONSETS, { ...structuredClone(ds), status } as KubeObject);
        return false;
      }
    }
    if (h.renumber) await client.update(CONTROLLERREVISIONS, h.renumber as KubeObject);
    for (const cr of h.duplicates) {
      await client.delete(CONTROLLERREVISIONS, cr.metadata!.name!, { namespace: ns, ignoreNotFound: true, preconditions: cr.metadata?.uid ? { uid: cr.metadata.uid } : undefined });
    }
    return true;
  }

  /** Creates and deletes what the plan says, under expectations; returns when to look again for a backed-off failed pod. */
  private async apply(key: string, ds: DaemonSet, plan: DaemonSetPlan, hash: string, now: number): Promise<number | undefined> {
    const { client, recorder } = this.ctx;
    const dsObj = { ...ds, apiVersion: 'apps/v1', kind: 'DaemonSet' } as KubeObject;
    const toDelete = [...plan.delete];
    let requeue: number | undefined;
    for (const { pod, node } of plan.failed) {
      const bkey = `${ds.metadata?.uid}/${node}`;
      const wait = this.failedBackoff.remaining(bkey, now);
      if (wait > 0) {
        requeue = Math.min(requeue ?? Infinity, wait);
        continue;
      }
      this.failedBackoff.next(bkey, now);
      recorder.event(dsObj, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata?.namespace}/${pod.metadata?.name} on node ${node}, will try to kill it`);
      toDelete.push(pod);
    }

    const errors: unknown[] = [];
    if (plan.create.length > 0) {
      const dsName = ds.metadata!.name!;
      errors.push(...(await createPodsExpected({
        ctx: this.ctx, expectations: this.expectations, key, owner: dsObj, namespace: ds.metadata?.namespace,
        names: plan.create.map(() => newDaemonPodName(dsName)),
        build: (i, name) => newDaemonPod(ds, plan.create[i], hash, name),
        rename: () => newDaemonPodName(dsName),
      })));
    }
    if (toDelete.length > 0) {
      this.expectations.expectDeletions(key, toDelete.map((p) => p.metadata!.name!));
      errors.push(...(await parallelLimit(toDelete, 16, async (p) => {
        const name = p.metadata!.name!;
        try {
          await client.delete(PODS, name, { namespace: p.metadata?.namespace, preconditions: p.metadata?.uid ? { uid: p.metadata.uid } : undefined });
          recorder.event(dsObj, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
        } catch (err) {
          this.expectations.deletionObserved(key, name);
          if (err instanceof ApiError && (err.notFound || err.conflict)) return;
          recorder.event(dsObj, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
          throw err;
        }
      })));
    }
    if (errors.length) throw errors[0];
    return requeue;
  }
}
