import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { objectKey } from '../../lib/informer';
import { ENDPOINTS, PODS, SERVICES } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import { splitKey, type ControllerContext } from '../context';
import { matchesMap } from '../util/selectors';
import { desiredEndpoints, endpointsUpToDate, MANAGED_BY_LABEL } from './sync';

/**
 * Keeps one Endpoints object per Service with a selector. Services without a
 * selector are left alone (their Endpoints are user-managed); Endpoints this
 * controller wrote carry MANAGED_BY_LABEL and are deleted with their Service.
 */
export class EndpointsController extends QueueController {
  private readonly svcInformer;
  private readonly podInformer;
  private readonly epInformer;

  constructor(ctx: ControllerContext, opts: { workers?: number } = {}) {
    super('endpoints', ctx, opts.workers ?? 4);
    this.svcInformer = ctx.informers.for<Service>(SERVICES);
    this.podInformer = ctx.informers.for<Pod>(PODS);
    this.epInformer = ctx.informers.for<Endpoints>(ENDPOINTS);
    this.enqueueOwnKey(this.svcInformer);
    const onPod = (p: Pod, old?: Pod) => {
      for (const s of this.svcInformer.list()) {
        if (s.metadata?.namespace !== p.metadata?.namespace) continue;
        if (matchesMap(s.spec?.selector, p.metadata?.labels) || (old && matchesMap(s.spec?.selector, old.metadata?.labels))) this.controller.enqueue(objectKey(s));
      }
    };
    this.podInformer.on({ add: (p) => onPod(p), update: (o, p) => onPod(p, o), delete: (p) => onPod(p) });
    // Someone else changed or deleted an Endpoints object: put it right.
    this.enqueueOwnKey(this.epInformer, ['update', 'delete']);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { client } = this.ctx;
    const { namespace, name } = splitKey(key);
    const svc = this.svcInformer.get(key);
    const current = this.epInformer.get(key);
    if (!svc) {
      if (current?.metadata?.labels?.[MANAGED_BY_LABEL]) {
        await client.delete(ENDPOINTS, name, { namespace, ignoreNotFound: true, preconditions: current.metadata.uid ? { uid: current.metadata.uid } : undefined }).catch((err) => {
          if (!(err instanceof ApiError && err.conflict)) throw err;
        });
      }
      return;
    }
    if (!svc.spec?.selector || Object.keys(svc.spec.selector).length === 0) return;
    const desired = desiredEndpoints(svc, this.podInformer.list());
    if (!current) {
      try {
        await client.create(ENDPOINTS, desired as KubeObject, namespace);
      } catch (err) {
        // Our cache is behind: the next event (or this retry) updates it.
        if (err instanceof ApiError && err.code === 409) return { requeueAfterMs: 100 };
        throw err;
      }
      return;
    }
    if (endpointsUpToDate(current, desired)) return;
    const next = {
      ...current,
      metadata: { ...current.metadata, labels: desired.metadata?.labels },
      subsets: desired.subsets,
    };
    await client.update(ENDPOINTS, next as KubeObject);
  }
}
