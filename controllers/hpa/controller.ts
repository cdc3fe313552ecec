import { isDeepStrictEqual } from 'node:util';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import type { Pod } from 'kubernetes-types/core/v1';
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { EventRecorder } from '../../lib/events';
import { DEPLOYMENTS, PODS, REPLICASETS, STATEFULSETS, resourcePath, type ResourceRef } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import { splitKey, type ControllerContext } from '../context';
import { newHistory, storeScaleEvent, type History } from './behavior';
import { rescaleFailed, syncHpa, type RawPodMetrics, type Scale, type SyncOptions, type SyncPlan } from './sync';

export const HORIZONTAL_POD_AUTOSCALERS: ResourceRef = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true };

/** Kinds whose `/scale` the autoscaler drives, by API group (upstream finds them through its REST mapper). */
const SCALE_TARGETS: Record<string, Record<string, ResourceRef>> = {
  apps: { Deployment: DEPLOYMENTS, ReplicaSet: REPLICASETS, StatefulSet: STATEFULSETS },
};

export interface HpaControllerOptions extends SyncOptions {
  /** --horizontal-pod-autoscaler-sync-period: how often each HPA is synced (Kubernetes: 15 s). */
  syncPeriodMs: number;
}

export const DEFAULT_HPA_OPTIONS: HpaControllerOptions = {
  syncPeriodMs: 15_000,
  downscaleStabilizationMs: 5 * 60_000,
  tolerance: 0.1,
  cpuInitializationPeriodMs: 5 * 60_000,
  delayOfInitialReadinessStatusMs: 30_000,
};

/**
 * Kubernetes' horizontal pod autoscaler controller. Every HPA is synced once per sync period
 * (and at once when created or its spec changes): the target's Scale, the pods its
 * `status.selector` matches (from the pod informer) and their usage from the metrics API
 * (`metrics.k8s.io/v1beta1` PodMetrics) go to `syncHpa`; the new count is written to the
 * Scale, the status when it changed, and events are recorded as `horizontal-pod-autoscaler`.
 * Recent recommendations and scale events live in memory, per HPA, as upstream keeps them:
 * a restarted controller starts its stabilization windows afresh.
 */
export class HpaController extends QueueController {
  private readonly hpaInformer;
  private readonly podInformer;
  private readonly recorder: EventRecorder;
  private readonly histories = new Map<string, History>();
  private readonly selectors = new Map<string, LabelSelector>();

  constructor(ctx: ControllerContext, private readonly opts: HpaControllerOptions = DEFAULT_HPA_OPTIONS) {
    super('horizontalpodautoscaling', ctx, 2);
    this.recorder = new EventRecorder(ctx.client, 'horizontal-pod-autoscaler', { logger: ctx.logger });
    this.hpaInformer = ctx.informers.for<HorizontalPodAutoscaler & KubeObject>(HORIZONTAL_POD_AUTOSCALERS);
    this.podInformer = ctx.informers.for<Pod & KubeObject>(PODS);
    this.hpaInformer.on({
      add: (h) => this.controller.enqueue(key(h)),
      // its own status writes come back as updates: only a spec change is worth an early sync
      update: (o, h) => {
        if (o.metadata?.generation !== h.metadata?.generation) this.controller.enqueue(key(h));
      },
      delete: (h) => this.controller.enqueue(key(h)),
    });
  }

  protected override objectFor(k: string): KubeObject | undefined {
    return withKind(this.hpaInformer.get(k));
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.recorder.flush();
  }

  async reconcile(k: string): Promise<ReconcileResult | void> {
    const cached = this.hpaInformer.get(k);
    if (!cached) {
      this.histories.delete(k);
      this.selectors.delete(k);
      return;
    }
    const hpa = structuredClone(cached);
    const { namespace } = splitKey(k);
    const scale = await this.getScale(hpa);
    const selector = 'scale' in scale ? scale.scale.status?.selector : undefined;
    const podMetrics = 'scale' in scale && selector ? await this.podMetrics(namespace!, selector) : { items: [] };
    let history = this.histories.get(k);
    if (!history) this.histories.set(k, (history = newHistory()));
    const now = this.ctx.now();
    let plan = syncHpa({
      hpa, scale, podMetrics, now, options: this.opts,
      pods: this.podInformer.list().filter((p) => p.metadata?.namespace === namespace),
      otherSelectors: this.selectors,
    }, history);
    if (plan.selector) this.selectors.set(k, plan.selector);
    if (plan.rescale && 'scale' in scale) plan = await this.rescale(hpa, scale.scale, plan, history);
    const obj = withKind(hpa)!;
    for (const e of plan.events) this.recorder.event(obj, e.type, e.reason, e.message);
    if (plan.rescale && !plan.error) this.ctx.logger.info({ hpa: k, currentReplicas: plan.rescale.from, desiredReplicas: plan.rescale.to, reason: plan.rescale.reason }, 'hpa: successfully rescaled');
    else if (plan.error) this.ctx.logger.warn({ hpa: k, err: plan.error }, 'hpa: sync failed');
    await this.writeStatus(hpa, plan);
    return { requeueAfterMs: this.opts.syncPeriodMs };
  }

  /** The target's Scale, or the error upstream reports as FailedGetScale. */
  private async getScale(hpa: HorizontalPodAutoscaler): Promise<{ scale: Scale } | { error: string }> {
    const ref = hpa.spec?.scaleTargetRef;
    const apiVersion = ref?.apiVersion ?? '';
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    const target = SCALE_TARGETS[group]?.[ref?.kind ?? ''];
    if (!target) return { error: `no matches for kind ${JSON.stringify(ref?.kind ?? '')} in group ${JSON.stringify(group)}` };
    try {
      return { scale: await this.ctx.client.request<Scale>('GET', scalePath(target, hpa.metadata?.namespace ?? 'default', ref?.name ?? '')) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  }

  /** The metrics API's PodMetrics for the selector, or the error upstream's metrics client wraps. */
  private async podMetrics(namespace: string, selector: string): Promise<{ items: RawPodMetrics[] } | { error: string }> {
    try {
      const list = await this.ctx.client.request<{ items?: RawPodMetrics[] }>('GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`, { query: { labelSelector: selector } });
      return { items: list?.items ?? [] };
    } catch (err) {
      if (err instanceof ApiError && err.notFound) return { error: 'the server could not find the requested resource (get pods.metrics.k8s.io)' };
      return { error: (err as Error).message };
    }
  }

  /** Writes the new count to the Scale; on failure the plan becomes upstream's FailedRescale one. */
  private async rescale(hpa: HorizontalPodAutoscaler, scale: Scale, plan: SyncPlan, history: History): Promise<SyncPlan> {
    const r = plan.rescale!;
    const ref = hpa.spec!.scaleTargetRef;
    const target = SCALE_TARGETS[ref.apiVersion?.split('/')[0] ?? '']![ref.kind]!;
    const body = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: scale.metadata, spec: { ...scale.spec, replicas: r.to } };
    try {
      await this.ctx.client.request('PUT', scalePath(target, hpa.metadata?.namespace ?? 'default', ref.name), { body });
    } catch (err) {
      return rescaleFailed(hpa, plan, (err as Error).message, this.ctx.now());
    }
    storeScaleEvent(history, hpa.spec?.behavior, r.from, r.to, this.ctx.now(), this.opts.downscaleStabilizationMs);
    return plan;
  }

  /** Writes the status when it changed; an HPA deleted meanwhile is fine. */
  private async writeStatus(hpa: HorizontalPodAutoscaler, plan: SyncPlan): Promise<void> {
    if (isDeepStrictEqual(plan.status, hpa.status ?? { desiredReplicas: 0 })) return;
    try {
      await this.ctx.client.updateStatus(HORIZONTAL_POD_AUTOSCALERS, { ...withKind(hpa), status: plan.status } as KubeObject);
    } catch (err) {
      if (err instanceof ApiError && err.notFound) return;
      this.recorder.event(withKind(hpa)!, 'Warning', 'FailedUpdateStatus', (err as Error).message);
      // a conflict means the spec changed meanwhile: the next sync starts from the new object
      if (!(err instanceof ApiError && err.conflict)) throw err;
    }
  }
}

function key(h: KubeObject): string {
  return `${h.metadata?.namespace}/${h.metadata?.name}`;
}

function withKind(h: HorizontalPodAutoscaler | undefined): KubeObject | undefined {
  return h ? ({ ...h, apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' } as KubeObject) : undefined;
}

function scalePath(ref: ResourceRef, namespace: string, name: string): string {
  return resourcePath(ref, { namespace, name, subresource: 'scale' });
}
