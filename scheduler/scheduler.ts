import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1';
import { ApiError, type ApiClient, type KubeObject } from '../lib/client';
import type { EventRecorder } from '../lib/events';
import { objectKey, type Informer } from '../lib/informer';
import type { Logger } from '../lib/log';
import { PODS, resourcePath } from '../lib/resources';
import { Controller, type ReconcileResult } from '../lib/reconcile/controller';
import { buildNodeInfos, AssumeCache, snapshotOf } from './cache';
import type { SchedulerMetrics } from './metrics';
import { defaultProfile, type Profile } from './plugins/registry';
import { needsScheduling, schedulePod, type ScheduleResult } from './schedule';
import type { Snapshot } from './framework';
import { withNominatedPods } from './preemption';
import { delayedClaims, type VolumeLister } from './plugins/volumeBinding';
import { ANN_SELECTED_NODE } from '../lib/volume-binding';
import { PERSISTENT_VOLUME_CLAIMS } from '../lib/resources';
import { rfc3339 } from '../lib/time';

export interface SchedulerOptions {
  client: ApiClient;
  pods: Informer<Pod>;
  nodes: Informer<Node>;
  recorder: EventRecorder;
  logger: Logger;
  metrics?: SchedulerMetrics;
  schedulerName?: string;
  profile?: Profile;
  /** Claims, volumes and classes: the VolumeBinding filter and delayed binding (none: pods with claims are placed as if they had none). */
  volumes?: VolumeLister;
  /** Labels of a namespace (a namespace informer), for namespaceSelector in pod affinity. */
  namespaceLabels?: (namespace: string) => Record<string, string> | undefined;
  now?: () => number;
  /** Retry delay of an unschedulable pod: initial, doubling to max (ms). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Runs after an attempt no node passed (kube-scheduler's PostFilter; DefaultPreemption,
   * scheduler/preempt.ts): `message` is appended to the FailedScheduling message ("preemption: …"),
   * `nominatedNode` is where the pod will go once its victims are gone.
   */
  postFilter?: (pod: Pod, result: ScheduleResult, snapshot: Snapshot) => Promise<{ message: string; nominatedNode?: string } | undefined>;
}

/** Node fields whose change can make an unschedulable pod fit. */
function schedulingRelevant(n: Node): string {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return JSON.stringify([n.metadata?.labels, n.spec?.unschedulable, n.spec?.taints, n.status?.allocatable, ready]);
}

/**
 * Places pods one at a time: filter, score, assume, bind. A pod that fits
 * nowhere gets a FailedScheduling event and PodScheduled=False/Unschedulable,
 * and is retried with backoff and whenever a node changes or a bound pod goes
 * away. Bound pods are "assumed" until the informer shows them bound, so
 * back-to-back decisions account for each other.
 */
export class Scheduler {
  readonly controller: Controller;
  readonly assumed = new AssumeCache();
  private readonly unschedulable = new Set<string>();
  private readonly attempts = new Map<string, number>();
  /** Pods placed on a node whose WaitForFirstConsumer claims are not bound yet (upstream's PreBind wait). */
  private readonly waitingForVolumes = new Set<string>();
  private rotation = 0;
  private readonly profile: Profile;
  private readonly schedulerName: string;
  private readonly now: () => number;

  constructor(private readonly o: SchedulerOptions) {
    this.profile = o.profile ?? defaultProfile(o.volumes);
    this.schedulerName = o.schedulerName ?? 'default-scheduler';
    this.now = o.now ?? Date.now;
    this.controller = new Controller({
      name: 'scheduler',
      reconcile: (k) => this.scheduleOne(k),
      workers: 1,
      logger: o.logger,
      baseDelayMs: 100,
      maxDelayMs: 10_000,
      recorder: o.recorder,
      objectFor: (k) => o.pods.getObject(k),
    });
    o.pods.on({
      add: (p) => this.onPod(p),
      update: (old, p) => {
        this.onPod(p);
        if (!old.spec?.nodeName && p.spec?.nodeName) this.attempts.delete(objectKey(p));
        if (p.spec?.nodeName && isDone(p) && !isDone(old)) this.retryUnschedulable();
      },
      delete: (p) => {
        this.assumed.confirm(p, true);
        this.unschedulable.delete(objectKey(p));
        this.waitingForVolumes.delete(objectKey(p));
        this.attempts.delete(objectKey(p));
        if (p.spec?.nodeName) this.retryUnschedulable();
      },
    });
    o.nodes.on({
      add: () => this.retryUnschedulable(),
      update: (old, n) => {
        if (schedulingRelevant(old) !== schedulingRelevant(n)) this.retryUnschedulable();
      },
    });
  }

  get pendingCounts(): { active: number; unschedulable: number } {
    return { active: this.controller.queue.length, unschedulable: this.unschedulable.size };
  }

  private onPod(p: Pod): void {
    this.assumed.confirm(p);
    if (needsScheduling(p, this.schedulerName) && !this.assumed.isAssumed(p)) this.controller.enqueue(objectKey(p));
  }

  private retryUnschedulable(): void {
    for (const k of this.unschedulable) this.controller.enqueue(k);
  }

  /** A claim or volume changed: pods waiting for their claims to bind, and unschedulable ones, try again. */
  volumesChanged(): void {
    for (const k of this.waitingForVolumes) this.controller.enqueue(k);
    this.retryUnschedulable();
  }

  start(): void {
    this.controller.start();
  }

  stop(): Promise<void> {
    return this.controller.stop();
  }

  private backoff(key: string): number {
    const n = this.attempts.get(key) ?? 0;
    this.attempts.set(key, n + 1);
    return Math.min((this.o.initialBackoffMs ?? 1000) * 2 ** n, this.o.maxBackoffMs ?? 10_000);
  }

  /** Schedules the pod at `key` (exposed for tests). */
  async scheduleOne(key: string): Promise<ReconcileResult | void> {
    const { client, recorder, logger, metrics } = this.o;
    const pod = this.o.pods.get(key);
    if (!pod || !needsScheduling(pod, this.schedulerName) || this.assumed.isAssumed(pod)) {
      this.unschedulable.delete(key);
      return;
    }
    const started = this.now();
    const allPods = this.o.pods.list();
    // pods nominated to a node (preemptors waiting for their victims) count as placed there for less important pods
    const infos = withNominatedPods(buildNodeInfos(this.o.nodes.list(), allPods, this.assumed.list(started)), allPods, pod);
    const snapshot = snapshotOf(infos, this.o.namespaceLabels);
    const result = schedulePod(pod, snapshot, this.profile, this.rotation++);
    const podObj = { ...pod, apiVersion: 'v1', kind: 'Pod' } as KubeObject;
    if (!result.ok) {
      this.unschedulable.add(key);
      const post = await this.o.postFilter?.(pod, result, snapshot);
      const message = post?.message ? `${result.message} ${post.message}` : result.message;
      metrics?.attempts.inc({ result: 'unschedulable' });
      metrics?.duration.observe({ result: 'unschedulable' }, (this.now() - started) / 1000);
      recorder.event(podObj, 'Warning', 'FailedScheduling', message);
      await this.setUnschedulable(pod, message);
      logger.info({ pod: key, reason: message, nominatedNode: post?.nominatedNode }, 'pod is unschedulable');
      return { requeueAfterMs: this.backoff(key) };
    }
    this.unschedulable.delete(key);
    if (this.o.volumes && (await this.waitForVolumes(pod, result.nodeName))) {
      this.waitingForVolumes.add(key);
      return { requeueAfterMs: 5_000 };
    }
    this.waitingForVolumes.delete(key);
    this.assumed.assume(pod, result.nodeName, started);
    try {
      await client.request('POST', resourcePath(PODS, { namespace: pod.metadata?.namespace, name: pod.metadata?.name, subresource: 'binding' }), {
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace, ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}) },
          target: { apiVersion: 'v1', kind: 'Node', name: result.nodeName },
        },
      });
    } catch (err) {
      this.assumed.forget(pod);
      metrics?.attempts.inc({ result: 'error' });
      // Already bound or gone: the informer will tell us; nothing to retry.
      if (err instanceof ApiError && (err.notFound || err.conflict)) return;
      throw err;
    }
    this.attempts.delete(key);
    metrics?.attempts.inc({ result: 'scheduled' });
    metrics?.duration.observe({ result: 'scheduled' }, (this.now() - started) / 1000);
    recorder.event(podObj, 'Normal', 'Scheduled', `Successfully assigned ${key} to ${result.nodeName}`);
    logger.debug({ pod: key, node: result.nodeName, score: result.score, feasible: result.feasible }, 'bound pod');
  }

  /**
   * Kubernetes' VolumeBinding PreBind: the pod's unbound WaitForFirstConsumer claims get the
   * chosen node as `volume.kubernetes.io/selected-node`, so their volumes are provisioned
   * there. True while any of them is unbound: the pod is bound to the node only after its
   * claims are (a claim change brings it back), so a failed provisioning never strands a pod.
   */
  private async waitForVolumes(pod: Pod, nodeName: string): Promise<boolean> {
    const claims = delayedClaims(pod, this.o.volumes!);
    for (const c of claims) {
      if (c.metadata?.annotations?.[ANN_SELECTED_NODE] === nodeName) continue;
      await this.o.client.patch(PERSISTENT_VOLUME_CLAIMS, c.metadata!.name!, { metadata: { annotations: { [ANN_SELECTED_NODE]: nodeName } } }, { namespace: c.metadata?.namespace, type: 'merge' });
      this.o.logger.info({ pod: objectKey(pod), claim: c.metadata?.name, node: nodeName }, 'selected a node for a claim');
    }
    return claims.length > 0;
  }

  /** Sets PodScheduled=False/Unschedulable (with the summary) unless already so. */
  private async setUnschedulable(pod: Pod, message: string): Promise<void> {
    const conds = pod.status?.conditions ?? [];
    const cur = conds.find((c) => c.type === 'PodScheduled');
    if (cur?.status === 'False' && cur.reason === 'Unschedulable' && cur.message === message) return;
    const now = rfc3339(this.now());
    const next: PodCondition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: cur?.status === 'False' ? (cur.lastTransitionTime ?? now) : now };
    try {
      // a strategic merge of the one condition: other status writers (preemption's nominatedNodeName) are not undone
      await this.o.client.patch(PODS, pod.metadata?.name ?? '', { status: { conditions: [next] } }, { namespace: pod.metadata?.namespace, type: 'strategic', subresource: 'status' });
    } catch (err) {
      // A newer pod version (409) or a deleted pod: the next attempt sets it again if still needed.
      if (!(err instanceof ApiError && (err.conflict || err.notFound))) throw err;
    }
  }
}

function isDone(p: Pod): boolean {
  return !!p.metadata?.deletionTimestamp || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}
