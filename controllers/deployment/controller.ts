import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { DEPLOYMENTS, REPLICASETS } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import { nsKey, type ControllerContext } from '../context';
import { controllerRef, isControlledBy } from '../util/owners';
import { deploymentStatusEqual, planDeployment, REVISION_ANNOTATION, templatesEqual } from './sync';

/**
 * Drives Deployments through ReplicaSets: one reconcile computes one rollout
 * step with `planDeployment` from the informer caches and writes it. Writes to
 * existing ReplicaSets are PUTs carrying the cached resourceVersion, so a step
 * computed from a stale cache fails with 409 and is retried, never applied.
 */
export class DeploymentController extends QueueController {
  private readonly dInformer;
  private readonly rsInformer;

  constructor(ctx: ControllerContext, opts: { workers?: number } = {}) {
    super('deployment', ctx, opts.workers ?? 2);
    this.dInformer = ctx.informers.for<Deployment>(DEPLOYMENTS);
    this.rsInformer = ctx.informers.for<ReplicaSet>(REPLICASETS);
    this.enqueueOwnKey(this.dInformer);
    const onRS = (rs: ReplicaSet) => {
      const ref = controllerRef(rs);
      if (ref?.kind === 'Deployment') this.controller.enqueue(nsKey(rs.metadata?.namespace, ref.name));
    };
    this.rsInformer.on({ add: onRS, update: (o, n) => (onRS(o), onRS(n)), delete: onRS });
  }

  protected override objectFor(key: string): KubeObject | undefined {
    return this.dInformer.getObject(key);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const d = this.dInformer.get(key);
    if (!d || d.metadata?.deletionTimestamp) return;
    const { client, recorder } = this.ctx;
    const owned = this.rsInformer.list().filter((rs) => rs.metadata?.namespace === d.metadata?.namespace && isControlledBy(rs, d.metadata?.uid));
    const plan = planDeployment(d, owned, this.ctx.now());
    const dObj = { ...d, apiVersion: 'apps/v1', kind: 'Deployment' } as KubeObject;

    if (plan.create) {
      try {
        await client.create(REPLICASETS, plan.create as KubeObject, d.metadata?.namespace);
        recorder.event(dObj, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${plan.create.metadata?.name} from 0 to ${plan.create.spec?.replicas ?? 0}`);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
        // Either our informer has not seen it yet (fine: the next pass finds
        // it) or a different template hashed to the same name: bump
        // collisionCount so the next hash differs, as Kubernetes does.
        const existing = await client.tryGet<ReplicaSet>(REPLICASETS, plan.create.metadata!.name!, d.metadata?.namespace);
        if (existing && !(isControlledBy(existing, d.metadata?.uid) && templatesEqual(existing.spec?.template, d.spec?.template))) {
          const status = { ...(d.status ?? {}), collisionCount: (d.status?.collisionCount ?? 0) + 1 };
          await client.updateStatus(DEPLOYMENTS, { ...d, status } as KubeObject);
        }
        return { requeueAfterMs: 200 };
      }
    }
    for (const rs of plan.update) {
      await client.update(REPLICASETS, rs as KubeObject);
    }
    for (const s of plan.scales) {
      if (s.rs === plan.create) continue;
      const dir = s.to > s.from ? 'up' : 'down';
      recorder.event(dObj, 'Normal', 'ScalingReplicaSet', `Scaled ${dir} replica set ${s.rs.metadata?.name} from ${s.from} to ${s.to}`);
    }
    for (const rs of plan.delete) {
      await client.delete(REPLICASETS, rs.metadata!.name!, { namespace: rs.metadata?.namespace, ignoreNotFound: true, preconditions: rs.metadata?.uid ? { uid: rs.metadata.uid } : undefined });
    }
    let current = d;
    if (plan.revision && d.metadata?.annotations?.[REVISION_ANNOTATION] !== plan.revision) {
      current = await client.patch<Deployment & KubeObject>(DEPLOYMENTS, d.metadata!.name!, { metadata: { annotations: { [REVISION_ANNOTATION]: plan.revision } } }, { namespace: d.metadata?.namespace, type: 'merge' });
    }
    if (!deploymentStatusEqual(d.status, plan.status)) {
      try {
        await client.updateStatus(DEPLOYMENTS, { ...current, status: plan.status } as KubeObject);
      } catch (err) {
        if (!(err instanceof ApiError && err.notFound)) throw err;
      }
    }
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  }
}
