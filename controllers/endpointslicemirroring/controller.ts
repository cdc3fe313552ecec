import type { Endpoints, Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { ENDPOINT_SLICES, ENDPOINTS, SERVICES } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import { splitKey, type ControllerContext } from '../context';
import { applySlicePlan } from '../endpointslice/apply';
import { MANAGED_BY_LABEL, planSlices, SERVICE_NAME_LABEL } from '../endpointslice/sync';
import { ownSliceHandlers, SliceTracker } from '../endpointslice/tracker';
import { MAX_MIRRORED_ENDPOINTS, MIRRORING_CONTROLLER_NAME, mirrorGroups, mirrorOwner, shouldMirror } from './sync';

const STALE_RETRY_MS = 100;

/**
 * Kubernetes' EndpointSlice mirroring controller: keeps the slices of each
 * selectorless Service equal to its user-written Endpoints (key
 * `namespace/name`, the same for both). Mirrored slices are owned by the
 * Endpoints; they are deleted here when mirroring no longer applies (the
 * Service gained a selector, is gone, or the Endpoints say skip-mirror).
 */
export class EndpointSliceMirroringController extends QueueController {
  private readonly svcInformer;
  private readonly epInformer;
  private readonly sliceInformer;
  private readonly tracker = new SliceTracker();

  constructor(ctx: ControllerContext, opts: { workers?: number } = {}) {
    super('endpointslicemirroring', ctx, opts.workers ?? 2);
    this.svcInformer = ctx.informers.for<Service>(SERVICES);
    this.epInformer = ctx.informers.for<Endpoints>(ENDPOINTS);
    this.sliceInformer = ctx.informers.for<EndpointSlice>(ENDPOINT_SLICES);
    this.enqueueOwnKey(this.svcInformer);
    this.enqueueOwnKey(this.epInformer);
    this.sliceInformer.on(ownSliceHandlers(MIRRORING_CONTROLLER_NAME, this.tracker, (key) => this.controller.enqueue(key)));
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const eps = this.epInformer.get(key);
    const inNamespace = this.sliceInformer.list().filter((s) => s.metadata?.namespace === namespace);
    if (this.tracker.stale(key, inNamespace)) return { requeueAfterMs: STALE_RETRY_MS };
    const existing = inNamespace.filter(
      (s) => s.metadata?.labels?.[SERVICE_NAME_LABEL] === name && s.metadata.labels[MANAGED_BY_LABEL] === MIRRORING_CONTROLLER_NAME && !s.metadata.deletionTimestamp,
    );
    if (!shouldMirror(eps, this.svcInformer.get(key))) {
      if (!eps) this.tracker.forget(key);
      if (!existing.length) return;
      const ok = await applySlicePlan(this.ctx.client, this.tracker, key, namespace, { create: [], update: [], delete: existing }, { create: false });
      return ok ? undefined : { requeueAfterMs: STALE_RETRY_MS };
    }
    const plan = planSlices(mirrorOwner(eps), mirrorGroups(eps), existing, MAX_MIRRORED_ENDPOINTS);
    if (!(await applySlicePlan(this.ctx.client, this.tracker, key, namespace, plan, { create: true }))) return { requeueAfterMs: STALE_RETRY_MS };
  }
}

