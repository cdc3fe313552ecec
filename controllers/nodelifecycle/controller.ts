import type { Node } from 'kubernetes-types/core/v1';
import { NODES } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import type { ControllerContext } from '../context';
import { assessNode, DEFAULT_GRACE_MS } from './health';

/**
 * Marks a node's Ready condition Unknown when its kubelet stopped
 * heartbeating (Ready.lastHeartbeatTime older than the grace period).
 * Node Leases (coordination.k8s.io) are not consulted yet: the apiserver does
 * not serve them. Taints and pod eviction for unreachable nodes are not done.
 */
export class NodeLifecycleController extends QueueController {
  private readonly nodeInformer;

  constructor(ctx: ControllerContext, private readonly graceMs = DEFAULT_GRACE_MS) {
    super('nodelifecycle', ctx, 1);
    this.nodeInformer = ctx.informers.for<Node>(NODES);
    this.enqueueOwnKey(this.nodeInformer, ['add', 'update']);
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
