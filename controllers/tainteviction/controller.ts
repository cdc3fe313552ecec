import type { Node, Pod, Taint } from 'kubernetes-types/core/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { objectKey } from '../../lib/informer';
import { NODES, PODS } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import type { ControllerContext } from '../context';
import { planEviction } from './eviction';

/** How long a pod's node must be missing before the pod is force-deleted (Kubernetes' PodGC quarantine). */
export const ORPHAN_QUARANTINE_MS = 20_000;

/**
 * Kubernetes' NoExecuteTaintManager (taint-eviction-controller), keyed by pod:
 * a pod on a node with a NoExecute taint it does not tolerate is deleted at
 * once; one it tolerates for tolerationSeconds is deleted when they ran out
 * (counted from the taint's timeAdded); one tolerated forever stays. The
 * delete is an ordinary graceful one, so a pod on an unreachable node stays
 * Terminating until its kubelet confirms it stopped: a StatefulSet ordinal
 * never runs twice. Event TaintManagerEviction on the pod.
 *
 * Also PodGC's orphan rule, which ends that wait when the host is gone for
 * good: a pod bound to a Node that has not existed for ORPHAN_QUARANTINE_MS is
 * deleted with grace 0, since no kubelet will ever confirm it.
 */
export class TaintEvictionController extends QueueController {
  private readonly podInformer;
  private readonly nodeInformer;
  /** When a taint without timeAdded was first seen (`node/key:effect`). */
  private readonly firstSeen = new Map<string, number>();
  /** When a node named by some pod was first found missing. */
  private readonly missingSince = new Map<string, number>();

  constructor(ctx: ControllerContext, opts: { workers?: number } = {}) {
    super('tainteviction', ctx, opts.workers ?? 2);
    this.podInformer = ctx.informers.for<Pod>(PODS);
    this.nodeInformer = ctx.informers.for<Node>(NODES);
    this.podInformer.on({
      add: (p) => this.enqueuePod(p),
      update: (_o, p) => this.enqueuePod(p),
    });
    const onNode = (n: Node, old?: Node) => {
      const noExecute = (x?: Node) => JSON.stringify((x?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute'));
      if (old && noExecute(old) === noExecute(n)) return;
      this.enqueuePodsOn(n.metadata?.name);
    };
    this.nodeInformer.on({ add: (n) => onNode(n), update: (o, n) => onNode(n, o), delete: (n) => this.enqueuePodsOn(n.metadata?.name) });
  }

  protected override objectFor(key: string): KubeObject | undefined {
    return this.podInformer.getObject(key);
  }

  private enqueuePod(p: Pod): void {
    // Terminating pods too: one whose node is gone for good is force-deleted.
    if (p.spec?.nodeName) this.controller.enqueue(objectKey(p));
  }

  private enqueuePodsOn(nodeName: string | undefined): void {
    if (!nodeName) return;
    for (const p of this.podInformer.list()) if (p.spec?.nodeName === nodeName) this.enqueuePod(p);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const pod = this.podInformer.get(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName) return;
    const now = this.ctx.now();
    const node = this.nodeInformer.get(nodeName);
    if (!node) return this.orphan(pod, nodeName, now);
    this.missingSince.delete(nodeName);
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const taints = node.spec?.taints ?? [];
    const plan = planEviction(pod, taints, now, (t) => this.firstSeenAt(nodeName, t, now));
    if (plan.kind === 'keep') return;
    if (plan.kind === 'later') return { requeueAfterMs: Math.max(1, plan.atMs - now) };
    await this.deletePod(pod, undefined);
    this.ctx.recorder.event({ ...pod, apiVersion: 'v1', kind: 'Pod' } as KubeObject, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    this.ctx.logger.info({ pod: key, node: nodeName, taint: `${plan.taint.key}:${plan.taint.effect}` }, 'pod evicted: its node has a NoExecute taint it does not tolerate');
  }

  /** A pod whose node does not exist: force-deleted once the node stayed missing for the quarantine. */
  private async orphan(pod: Pod, nodeName: string, now: number): Promise<ReconcileResult | void> {
    const since = this.missingSince.get(nodeName) ?? now;
    this.missingSince.set(nodeName, since);
    const wait = since + ORPHAN_QUARANTINE_MS - now;
    if (wait > 0) return { requeueAfterMs: wait };
    await this.deletePod(pod, 0);
    this.ctx.logger.info({ pod: objectKey(pod), node: nodeName }, 'pod force-deleted: its node no longer exists');
  }

  private async deletePod(pod: Pod, gracePeriodSeconds: number | undefined): Promise<void> {
    try {
      await this.ctx.client.delete(PODS, pod.metadata!.name!, { namespace: pod.metadata?.namespace, gracePeriodSeconds, preconditions: pod.metadata?.uid ? { uid: pod.metadata.uid } : undefined });
    } catch (err) {
      if (!(err instanceof ApiError && (err.notFound || err.conflict))) throw err;
    }
  }

  private firstSeenAt(nodeName: string, t: Taint, now: number): number {
    const k = `${nodeName}/${t.key}:${t.effect}`;
    const at = this.firstSeen.get(k) ?? now;
    this.firstSeen.set(k, at);
    return at;
  }
}
