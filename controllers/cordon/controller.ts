import type { Node } from 'kubernetes-types/core/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { NODES } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import type { ControllerContext } from '../context';
import { desiredTaints } from './taint';

/**
 * Keeps the `node.kubernetes.io/unschedulable:NoSchedule` taint on cordoned nodes (and only
 * on them), as Kubernetes' node lifecycle controller does, so `kubectl describe node` shows it
 * and pods opt in to cordoned nodes by tolerating it. The write is an update pinned to the
 * node's resourceVersion; a conflict retries from the newer node.
 */
export class CordonTaintController extends QueueController {
  private readonly nodeInformer;

  constructor(ctx: ControllerContext) {
    super('cordon', ctx, 1);
    this.nodeInformer = ctx.informers.for<Node>(NODES);
    this.enqueueOwnKey(this.nodeInformer, ['add', 'update']);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const node = this.nodeInformer.get(key);
    if (!node) return;
    const taints = desiredTaints(node);
    if (!taints) return;
    const next = structuredClone(node);
    next.spec = { ...next.spec, taints };
    if (!taints.length) delete next.spec.taints;
    try {
      await this.ctx.client.update(NODES, next as KubeObject);
    } catch (err) {
      if (err instanceof ApiError && err.notFound) return;
      throw err;
    }
  }
}
