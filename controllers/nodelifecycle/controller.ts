import type { Node, Pod } from 'kubernetes-types/core/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { LEASES, NODES, PODS } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import type { ControllerContext } from '../context';
import { countsAsDown, disruptionState, type DisruptionState } from './disruption';
import { assessNode, observeHeartbeat, readyStatus, type HeartbeatProbe, type NodeLease } from './health';
import { notReadyStatus } from './pods';
import { desiredTaints } from './taints';

/** Where kubelets keep their heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/**
 * Coxswain's node health cadence. The goal is pods Running elsewhere within
 * 15 s of a host going silent, on a small (2-core) machine, without a busy
 * host being taken for a dead one:
 * - the kubelet renews its Lease every 2 s (Kubernetes: 10 s);
 * - a node is Unknown once neither heartbeat moved for 8 s (Kubernetes: 40 s):
 *   four renewals in a row must fail, so an event loop stalled for 6 s or a
 *   store election (well under 3 s) does not mark a node down;
 * - every node is looked at each second (Kubernetes: 5 s), on top of the
 *   timer each node's last heartbeat sets;
 * - pods tolerate unreachable/not-ready for 2 s (the apiserver's
 *   DefaultTolerationSeconds; Kubernetes: 300 s), so a host that comes back at
 *   once keeps its pods.
 * Silent host → Unknown 6–9 s (8 s after its last renewal, checked each
 * second), → pods deleted 2 s later, → replacements Running about 1 s after
 * that: 10.4 s median, 12.1 s worst in test/node-failure.test.ts.
 */
export const DEFAULT_NODE_MONITOR_GRACE_MS = 8_000;
export const DEFAULT_NODE_MONITOR_PERIOD_MS = 1_000;

export interface NodeLifecycleOptions {
  /** --node-monitor-grace-period: heartbeat silence after which a node is Unknown. */
  gracePeriodMs?: number;
  /** --node-monitor-period: how often every node is looked at. */
  monitorPeriodMs?: number;
}

/**
 * Kubernetes' node lifecycle controller, one zone:
 * - health: a node whose Lease (`kube-node-lease/<node>`) and Ready heartbeat
 *   both stood still for the grace period gets Ready (and the other kubelet
 *   conditions) Unknown and an event NodeNotReady (health.ts);
 * - its pods' Ready and ContainersReady go False, so Endpoints drop them (pods.ts);
 * - taints follow Ready: unreachable/not-ready, NoSchedule and NoExecute
 *   (taints.ts); the taint eviction controller evicts on the NoExecute ones;
 * - when no node is Ready, or more than 55% of at least 2 are not (or have
 *   been silent for half the grace period), the NoExecute taints come off
 *   every node and nothing is evicted until that clears (disruption.ts).
 * One worker, so the disruption state is computed from one consistent view.
 */
export class NodeLifecycleController extends QueueController {
  private readonly nodeInformer;
  private readonly leaseInformer;
  private readonly podInformer;
  private readonly probes = new Map<string, HeartbeatProbe>();
  private state: DisruptionState = 'Normal';
  private monitor?: NodeJS.Timeout;
  private readonly graceMs: number;
  private readonly periodMs: number;

  constructor(ctx: ControllerContext, opts: NodeLifecycleOptions = {}) {
    super('nodelifecycle', ctx, 1);
    this.graceMs = opts.gracePeriodMs ?? DEFAULT_NODE_MONITOR_GRACE_MS;
    this.periodMs = opts.monitorPeriodMs ?? DEFAULT_NODE_MONITOR_PERIOD_MS;
    this.nodeInformer = ctx.informers.for<Node>(NODES);
    this.leaseInformer = ctx.informers.for<NodeLease>(LEASES);
    this.podInformer = ctx.informers.for<Pod>(PODS);
    this.enqueueOwnKey(this.nodeInformer, ['add', 'update', 'delete']);
    const onLease = (l: NodeLease) => {
      if (l.metadata?.namespace === NODE_LEASE_NAMESPACE && l.metadata.name) this.controller.enqueue(l.metadata.name);
    };
    this.leaseInformer.on({ add: onLease, update: (_o, l) => onLease(l) });
    // A pod that turns Ready on a node already Unknown is marked too.
    const onPod = (p: Pod) => {
      const n = p.spec?.nodeName;
      if (n && readyStatus(this.nodeInformer.get(n) ?? {}) === 'Unknown') this.controller.enqueue(n);
    };
    this.podInformer.on({ add: onPod, update: (_o, p) => onPod(p) });
  }

  override start(): void {
    super.start();
    this.monitor = setInterval(() => this.enqueueAll(), this.periodMs);
    this.monitor.unref();
  }

  override async stop(): Promise<void> {
    if (this.monitor) clearInterval(this.monitor);
    await super.stop();
  }

  protected override objectFor(key: string): KubeObject | undefined {
    return this.nodeInformer.getObject(key);
  }

  private enqueueAll(): void {
    for (const n of this.nodeInformer.list()) if (n.metadata?.name) this.controller.enqueue(n.metadata.name);
  }

  async reconcile(name: string): Promise<ReconcileResult | void> {
    const { client, recorder, logger } = this.ctx;
    let node = this.nodeInformer.get(name);
    if (!node) {
      this.probes.delete(name);
      this.updateDisruption();
      return;
    }
    const now = this.ctx.now();
    let probe = observeHeartbeat(this.probes.get(name), node, this.leaseInformer.get(`${NODE_LEASE_NAMESPACE}/${name}`), now);
    this.probes.set(name, probe);
    let health = assessNode(node, probe, now, this.graceMs);
    if (health.conditions) {
      // Before declaring a node dead, read its heartbeats from the apiserver
      // itself: after a store outage or a pause of this process the informers
      // may lag behind renewals that did happen.
      const [freshNode, freshLease] = await Promise.all([client.tryGet<Node & KubeObject>(NODES, name), client.tryGet<NodeLease>(LEASES, name, NODE_LEASE_NAMESPACE)]);
      if (!freshNode) return;
      node = freshNode;
      probe = observeHeartbeat(probe, node, freshLease, now);
      this.probes.set(name, probe);
      health = assessNode(node, probe, now, this.graceMs);
    }
    if (health.conditions) {
      node = await client.updateStatus(NODES, { ...node, status: { ...node.status, conditions: health.conditions } } as Node & KubeObject);
      recorder.event({ ...node, apiVersion: 'v1', kind: 'Node' } as KubeObject, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      logger.warn({ node: name, silentForMs: now - probe.observedAt }, 'node heartbeats stopped; Ready set to Unknown');
    }
    this.updateDisruption(node);
    const taints = desiredTaints(node, this.state === 'Normal', now);
    if (taints) {
      await client.update(NODES, { ...node, spec: { ...node.spec, taints } } as Node & KubeObject);
      logger.info({ node: name, taints: taints.map((t) => `${t.key}:${t.effect}`) }, 'node taints updated');
    }
    if (health.stale) await this.markPodsNotReady(name, now);
    return health.recheckAfterMs !== undefined ? { requeueAfterMs: health.recheckAfterMs } : undefined;
  }

  /** Sets Ready False on the pods of a node whose heartbeats stopped. */
  private async markPodsNotReady(nodeName: string, now: number): Promise<void> {
    for (const pod of this.podInformer.list()) {
      if (pod.spec?.nodeName !== nodeName) continue;
      const status = notReadyStatus(pod, now);
      if (!status) continue;
      try {
        await this.ctx.client.updateStatus(PODS, { ...pod, status } as Pod & KubeObject);
        this.ctx.logger.info({ node: nodeName, pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` }, 'pod marked not ready: its node is unreachable');
      } catch (err) {
        if (!(err instanceof ApiError && (err.notFound || err.conflict))) throw err;
        // a newer pod in the cache brings another pass
      }
    }
  }

  /**
   * Recomputes the disruption state from the cached nodes (`fresh`, just
   * written, in place of its cached copy) and their heartbeat silence
   * (countsAsDown); when it changes, every node is looked at again so their
   * NoExecute taints follow.
   */
  private updateDisruption(fresh?: Node): void {
    const now = this.ctx.now();
    const nodes = this.nodeInformer.list().map((n) => (fresh && n.metadata?.name === fresh.metadata?.name ? fresh : n));
    const silentMs = (n: Node) => {
      const p = this.probes.get(n.metadata?.name ?? '');
      return p ? now - p.observedAt : 0;
    };
    const notReady = nodes.filter((n) => countsAsDown(readyStatus(n), silentMs(n), this.graceMs)).length;
    const state = disruptionState(nodes.length, notReady);
    if (state === this.state) return;
    const log = state === 'Normal' ? this.ctx.logger.info.bind(this.ctx.logger) : this.ctx.logger.warn.bind(this.ctx.logger);
    log({ from: this.state, to: state, nodes: nodes.length, notReady }, state === 'Normal' ? 'cluster disruption over; evictions resume' : 'most nodes are not ready; evictions stop');
    this.state = state;
    this.enqueueAll();
  }
}
