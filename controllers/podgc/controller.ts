import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { objectKey } from '../../lib/informer';
import { PODS } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import type { ControllerContext } from '../context';
import { parallelLimit } from '../util/batch';
import { isPodTerminated, planPodGc } from './podgc';

/** Kubernetes' PodGC period. */
export const POD_GC_PERIOD_MS = 20_000;
const KEY = 'pods';

/**
 * Deletes terminated pods above --terminated-pod-gc-threshold (oldest first)
 * and unscheduled pods stuck terminating, every POD_GC_PERIOD_MS and soon after
 * a pod finishes. The deletes are forced (grace 0): the pods run nothing.
 */
export class PodGcController extends QueueController {
  private readonly podInformer;

  constructor(ctx: ControllerContext, private readonly opts: { terminatedPodGcThreshold: number }) {
    super('podgc', ctx, 1);
    this.podInformer = ctx.informers.for<Pod>(PODS);
    const onPod = (p: Pod) => {
      if (isPodTerminated(p) || (p.metadata?.deletionTimestamp && !p.spec?.nodeName)) this.controller.enqueue(KEY);
    };
    this.podInformer.on({ add: onPod, update: (_o, p) => onPod(p) });
  }

  override start(): void {
    super.start();
    this.controller.enqueue(KEY);
  }

  async reconcile(): Promise<ReconcileResult | void> {
    const plan = planPodGc(this.podInformer.list(), this.opts.terminatedPodGcThreshold);
    const del = async (p: Pod, why: string) => {
      try {
        await this.ctx.client.delete(PODS, p.metadata!.name!, { namespace: p.metadata?.namespace, gracePeriodSeconds: 0, preconditions: p.metadata?.uid ? { uid: p.metadata.uid } : undefined });
        this.ctx.logger.info({ pod: objectKey(p) }, why);
      } catch (err) {
        if (!(err instanceof ApiError && (err.notFound || err.conflict))) throw err;
      }
    };
    const errors = [
      ...(await parallelLimit(plan.terminated, 8, (p) => del(p, 'podgc: terminated pod deleted (over --terminated-pod-gc-threshold)'))),
      ...(await parallelLimit(plan.unscheduledTerminating, 8, (p) => del(p, 'podgc: unscheduled terminating pod force-deleted'))),
    ];
    if (errors.length) throw errors[0];
    return { requeueAfterMs: POD_GC_PERIOD_MS };
  }

  protected override objectFor(): KubeObject | undefined {
    return undefined;
  }
}
