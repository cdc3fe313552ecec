import type { Node } from 'kubernetes-types/core/v1';
import { NODES } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import type { ControllerContext } from '../context';
import { formatCidr, type Cidr } from '../../lib/ipv4';
import { allocateCidr } from './cidr';

/**
 * Gives each Node without spec.podCIDR the lowest free subnet of the cluster
 * CIDR. The allocation map is rebuilt from the Nodes themselves on every
 * reconcile (plus allocations written but not yet seen in the cache), so a
 * restart reassigns nothing. One worker: allocations are serialized.
 */
export class NodeIpamController extends QueueController {
  private readonly nodeInformer;
  /** node name → CIDR written but not yet observed in the cache */
  private readonly inFlight = new Map<string, string>();

  constructor(ctx: ControllerContext, private readonly clusterCidr: Cidr, private readonly maskSize: number) {
    super('nodeipam', ctx, 1);
    this.nodeInformer = ctx.informers.for<Node>(NODES);
    this.enqueueOwnKey(this.nodeInformer, ['add', 'update']);
    this.nodeInformer.on({ delete: (n) => this.inFlight.delete(n.metadata?.name ?? '') });
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const node = this.nodeInformer.get(key);
    if (!node) return;
    if (node.spec?.podCIDR) {
      this.inFlight.delete(key);
      return;
    }
    const used = new Set<string>(this.inFlight.values());
    for (const n of this.nodeInformer.list()) {
      if (n.spec?.podCIDR) used.add(n.spec.podCIDR);
      for (const c of n.spec?.podCIDRs ?? []) used.add(c);
    }
    let cidr = this.inFlight.get(key);
    if (!cidr) {
      cidr = allocateCidr(this.clusterCidr, this.maskSize, used);
      if (!cidr) {
        this.ctx.recorder.event({ ...node, apiVersion: 'v1', kind: 'Node' }, 'Warning', 'CIDRNotAvailable', `Node ${key} status is now: CIDRNotAvailable (no free /${this.maskSize} left in ${formatCidr(this.clusterCidr)})`);
        return { requeueAfterMs: 30_000 };
      }
    }
    this.inFlight.set(key, cidr);
    await this.ctx.client.patch(NODES, key, { spec: { podCIDR: cidr, podCIDRs: [cidr] } }, { type: 'merge' });
    this.ctx.recorder.event({ ...node, apiVersion: 'v1', kind: 'Node' }, 'Normal', 'CIDRAssignmentSucceeded', `Assigned podCIDR ${cidr} to node ${key}`);
    this.ctx.logger.info({ node: key, podCIDR: cidr }, 'assigned podCIDR');
  }
}
