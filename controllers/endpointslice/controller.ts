import type { Node, Pod, Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { KubeObject } from '../../lib/client';
import { objectKey } from '../../lib/informer';
import { ENDPOINT_SLICES, NODES, PODS, SERVICES } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import { splitKey, type ControllerContext } from '../context';
import { matchesMap } from '../util/selectors';
import { CONTROLLER_NAME, DEFAULT_MAX_ENDPOINTS_PER_SLICE, desiredEndpoints, MANAGED_BY_LABEL, planEndpointSlices, SERVICE_NAME_LABEL, ZONE_LABEL } from './sync';
import { ownSliceHandlers, SliceTracker } from './tracker';
import { applySlicePlan } from './apply';

/** How soon a Service is looked at again when the cache is behind our own writes, or a pod's Node is unknown. */
const STALE_RETRY_MS = 100;
const MISSING_NODE_RETRY_MS = 1_000;

/**
 * Kubernetes' EndpointSlice controller: for every Service with a selector
 * (ExternalName excepted), slices of at most `maxEndpointsPerSlice` endpoints
 * holding its pods, written as `planEndpointSlices` says. Slices are owned by
 * the Service, so the garbage collector removes them with it.
 */
export class EndpointSliceController extends QueueController {
  private readonly svcInformer;
  private readonly podInformer;
  private readonly nodeInformer;
  private readonly sliceInformer;
  private readonly tracker = new SliceTracker();
  private readonly maxEndpointsPerSlice: number;

  constructor(ctx: ControllerContext, opts: { workers?: number; maxEndpointsPerSlice?: number } = {}) {
    super('endpointslice', ctx, opts.workers ?? 4);
    this.maxEndpointsPerSlice = opts.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE;
    this.svcInformer = ctx.informers.for<Service>(SERVICES);
    this.podInformer = ctx.informers.for<Pod>(PODS);
    this.nodeInformer = ctx.informers.for<Node>(NODES);
    this.sliceInformer = ctx.informers.for<EndpointSlice>(ENDPOINT_SLICES);
    this.enqueueOwnKey(this.svcInformer);
    const onPod = (p: Pod, old?: Pod) => {
      for (const s of this.svcInformer.list()) {
        if (s.metadata?.namespace !== p.metadata?.namespace) continue;
        if (matchesMap(s.spec?.selector, p.metadata?.labels) || (old && matchesMap(s.spec?.selector, old.metadata?.labels))) this.controller.enqueue(objectKey(s));
      }
    };
    this.podInformer.on({ add: (p) => onPod(p), update: (o, p) => onPod(p, o), delete: (p) => onPod(p) });
    // A node's zone is copied into its pods' endpoints; a node that appears lets skipped pods in.
    const everyService = () => {
      for (const s of this.svcInformer.list()) this.controller.enqueue(objectKey(s));
    };
    this.nodeInformer.on({
      add: everyService,
      update: (o, n) => {
        if (o.metadata?.labels?.[ZONE_LABEL] !== n.metadata?.labels?.[ZONE_LABEL]) everyService();
      },
      delete: everyService,
    });
    // Someone else changed or deleted one of our slices: put it right.
    this.sliceInformer.on(ownSliceHandlers(CONTROLLER_NAME, this.tracker, (key) => this.controller.enqueue(key)));
  }

  protected override objectFor(key: string): KubeObject | undefined {
    const svc = this.svcInformer.get(key);
    return svc ? ({ ...svc, apiVersion: 'v1', kind: 'Service' } as KubeObject) : undefined;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { client } = this.ctx;
    const { namespace, name } = splitKey(key);
    const svc = this.svcInformer.get(key);
    if (!svc) {
      // The garbage collector deletes its slices (they are owned by the Service).
      this.tracker.forget(key);
      return;
    }
    // No selector: the slices are the user's (or mirrored from their Endpoints).
    if (svc.spec?.type === 'ExternalName' || !svc.spec?.selector || Object.keys(svc.spec.selector).length === 0) return;

    const inNamespace = this.sliceInformer.list().filter((s) => s.metadata?.namespace === namespace);
    if (this.tracker.stale(key, inNamespace)) return { requeueAfterMs: STALE_RETRY_MS };
    const existing = inNamespace.filter(
      (s) => s.metadata?.labels?.[SERVICE_NAME_LABEL] === name && s.metadata.labels[MANAGED_BY_LABEL] === CONTROLLER_NAME && !s.metadata.deletionTimestamp,
    );
    const nodes = new Map(this.nodeInformer.list().map((n) => [n.metadata?.name ?? '', n]));
    const desired = desiredEndpoints(svc, this.podInformer.list(), nodes);
    const plan = planEndpointSlices(svc, desired, existing, this.maxEndpointsPerSlice);

    // A Service being deleted gets no new slices; its old ones go with it.
    if (!(await applySlicePlan(client, this.tracker, key, namespace, plan, { create: !svc.metadata?.deletionTimestamp }))) return { requeueAfterMs: STALE_RETRY_MS };
    if (desired.skipped.length) {
      this.ctx.logger.info({ service: key, pods: desired.skipped }, 'pods on unknown nodes left out of EndpointSlices; retrying');
      return { requeueAfterMs: MISSING_NODE_RETRY_MS };
    }
  }
}
