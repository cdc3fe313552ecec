import type { Node } from 'kubernetes-types/core/v1';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { objectKey } from '../../lib/informer';
import { servedByCoxswain } from '../../lib/ingress-class';
import { readyNodeAddresses } from '../../lib/node-addresses';
import { INGRESSES, INGRESS_CLASSES, NODES } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import type { ControllerContext } from '../context';
import { desiredIngressStatus } from './status';

/**
 * Writes `status.loadBalancer.ingress` of the Ingresses Coxswain serves (the
 * `coxswain` class, or no class while it is the default): the InternalIPs of
 * the Ready nodes, whose proxies all serve them, so `kubectl get ingress`
 * shows an ADDRESS. Ingresses of other classes are left to their controllers.
 * Every Ingress is looked at again when the set of Ready node addresses or an
 * IngressClass changes.
 */
export class IngressStatusController extends QueueController {
  private readonly ingresses;
  private readonly classes;
  private readonly nodes;
  private lastAddresses = '';

  constructor(ctx: ControllerContext) {
    super('ingress-status', ctx, 1);
    this.ingresses = ctx.informers.for<Ingress>(INGRESSES);
    this.classes = ctx.informers.for<IngressClass>(INGRESS_CLASSES);
    this.nodes = ctx.informers.for<Node>(NODES);
    this.enqueueOwnKey(this.ingresses, ['add', 'update']);
    const all = () => {
      for (const i of this.ingresses.list()) this.controller.enqueue(objectKey(i));
    };
    this.classes.on({ add: all, update: all, delete: all });
    const nodesChanged = () => {
      const now = readyNodeAddresses(this.nodes.list()).join(',');
      if (now === this.lastAddresses) return;
      this.lastAddresses = now;
      all();
    };
    this.nodes.on({ add: nodesChanged, update: nodesChanged, delete: nodesChanged });
  }

  protected override objectFor(key: string): KubeObject | undefined {
    const i = this.ingresses.get(key);
    return i ? { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: i.metadata ?? {} } : undefined;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const ing = this.ingresses.get(key);
    if (!ing || !servedByCoxswain(ing, this.classes.list())) return;
    const want = desiredIngressStatus(ing, readyNodeAddresses(this.nodes.list()));
    if (!want) return;
    const next = structuredClone(ing) as Ingress;
    next.status = { ...next.status, loadBalancer: { ingress: want } };
    try {
      await this.ctx.client.updateStatus(INGRESSES, next as KubeObject);
    } catch (err) {
      if (err instanceof ApiError && err.notFound) return;
      throw err;
    }
  }
}
