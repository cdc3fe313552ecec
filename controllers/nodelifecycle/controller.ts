import type { Node } from 'kubernetes-types/core/v1';
import { objectKey } from '../../lib/informer';
import { NODES } from '../../lib/resources';
import { Controller, type ReconcileResult } from '../controller';
import type { ControllerContext, RunnableController } from '../context';
import { assessNode, DEFAULT_GRACE_MS } from './health';

/**
 * Marks a node's Ready condition Unknown when its kubelet stopped
 * heartbeating (Ready.lastHeartbeatTime older than the grace period).
 * Node Leases (coordination.k8s.io) are not consulted yet: the apiserver does
 * not serve them. Taints and pod eviction for unreachable nodes are not done.
 */
export class NodeLifecycleController implements RunnableController {
  readonly name = 'nodelifecycle';
  readonly controller: Controller;
  private readonly nodeInformer;

  constructor(private readonly ctx: ControllerContext, private readonly graceMs = DEFAULT_GRACE_MS) {
    this.controller = new Controller({ name: this.name, reconcile: (k) => this.reconcile(k), workers: 1, logger: ctx.logger, metrics: ctx.metrics });
    this.nodeInformer = ctx.informers.for<Node>(NODES);
    this.nodeInformer.on({ add: (n) => this.controller.enqueue(objectKey(n)), update: (_o, n) => this.controller.enqueue(objectKey(n)) });
  }

  start(): void {
    this.controller.start();
  }

  stop(): Promise<void> {
    return this.controller.stop();
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const node = this.nodeInformer.get(key);
    if (!node) return;
    const h = assessNode(node, this.ctx.now(), this.graceMs);
    if (h.conditions) {
      await this.ctx.client.updateStatus(NODES, { ...node, status: { ...node.status, conditions: h.conditions } });
      this.ctx.recorder.event({ ...node, apiVersion: 'v1', kind: 'Node' }, 'Normal', 'NodeNotReady', `Node ${key} status is now: NodeNotReady`);
      this.ctx.logger.warn({ node: key }, 'node heartbeat is stale; Ready set to Unknown');
      return;
    }
    if (h.recheckAfterMs !== undefined) return { requeueAfterMs: h.recheckAfterMs };
  }
}
