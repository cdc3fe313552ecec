import type { Namespace, Node, Pod, PodCondition } from 'kubernetes-types/core/v1';
import { ApiError, type ApiClient, type KubeObject } from '../lib/client';
import { realClock, type Clock } from '../lib/clock';
import type { EventRecorder } from '../lib/events';
import { objectKey, type Informer } from '../lib/informer';
import type { Logger } from '../lib/log';
import { PODS, PERSISTENT_VOLUME_CLAIMS } from '../lib/resources';
import { isTerminal, terminalReason } from '../lib/reconcile/terminal';
import { ANN_LAST_ATTEMPT, decodeLastAttempt, encodeLastAttempt, type LastAttempt } from '../lib/scheduling-diagnosis';
import { ANN_SELECTED_NODE } from '../lib/volume-binding';
import { rfc3339 } from '../lib/time';
import { bindPod } from './binder';
import { Limiter } from '../lib/limiter';
import { withNominatedPods } from './preemption';
import { NodeInfoCache } from './node-cache';
import { snapshotOf } from './snapshot';
import { assignedPodUpdateEvents, nodeUpdateEvents, pendingPodChanged, type ClusterEvent } from './cluster-events';
import { defaultSchedulerConfig, type SchedulerProfile } from './config';
import { newRequestsMemo, withRequestsMemo, type Snapshot } from './framework';
import { lastAttemptOf, rejectingPlugins, sameAttempt, failedSchedulingMessage, type PostFilterResult } from './last-attempt';
import type { SchedulerMetrics } from './metrics';
import { numFeasibleNodesToFind } from './nodes-to-find';
import { defaultProfile, pluginNamed, type Profile } from './plugins/registry';
import { delayedClaims, type VolumeLister } from './plugins/volumeBinding';
import { SchedulingQueue, type PendingCounts, type QueuedPod } from './queue';
import { needsScheduling, schedulePod, type ScheduleResult } from './schedule';

type Failure = Extract<ScheduleResult, { ok: false }>;

/**
 * The PostFilter hook (DefaultPreemption), called after a failed attempt of a pod whose profile
 * runs it. Its `message` (the part after "preemption: ") is appended to the FailedScheduling
 * message; `nominatedNode` becomes the pod's status.nominatedNodeName. Undefined: nothing to add.
 */
export type PostFilter = (pod: Pod, result: Failure, snapshot: Snapshot) => Promise<PostFilterResult | undefined>;

export interface SchedulerOptions {
  client: ApiClient;
  pods: Informer<Pod>;
  nodes: Informer<Node>;
  /** Namespace labels for namespaceSelector, and their changes as queue events. */
  namespaces?: Informer<Namespace>;
  recorder: EventRecorder;
  logger: Logger;
  metrics?: SchedulerMetrics;
  /** Profiles by spec.schedulerName (default: one default profile named `schedulerName`). */
  profiles?: SchedulerProfile[];
  /** With no `profiles`: the one profile's name (default default-scheduler) and plugins. */
  schedulerName?: string;
  profile?: Profile;
  /** Top-level percentageOfNodesToScore (0 or absent: adaptive). */
  percentageOfNodesToScore?: number;
  /** Claims, volumes and classes: the VolumeBinding filter and delayed binding (none: pods with claims are placed as if they had none). */
  volumes?: VolumeLister;
  /** Labels of a namespace, when not from `namespaces`. */
  namespaceLabels?: (namespace: string) => Record<string, string> | undefined;
  postFilter?: PostFilter;
  clock?: Clock;
  /** Backoff of a pod after failed attempts: initial, doubling to max (ms). Default 1 s → 10 s. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Bindings (and failure writes) in flight at once. Default 16. */
  bindConcurrency?: number;
}

const isDone = (p: Pod) => !!p.metadata?.deletionTimestamp || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/**
 * kube-scheduler's loop: pop the next pod from the scheduling queue (priority, then age), run
 * its profile's filters over the nodes (stopping at percentageOfNodesToScore, round-robin)
 * and scores, assume the pod on the chosen node and bind it in the background (bounded), so
 * a slow bind never holds the loop. A pod that fits nowhere gets PodScheduled=False, a
 * FailedScheduling event and the last-attempt annotation, and waits in the queue until a
 * cluster event may help it. A failed binding forgets the assumption and retries with backoff;
 * one refused as invalid (400/422) is a Warning event and is not retried until the pod changes.
 */
export class Scheduler {
  /** NodeInfos kept from informer events and our assumptions (rebuilt per node on change, not per attempt). */
  private readonly cache = new NodeInfoCache();
  readonly queue: SchedulingQueue;
  private readonly binder: Limiter;
  private readonly writer: Limiter;
  private readonly profiles: Map<string, SchedulerProfile>;
  private readonly requestsMemo = newRequestsMemo();
  private readonly clock: Clock;
  /** Pods placed on a node whose WaitForFirstConsumer claims are not bound yet (upstream's PreBind wait). */
  private readonly waitingForVolumes = new Set<string>();
  /** The last-attempt record written per pod (the informer may lag our own writes). */
  private readonly written = new Map<string, LastAttempt>();
  private rotation = 0;
  private nextStartNodeIndex = 0;
  private loop?: Promise<void>;

  constructor(private readonly o: SchedulerOptions) {
    this.clock = o.clock ?? realClock;
    const profiles =
      o.profiles ??
      (o.profile
        ? [{ schedulerName: o.schedulerName ?? 'default-scheduler', profile: o.profile, preemption: true }]
        : defaultSchedulerConfig({ defaults: defaultProfile(o.volumes), named: (n) => pluginNamed(n, o.volumes) }, o.schedulerName).profiles);
    this.profiles = new Map(profiles.map((p) => [p.schedulerName, p]));
    this.queue = new SchedulingQueue({ clock: this.clock, initialBackoffMs: o.initialBackoffMs, maxBackoffMs: o.maxBackoffMs });
    this.binder = new Limiter(o.bindConcurrency ?? 16);
    this.writer = new Limiter(o.bindConcurrency ?? 16);
    o.pods.on({
      add: (p) => this.onPodAdd(p),
      update: (old, p) => this.onPodUpdate(old, p),
      delete: (p) => this.onPodDelete(p),
    });
    o.nodes.on({
      add: (n) => {
        this.cache.setNode(n);
        this.queue.onEvent('NodeAdd');
      },
      update: (old, n) => {
        this.cache.setNode(n);
        this.events(nodeUpdateEvents(old, n));
      },
      delete: (n) => {
        this.cache.deleteNode(n);
        this.queue.onEvent('NodeDelete');
      },
    });
    o.namespaces?.on({
      add: () => this.queue.onEvent('NamespaceLabelChange'),
      update: (old, n) => {
        if (JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(n.metadata?.labels ?? {})) this.queue.onEvent('NamespaceLabelChange');
      },
    });
  }

  /** Pods waiting in each queue (scheduler_pending_pods). */
  get pendingCounts(): PendingCounts {
    return this.queue.pending;
  }

  /** Bindings running or waiting for a slot. */
  get bindingsInFlight(): number {
    return this.binder.inFlight + this.binder.queued;
  }

  private events(list: ClusterEvent[]): void {
    for (const e of list) this.queue.onEvent(e);
  }

  /** The profile that places `pod`, if it is pending and one of ours. */
  private profileFor(pod: Pod): SchedulerProfile | undefined {
    const p = this.profiles.get(pod.spec?.schedulerName ?? 'default-scheduler');
    return p && needsScheduling(pod, p.schedulerName) ? p : undefined;
  }

  /** Pods waiting for their preemption victims to go (status.nominatedNodeName, not bound yet), by key. */
  private readonly nominated = new Map<string, Pod>();

  private trackNominated(p: Pod, deleted = false): void {
    if (!deleted && p.status?.nominatedNodeName && !p.spec?.nodeName) this.nominated.set(objectKey(p), p);
    else this.nominated.delete(objectKey(p));
  }

  private onPodAdd(p: Pod): void {
    this.trackNominated(p);
    this.cache.setPod(p);
    if (p.spec?.nodeName) {
      if (!isDone(p)) this.queue.onEvent('AssignedPodAdd');
    } else if (this.profileFor(p) && !this.cache.isAssumed(p)) this.queue.add(objectKey(p), p);
  }

  private onPodUpdate(old: Pod, p: Pod): void {
    const key = objectKey(p);
    this.trackNominated(p);
    this.cache.setPod(p);
    if (p.spec?.nodeName) {
      this.queue.delete(key);
      this.written.delete(key);
      this.waitingForVolumes.delete(key);
      this.events(assignedPodUpdateEvents(old, p));
    } else if (!this.profileFor(p)) this.queue.delete(key);
    else if (!this.cache.isAssumed(p)) this.queue.update(key, p, pendingPodChanged(old, p));
  }

  private onPodDelete(p: Pod): void {
    const key = objectKey(p);
    this.trackNominated(p, true);
    this.cache.deletePod(p);
    this.queue.delete(key);
    this.written.delete(key);
    this.waitingForVolumes.delete(key);
    if (p.spec?.nodeName && !(p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed')) this.queue.onEvent('AssignedPodDelete');
  }

  /** A claim, volume or StorageClass changed: pods waiting on volumes may now go on. */
  volumesChanged(): void {
    this.queue.onEvent('VolumeChange');
  }

  start(): void {
    this.queue.start();
    this.loop ??= this.run();
  }

  /** Stops taking pods; waits for the attempt, bindings and writes under way. */
  async stop(): Promise<void> {
    this.queue.close();
    await this.loop;
    await Promise.all([this.binder.drain(), this.writer.drain()]);
  }

  private async run(): Promise<void> {
    for (;;) {
      // Back-pressure and fairness: pods are not assumed faster than they can be bound (else
      // thousands of assumed pods make every attempt slower), and each attempt yields to I/O, so
      // binding answers and informer events are not starved by a queue that never empties.
      await this.binder.room();
      await new Promise<void>((r) => setImmediate(r));
      const qp = await this.queue.pop();
      if (!qp) return;
      try {
        await this.scheduleOne(qp);
      } catch (err) {
        this.o.logger.warn({ pod: qp.key, err: (err as Error).message }, 'scheduling attempt failed; retrying with backoff');
        this.o.metrics?.attempts.inc({ result: 'error' });
        this.queue.done(qp.key);
        this.queue.requeue(qp);
      }
    }
  }

  /** One scheduling cycle for a popped pod (exposed for tests). */
  async scheduleOne(qp: QueuedPod): Promise<void> {
    const { key } = qp;
    const { metrics, logger } = this.o;
    const pod = this.o.pods.get(key);
    const prof = pod && this.profileFor(pod);
    if (!pod || !prof || this.cache.isAssumed(pod)) return this.queue.done(key);
    const started = this.clock.now();
    // Pods nominated to a node (preemptors waiting for their victims to go) count as placed there
    // for pods of lower or equal priority, so the room preemption made is not taken by another.
    // One memo of pod requests for the scheduler's life: informer pods are new objects when they
    // change, so a node rebuilt after one of its pods changed parses only that pod's quantities.
    const { infos, snapshot, start, result } = withRequestsMemo(() => {
      this.cache.expire(started);
      const cached = this.cache.snapshot(this.namespaceLabels());
      const infos = this.nominated.size > 0 ? withNominatedPods(cached.nodes, [...this.nominated.values()], pod) : cached.nodes;
      const snapshot = infos === cached.nodes ? cached : snapshotOf(infos, cached.namespaceLabels);
      const toFind = numFeasibleNodesToFind(infos.length, prof.percentageOfNodesToScore ?? this.o.percentageOfNodesToScore);
      const start = this.nextStartNodeIndex;
      return { infos, snapshot, start, result: schedulePod(pod, snapshot, prof.profile, this.rotation++, { feasibleToFind: toFind, start }) };
    }, this.requestsMemo);
    if (!result.ok) {
      metrics?.attempts.inc({ result: 'unschedulable' });
      metrics?.duration.observe({ result: 'unschedulable' }, (this.clock.now() - started) / 1000);
      let post: PostFilterResult | undefined;
      if (this.o.postFilter && prof.preemption) {
        try {
          post = await this.o.postFilter(pod, result, snapshot);
        } catch (err) {
          logger.warn({ pod: key, err: (err as Error).message }, 'preemption failed');
        }
      }
      this.queue.addUnschedulable(key, rejectingPlugins(result));
      this.recordFailure(pod, result, infos.length, post);
      return;
    }
    if (infos.length > 0) this.nextStartNodeIndex = (start + result.processed) % infos.length;
    if (this.o.volumes && (await this.waitForVolumes(pod, result.nodeName))) {
      // Back when a claim or volume changes (upstream's PreBind wait, without blocking the loop).
      this.waitingForVolumes.add(key);
      this.queue.addUnschedulable(key, new Set(['VolumeBinding']));
      return;
    }
    this.waitingForVolumes.delete(key);
    this.cache.assume(pod, result.nodeName, started);
    this.queue.done(key);
    metrics?.duration.observe({ result: 'scheduled' }, (this.clock.now() - started) / 1000);
    logger.debug({ pod: key, node: result.nodeName, score: result.score, feasible: result.feasible, processed: result.processed }, 'assumed pod');
    this.binder.spawn(() => this.bind(qp, pod, result.nodeName));
  }

  private namespaceLabels(): (ns: string) => Record<string, string> | undefined {
    if (this.o.namespaceLabels) return this.o.namespaceLabels;
    const ns = this.o.namespaces;
    if (!ns) return () => undefined;
    return (name) => {
      const n = ns.get(name);
      return n ? (n.metadata?.labels ?? {}) : undefined;
    };
  }

  /** The binding cycle, in the background: POST the Binding; on failure forget the assumption. */
  private async bind(qp: QueuedPod, pod: Pod, nodeName: string): Promise<void> {
    const { recorder, logger, metrics } = this.o;
    const key = qp.key;
    const podObj = { ...pod, apiVersion: 'v1', kind: 'Pod' } as KubeObject;
    try {
      await bindPod(this.o.client, pod, nodeName);
    } catch (err) {
      this.cache.forget(pod);
      metrics?.attempts.inc({ result: 'error' });
      // Already bound or gone: the informer will tell us; nothing to retry.
      if (err instanceof ApiError && (err.notFound || err.conflict)) return;
      const message = (err as Error).message;
      if (isTerminal(err)) {
        // The apiserver refuses this binding as invalid: retried only when the pod changes.
        logger.warn({ pod: key, node: nodeName, err: message }, 'binding refused as invalid; not retried');
        recorder.event(podObj, 'Warning', terminalReason(err), message);
        return;
      }
      logger.warn({ pod: key, node: nodeName, err: message }, 'binding failed; retrying with backoff');
      const cur = this.o.pods.get(key);
      if (cur && this.profileFor(cur)) this.queue.requeue(qp);
      return;
    }
    metrics?.attempts.inc({ result: 'scheduled' });
    metrics?.e2eDuration.observe((this.clock.now() - qp.initialTimestamp) / 1000);
    recorder.event(podObj, 'Normal', 'Scheduled', `Successfully assigned ${key} to ${nodeName}`);
    logger.debug({ pod: key, node: nodeName, attempts: qp.attempts }, 'bound pod');
  }

  /**
   * After a failed attempt: the FailedScheduling event, PodScheduled=False (and the nominated
   * node), and the last-attempt annotation when it says something new; in the background.
   */
  private recordFailure(pod: Pod, result: Failure, nodes: number, post: PostFilterResult | undefined): void {
    const key = objectKey(pod);
    const message = failedSchedulingMessage(result, post);
    const attempt = lastAttemptOf(result, nodes, rfc3339(this.clock.now()), post);
    this.o.recorder.event({ ...pod, apiVersion: 'v1', kind: 'Pod' } as KubeObject, 'Warning', 'FailedScheduling', message);
    this.o.logger.info({ pod: key, reason: message }, 'pod is unschedulable');
    this.writer.spawn(async () => {
      try {
        await this.setUnschedulable(pod, message, post?.nominatedNode);
        await this.writeLastAttempt(pod, attempt);
      } catch (err) {
        this.o.logger.warn({ pod: key, err: (err as Error).message }, 'could not record why the pod is pending');
      }
    });
  }

  private async writeLastAttempt(pod: Pod, attempt: LastAttempt): Promise<void> {
    const key = objectKey(pod);
    if (sameAttempt(this.written.get(key), attempt) || sameAttempt(decodeLastAttempt(this.o.pods.get(key)?.metadata?.annotations), attempt)) return;
    try {
      await this.o.client.patch(PODS, pod.metadata!.name!, { metadata: { annotations: { [ANN_LAST_ATTEMPT]: encodeLastAttempt(attempt) } } }, { namespace: pod.metadata?.namespace, type: 'merge' });
      this.written.set(key, attempt);
    } catch (err) {
      if (!(err instanceof ApiError && err.notFound)) throw err;
    }
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

  /** Sets PodScheduled=False/Unschedulable (with the message) unless already so; a merge patch of pods/status. */
  private async setUnschedulable(pod: Pod, message: string, nominatedNode?: string): Promise<void> {
    const conds = pod.status?.conditions ?? [];
    const cur = conds.find((c) => c.type === 'PodScheduled');
    const sameNominee = !nominatedNode || pod.status?.nominatedNodeName === nominatedNode;
    if (cur?.status === 'False' && cur.reason === 'Unschedulable' && cur.message === message && sameNominee) return;
    const now = rfc3339(this.clock.now());
    const next: PodCondition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: cur?.status === 'False' ? (cur.lastTransitionTime ?? now) : now };
    const conditions = [...conds.filter((c) => c.type !== 'PodScheduled'), next];
    try {
      await this.o.client.patch(PODS, pod.metadata!.name!, { status: { ...(pod.status?.phase ? {} : { phase: 'Pending' }), conditions, ...(nominatedNode ? { nominatedNodeName: nominatedNode } : {}) } }, { namespace: pod.metadata?.namespace, type: 'merge', subresource: 'status' });
    } catch (err) {
      // A deleted pod: nothing to record.
      if (!(err instanceof ApiError && err.notFound)) throw err;
    }
  }
}
