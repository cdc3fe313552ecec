import type { Pod } from 'kubernetes-types/core/v1';
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { objectKey } from '../../lib/informer';
import { DEPLOYMENTS, PODDISRUPTIONBUDGETS, PODS, REPLICASETS, STATEFULSETS } from '../../lib/resources';
import { Controller, type ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import { nsKey, type ControllerContext } from '../context';
import { matchesSelector } from '../util/selectors';
import { type Owners, syncBudget } from './sync';
import { resetDisruptionTarget, staleDisruptionIn } from './stale';

/**
 * Keeps every PodDisruptionBudget's status (sync.ts computes it) in step with the pods it
 * selects and their controllers' scale, so the eviction subresource can decide. A budget is
 * looked at again when a pending eviction in status.disruptedPods expires. A second queue resets
 * stale DisruptionTarget marks on pods an eviction did not delete after all (stale.ts).
 */
export class DisruptionController extends QueueController {
  private readonly pdbInformer;
  private readonly podInformer;
  private readonly owners: Owners;
  /** Pods (namespace/name) whose DisruptionTarget mark may be stale. */
  private readonly staleQueue: Controller;

  constructor(ctx: ControllerContext, opts: { workers?: number } = {}) {
    super('disruption', ctx, opts.workers ?? 2);
    this.pdbInformer = ctx.informers.for<PodDisruptionBudget>(PODDISRUPTIONBUDGETS);
    this.podInformer = ctx.informers.for<Pod>(PODS);
    const rsInformer = ctx.informers.for<ReplicaSet>(REPLICASETS);
    const deployInformer = ctx.informers.for<Deployment>(DEPLOYMENTS);
    const ssInformer = ctx.informers.for<StatefulSet>(STATEFULSETS);
    this.owners = {
      replicaSet: (ns, name) => rsInformer.get(nsKey(ns, name)),
      deployment: (ns, name) => deployInformer.get(nsKey(ns, name)),
      statefulSet: (ns, name) => ssInformer.get(nsKey(ns, name)),
    };
    this.enqueueOwnKey(this.pdbInformer);
    const onPod = (p: Pod, old?: Pod) => {
      for (const pdb of this.pdbInformer.list()) {
        if (pdb.metadata?.namespace !== p.metadata?.namespace) continue;
        if (matchesSelector(pdb.spec?.selector, p.metadata?.labels) || (old && matchesSelector(pdb.spec?.selector, old.metadata?.labels))) this.controller.enqueue(objectKey(pdb));
      }
    };
    this.podInformer.on({ add: (p) => onPod(p), update: (o, p) => onPod(p, o), delete: (p) => onPod(p) });
    this.staleQueue = new Controller({ name: 'disruption-stale-pods', reconcile: (k) => this.resetStale(k), workers: 1, logger: ctx.logger, metrics: ctx.metrics, recorder: ctx.recorder });
    const onMarked = (p: Pod) => {
      const after = staleDisruptionIn(p, this.ctx.now());
      if (after !== undefined) this.staleQueue.enqueueAfter(objectKey(p), after);
    };
    this.podInformer.on({ add: onMarked, update: (_o, p) => onMarked(p) });
    // A controller's scale counts toward the budgets of its namespace.
    const onScale = (o: KubeObject) => {
      for (const pdb of this.pdbInformer.list()) if (pdb.metadata?.namespace === o.metadata?.namespace) this.controller.enqueue(objectKey(pdb));
    };
    for (const inf of [rsInformer, deployInformer, ssInformer]) inf.on({ add: onScale, update: (_o, n) => onScale(n), delete: onScale });
  }

  override start(): void {
    super.start();
    this.staleQueue.start();
  }

  override async stop(): Promise<void> {
    await Promise.all([super.stop(), this.staleQueue.stop()]);
  }

  /** Resets the pod's DisruptionTarget mark to False once it is stale. */
  private async resetStale(key: string): Promise<ReconcileResult | void> {
    const pod = this.podInformer.get(key);
    if (!pod) return;
    const after = staleDisruptionIn(pod, this.ctx.now());
    if (after === undefined) return;
    if (after > 0) return { requeueAfterMs: after };
    const next = { ...structuredClone(pod), status: { ...pod.status, conditions: resetDisruptionTarget(pod, new Date(this.ctx.now())) } };
    try {
      await this.ctx.client.updateStatus(PODS, next as KubeObject);
      this.ctx.logger.info({ pod: key }, 'reset stale DisruptionTarget condition to False');
    } catch (err) {
      if (err instanceof ApiError && err.notFound) return;
      throw err;
    }
  }

  protected override objectFor(key: string): KubeObject | undefined {
    return this.pdbInformer.getObject(key);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const pdb = this.pdbInformer.get(key);
    if (!pdb) return;
    const r = syncBudget(pdb, this.podInformer.list(), this.owners, new Date(this.ctx.now()));
    const obj = this.pdbInformer.getObject(key)!;
    if (r.error) this.ctx.recorder.event(obj, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${r.error}`);
    if (r.status) {
      if (r.unmanaged.length) {
        this.ctx.recorder.event(obj, 'Warning', 'UnmanagedPods', `Pods selected by this PodDisruptionBudget were found to be unmanaged (${r.unmanaged.join(', ')}); its status cannot count them. Set .spec.minAvailable to an integer to count them.`);
      }
      if (r.status.expectedPods === 0 && !r.error) this.ctx.recorder.event(obj, 'Normal', 'NoPods', 'No matching pods found');
      try {
        await this.ctx.client.updateStatus(PODDISRUPTIONBUDGETS, { ...structuredClone(pdb), status: r.status } as KubeObject);
      } catch (err) {
        // deleted meanwhile: nothing to keep; a conflict retries from the newer object
        if (err instanceof ApiError && err.notFound) return;
        throw err;
      }
    }
    return r.recheckAfterMs !== undefined ? { requeueAfterMs: r.recheckAfterMs + 1 } : undefined;
  }
}
