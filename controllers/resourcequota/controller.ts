import type { PersistentVolumeClaim, Pod, ResourceQuota } from 'kubernetes-types/core/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import type { Informer } from '../../lib/informer';
import { objectKey } from '../../lib/informer';
import { CONFIGMAPS, PERSISTENT_VOLUME_CLAIMS, PODS, SECRETS, SERVICES, type ResourceRef } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { objectUsage, type QuotaResource } from '../../lib/quota';
import { canonicalJson } from '../util/hash';
import { QueueController } from '../queue-controller';
import { splitKey, type ControllerContext } from '../context';
import { quotaStatus, quotaStatusEqual, resourceKey, resourcesNeeded } from './sync';

const RESOURCEQUOTAS: ResourceRef = { group: '', version: 'v1', resource: 'resourcequotas', kind: 'ResourceQuota', namespaced: true };

/** How often every quota is recounted in full (Kubernetes: 5 min), which also takes back charges for creates that failed. */
export const QUOTA_RESYNC_MS = 30_000;

/**
 * Keeps every ResourceQuota's status (sync.ts computes it) true. As Kubernetes' controller,
 * it recounts a quota when it is created or its spec changes, when an object it counts goes
 * away or stops using quota (a pod that finished), and every QUOTA_RESYNC_MS; a create is
 * charged by the apiserver's quota admission, not recounted here, so a recount does not race
 * a charge whose object is not stored yet. Pods, Services, ConfigMaps, Secrets and claims come
 * from informers; other kinds named by `count/<resource>.<group>` are listed at each recount.
 * The status write carries the quota's resourceVersion: a quota charged meanwhile is a 409
 * and is recounted again.
 */
export class ResourceQuotaController extends QueueController {
  private readonly quotas: Informer<ResourceQuota & KubeObject>;
  private readonly watched = new Map<string, Informer<KubeObject>>();
  /** Preferred versions of API groups, from discovery (for count/* of other kinds). */
  private readonly versions = new Map<string, string>();

  constructor(ctx: ControllerContext, opts: { workers?: number } = {}) {
    super('resourcequota', ctx, opts.workers ?? 2);
    this.quotas = ctx.informers.for<ResourceQuota & KubeObject>(RESOURCEQUOTAS);
    this.quotas.on({
      add: (q) => this.controller.enqueue(objectKey(q)),
      update: (o, q) => { if (canonicalJson(o.spec ?? {}) !== canonicalJson(q.spec ?? {}) || !q.status?.hard) this.controller.enqueue(objectKey(q)); },
    });
    for (const ref of [PODS, SERVICES, CONFIGMAPS, SECRETS, PERSISTENT_VOLUME_CLAIMS]) {
      const inf = ctx.informers.for<KubeObject>(ref);
      this.watched.set(resourceKey({ resource: ref.resource, group: ref.group }), inf);
      const r: QuotaResource = { resource: ref.resource, group: ref.group };
      inf.on({
        delete: (o) => this.enqueueNamespace(o.metadata?.namespace),
        // a pod that finished frees its share; a claim resized changes requests.storage
        update: (o, n) => { if (canonicalJson([...objectUsage(r, o)]) !== canonicalJson([...objectUsage(r, n)])) this.enqueueNamespace(n.metadata?.namespace); },
      });
    }
  }

  private enqueueNamespace(ns: string | undefined): void {
    for (const q of this.quotas.list()) if (q.metadata?.namespace === ns) this.controller.enqueue(objectKey(q));
  }

  protected override objectFor(key: string): KubeObject | undefined {
    return this.quotas.getObject(key);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const q = this.quotas.get(key);
    if (!q) return;
    const { namespace } = splitKey(key);
    const lists = new Map<string, unknown[] | undefined>();
    for (const r of resourcesNeeded(q)) lists.set(resourceKey(r), await this.objectsOf(r, namespace!));
    const status = quotaStatus(q, (r) => lists.get(resourceKey(r)));
    if (!quotaStatusEqual(q.status, status)) {
      try {
        await this.ctx.client.updateStatus(RESOURCEQUOTAS, { ...q, apiVersion: 'v1', kind: 'ResourceQuota', status } as KubeObject);
      } catch (err) {
        if (err instanceof ApiError && err.notFound) return;
        // charged meanwhile: recount from the newer quota
        if (err instanceof ApiError && err.code === 409) return { requeueAfterMs: 100 };
        throw err;
      }
    }
    return { requeueAfterMs: QUOTA_RESYNC_MS };
  }

  /** The namespace's objects of `r`: from an informer when there is one, else listed (undefined when that fails). */
  private async objectsOf(r: QuotaResource, ns: string): Promise<unknown[] | undefined> {
    const inf = this.watched.get(resourceKey(r));
    if (inf) return inf.list().filter((o) => o.metadata?.namespace === ns) as (Pod | PersistentVolumeClaim | KubeObject)[];
    try {
      const version = await this.versionOf(r.group);
      const ref: ResourceRef = { group: r.group, version, resource: r.resource, kind: '', namespaced: true };
      return (await this.ctx.client.list(ref, { namespace: ns })).items;
    } catch (err) {
      this.ctx.logger.warn({ resource: resourceKey(r), err: (err as Error).message }, 'cannot count a resource a quota names');
      return undefined;
    }
  }

  private async versionOf(group: string): Promise<string> {
    if (!group) return 'v1';
    const known = this.versions.get(group);
    if (known) return known;
    const g = await this.ctx.client.request<{ preferredVersion?: { version?: string } }>('GET', `/apis/${group}`);
    const v = g.preferredVersion?.version;
    if (!v) throw new Error(`no preferred version for API group ${group}`);
    this.versions.set(group, v);
    return v;
  }
}
