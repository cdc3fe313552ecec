import type { Pod } from 'kubernetes-types/core/v1';
import type { ReplicaSet } from 'kubernetes-types/apps/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { objectKey } from '../../lib/informer';
import { PODS, REPLICASETS } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import { nsKey, type ControllerContext } from '../context';
import { applyClaims, orphanHandlers } from '../claim-objects';
import { createPodsExpected } from '../create-pods';
import { planClaims } from '../util/claim';
import { Expectations, ownedPodHandlers } from '../expectations';
import { parallelLimit } from '../util/batch';
import { controllerRef } from '../util/owners';
import { isPodActive } from '../util/pods';
import { computeReplicaSetStatus, newPodForReplicaSet, newPodName, nextAvailabilityCheckMs, planReplicaSet, statusEqual } from './sync';

/**
 * Keeps the number of active pods a ReplicaSet controls equal to spec.replicas
 * and writes its status. Its pods are those it controls (by uid) that still
 * match the selector; it adopts orphans that match and releases its own that
 * stopped matching (util/claim.ts).
 */
export class ReplicaSetController extends QueueController {
  private readonly expectations: Expectations;
  private readonly rsInformer;
  private readonly podInformer;

  constructor(ctx: ControllerContext, opts: { workers?: number } = {}) {
    super('replicaset', ctx, opts.workers ?? 4);
    this.expectations = new Expectations(60_000);
    this.rsInformer = ctx.informers.for<ReplicaSet>(REPLICASETS);
    this.podInformer = ctx.informers.for<Pod>(PODS);
    this.rsInformer.on({
      add: (rs) => this.controller.enqueue(objectKey(rs)),
      update: (_o, rs) => this.controller.enqueue(objectKey(rs)),
      delete: (rs) => {
        this.expectations.forget(objectKey(rs));
        this.controller.enqueue(objectKey(rs));
      },
    });
    this.podInformer.on(ownedPodHandlers(this.expectations, (p) => this.ownerKey(p), (k) => this.controller.enqueue(k)));
    this.podInformer.on(orphanHandlers(() => this.rsInformer.list(), (rs) => rs.spec?.selector, (k) => this.controller.enqueue(k)));
  }

  private ownerKey(p: Pod): string | undefined {
    const ref = controllerRef(p);
    if (!ref || ref.kind !== 'ReplicaSet') return undefined;
    return nsKey(p.metadata?.namespace, ref.name);
  }

  /** Active pods of `rs`, once orphans are adopted and pods that stopped matching released. */
  private async ownedPods(rs: ReplicaSet): Promise<Pod[]> {
    const ns = rs.metadata?.namespace;
    const owner = { ...rs, apiVersion: 'apps/v1', kind: 'ReplicaSet' } as KubeObject;
    // only active pods are claimed, as Kubernetes does
    const plan = planClaims(owner, rs.spec?.selector, this.podInformer.list().filter((p) => p.metadata?.namespace === ns && isPodActive(p)));
    return applyClaims({ ctx: this.ctx, resource: PODS, owner, fresh: () => this.ctx.client.tryGet(REPLICASETS, rs.metadata!.name!, ns) }, plan);
  }

  protected override objectFor(key: string): KubeObject | undefined {
    return this.rsInformer.getObject(key);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const rs = this.rsInformer.get(key);
    if (!rs) {
      this.expectations.forget(key);
      return;
    }
    const pods = await this.ownedPods(rs);
    let manageError: unknown;
    if (this.expectations.satisfied(key) && !rs.metadata?.deletionTimestamp) {
      try {
        await this.manageReplicas(key, rs, pods);
      } catch (err) {
        manageError = err;
      }
    }
    const now = this.ctx.now();
    const status = computeReplicaSetStatus(rs, pods, now);
    if (!statusEqual(rs.status, status)) {
      const copy = { ...structuredClone(rs), status };
      try {
        await this.ctx.client.updateStatus(REPLICASETS, copy as KubeObject);
      } catch (err) {
        if (!(err instanceof ApiError && err.notFound)) throw err;
      }
    }
    if (manageError) throw manageError;
    const wait = nextAvailabilityCheckMs(rs, pods, now);
    return wait !== undefined ? { requeueAfterMs: wait } : undefined;
  }

  private async manageReplicas(key: string, rs: ReplicaSet, pods: Pod[]): Promise<void> {
    const plan = planReplicaSet(rs, pods);
    const { client, recorder } = this.ctx;
    const rsObj = { ...rs, apiVersion: 'apps/v1', kind: 'ReplicaSet' } as KubeObject;
    if (plan.create > 0) {
      const rsName = rs.metadata!.name!;
      const errors = await createPodsExpected({
        ctx: this.ctx, expectations: this.expectations, key, owner: rsObj, namespace: rs.metadata?.namespace,
        names: Array.from({ length: plan.create }, () => newPodName(rsName)),
        build: (_i, name) => newPodForReplicaSet(rs, name),
        rename: () => newPodName(rsName),
      });
      if (errors.length) throw errors[0];
    } else if (plan.delete.length > 0) {
      const names = plan.delete.map((p) => p.metadata!.name!);
      this.expectations.expectDeletions(key, names);
      const errors = await parallelLimit(plan.delete, 16, async (p) => {
        const name = p.metadata!.name!;
        try {
          await client.delete(PODS, name, { namespace: p.metadata?.namespace, preconditions: p.metadata?.uid ? { uid: p.metadata.uid } : undefined });
          recorder.event(rsObj, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
        } catch (err) {
          if (err instanceof ApiError && (err.notFound || err.conflict)) {
            this.expectations.deletionObserved(key, name);
            return;
          }
          this.expectations.deletionObserved(key, name);
          recorder.event(rsObj, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
          throw err;
        }
      });
      if (errors.length) throw errors[0];
    }
  }
}

