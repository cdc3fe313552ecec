import type { Endpoints, Node, Service } from 'kubernetes-types/core/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { objectKey } from '../../lib/informer';
import { ENDPOINTS, NODES, SERVICES } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import type { ControllerContext } from '../context';
import type { AddressPool } from './pool';
import { handlesService, poolHolders, requestsOnlyLocalTraffic, syncService } from './sync';

/** What of a Node can change which addresses a load balancer lists (heartbeats change nothing here). */
function nodeFingerprint(n: Node): string {
  return JSON.stringify([
    n.metadata?.labels ?? {},
    n.metadata?.deletionTimestamp ?? '',
    n.spec?.unschedulable ?? false,
    n.spec?.taints ?? [],
    n.status?.addresses ?? [],
    (n.status?.conditions ?? []).find((c) => c.type === 'Ready')?.status ?? '',
  ]);
}

/**
 * `servicelb`: keeps `status.loadBalancer.ingress` of LoadBalancer Services
 * (those without a loadBalancerClass) as `sync.ts` computes it, from the
 * Services, Nodes and (for externalTrafficPolicy Local) Endpoints. One worker,
 * so pool assignments never race inside this process; across a leader change
 * the Services' status is the record of who holds what. Status writes carry
 * the Service's resourceVersion; a conflict retries from the newer object.
 */
export class ServiceLbController extends QueueController {
  private readonly services;
  private readonly nodes;
  private readonly endpoints;
  /** Pool addresses written but maybe not yet in the cache: Service key → address. */
  private readonly assigned = new Map<string, string>();
  /** Services told that nothing is available, so the warning is said once until they get an address. */
  private readonly warned = new Set<string>();

  constructor(ctx: ControllerContext, private readonly pool?: AddressPool) {
    super('servicelb', ctx, 1);
    this.services = ctx.informers.for<Service>(SERVICES);
    this.nodes = ctx.informers.for<Node>(NODES);
    this.endpoints = ctx.informers.for<Endpoints>(ENDPOINTS);
    this.enqueueOwnKey(this.services);
    const allLoadBalancers = () => {
      for (const s of this.services.list()) if (handlesService(s)) this.controller.enqueue(objectKey(s));
    };
    // A pool address freed (Service deleted, or no longer ours): Services still waiting may get it.
    if (pool) {
      this.services.on({
        update: (o, n) => {
          if (handlesService(o) && !handlesService(n)) allLoadBalancers();
        },
        delete: allLoadBalancers,
      });
    }
    // Node changes only matter without a pool (the pool does not depend on nodes).
    if (!pool) {
      this.nodes.on({
        add: allLoadBalancers,
        update: (o, n) => {
          if (nodeFingerprint(o) !== nodeFingerprint(n)) allLoadBalancers();
        },
        delete: allLoadBalancers,
      });
      const onEndpoints = (e: Endpoints) => {
        const s = this.services.get(objectKey(e));
        if (s && handlesService(s) && requestsOnlyLocalTraffic(s)) this.controller.enqueue(objectKey(s));
      };
      this.endpoints.on({ add: onEndpoints, update: (_o, e) => onEndpoints(e), delete: onEndpoints });
    }
  }

  protected override objectFor(key: string): KubeObject | undefined {
    const s = this.services.get(key);
    return s ? ({ apiVersion: 'v1', kind: 'Service', ...s } as KubeObject) : undefined;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const svc = this.services.get(key);
    if (!svc) {
      this.assigned.delete(key);
      this.warned.delete(key);
      return;
    }
    if (!handlesService(svc)) this.assigned.delete(key);
    const result = syncService({
      service: svc,
      nodes: this.nodes.list(),
      endpoints: this.endpoints.get(key),
      pool: this.pool ? { pool: this.pool, holders: poolHolders(this.services.list(), this.pool, this.assigned) } : undefined,
    });
    if (result.changed && result.ingress) {
      const next = { apiVersion: 'v1', kind: 'Service', ...svc, status: { ...svc.status, loadBalancer: { ...svc.status?.loadBalancer, ingress: result.ingress } } };
      try {
        await this.ctx.client.updateStatus(SERVICES, next as KubeObject);
      } catch (err) {
        // Our cache is behind: the update event brings the newer Service and another pass.
        if (err instanceof ApiError && (err.conflict || err.notFound)) return { requeueAfterMs: 200 };
        throw err;
      }
      const ip = result.ingress[0]?.ip;
      if (this.pool && ip && handlesService(svc)) this.assigned.set(key, ip);
      else this.assigned.delete(key);
      this.ctx.logger.info({ service: key, ingress: result.ingress.map((i) => i.ip) }, 'load balancer status updated');
    }
    const obj = { apiVersion: 'v1', kind: 'Service', ...svc } as KubeObject;
    for (const e of result.events) {
      if (e.reason === 'UnAvailableLoadBalancer') {
        if (this.warned.has(key)) continue;
        this.warned.add(key);
      }
      this.ctx.recorder.event(obj, e.type, e.reason, e.message);
    }
    if (result.ingress?.length) this.warned.delete(key);
  }
}
