import type { OwnerReference } from 'kubernetes-types/meta/v1';
import type { KubeObject } from '../../lib/client';
import { objectKey, type Informer } from '../../lib/informer';
import { apiVersionOf, DEPLOYMENTS, PODS, REPLICASETS, type ResourceRef } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import { nsKey, splitKey, type ControllerContext } from '../context';
import { decide, type OwnerState } from './gc';

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

const ref = (group: string, version: string, resource: string, kind: string, namespaced = true): ResourceRef => ({ group, version, resource, kind, namespaced });

/**
 * Resources the collector watches by default (every kind the apiserver stores, except the
 * high-churn nodes, events and leases): a kind must be watched for its objects to be
 * collected as dependents and for Orphan/Foreground deletion of its objects to finish.
 */
const DEFAULT_GC_RESOURCES: ResourceRef[] = [
  DEPLOYMENTS, REPLICASETS, PODS,
  ref('', 'v1', 'configmaps', 'ConfigMap'), ref('', 'v1', 'secrets', 'Secret'), ref('', 'v1', 'serviceaccounts', 'ServiceAccount'),
  ref('', 'v1', 'services', 'Service'), ref('', 'v1', 'endpoints', 'Endpoints'), ref('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim'),
  ref('', 'v1', 'persistentvolumes', 'PersistentVolume', false), ref('', 'v1', 'resourcequotas', 'ResourceQuota'), ref('', 'v1', 'limitranges', 'LimitRange'),
  ref('apps', 'v1', 'statefulsets', 'StatefulSet'), ref('apps', 'v1', 'daemonsets', 'DaemonSet'), ref('apps', 'v1', 'controllerrevisions', 'ControllerRevision'),
  ref('batch', 'v1', 'jobs', 'Job'), ref('batch', 'v1', 'cronjobs', 'CronJob'),
  ref('networking.k8s.io', 'v1', 'ingresses', 'Ingress'), ref('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy'),
  ref('networking.k8s.io', 'v1', 'ingressclasses', 'IngressClass', false),
  ref('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice'), ref('autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler'),
  ref('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget'), ref('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false),
  ref('rbac.authorization.k8s.io', 'v1', 'roles', 'Role'), ref('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding'),
  ref('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false), ref('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
];

/**
 * Background garbage collection by ownerReferences: a watched object whose
 * owners (matched by uid) are all gone is deleted. An owner missing from the
 * cache is confirmed with a live GET before anything is deleted, since
 * informers of different resources are not in sync. Also honours owners being
 * deleted with the `orphan` finalizer (ownerReferences removed from
 * dependents, then the finalizer) and `foregroundDeletion` (dependents
 * deleted, then the finalizer) when the apiserver leaves those finalizers.
 */
export class GarbageCollector extends QueueController {
  private readonly informers: Informer<KubeObject>[];
  /** owner uid → keys (`<index>|ns/name`) of dependents referencing it */
  private readonly dependents = new Map<string, Set<string>>();
  /** uid → key of owners being deleted with the orphan/foregroundDeletion finalizer */
  private readonly deletingOwners = new Map<string, string>();

  constructor(ctx: ControllerContext, private readonly resources: ResourceRef[] = DEFAULT_GC_RESOURCES) {
    super('garbagecollector', ctx, 4);
    this.informers = resources.map((r) => ctx.informers.for<KubeObject>(r));
    this.informers.forEach((inf, i) => {
      const k = (o: KubeObject) => `${i}|${objectKey(o)}`;
      inf.on({
        add: (o) => this.observe(k(o), o),
        update: (old, o) => {
          this.unindex(k(old), old);
          this.observe(k(o), o);
        },
        delete: (o) => {
          this.unindex(k(o), o);
          const uid = o.metadata?.uid;
          if (uid) for (const dep of this.dependents.get(uid) ?? []) this.controller.enqueue(dep);
        },
      });
    });
  }

  private observe(key: string, o: KubeObject): void {
    for (const r of o.metadata?.ownerReferences ?? []) {
      let s = this.dependents.get(r.uid);
      if (!s) this.dependents.set(r.uid, (s = new Set()));
      s.add(key);
    }
    if (o.metadata?.ownerReferences?.length) this.controller.enqueue(key);
    const fin = o.metadata?.finalizers ?? [];
    if (o.metadata?.deletionTimestamp && (fin.includes(ORPHAN_FINALIZER) || fin.includes(FOREGROUND_FINALIZER))) {
      if (o.metadata.uid) this.deletingOwners.set(o.metadata.uid, key);
      this.controller.enqueue(key);
      for (const dep of this.dependents.get(o.metadata.uid ?? '') ?? []) this.controller.enqueue(dep);
    }
  }

  private unindex(key: string, o: KubeObject): void {
    if (o.metadata?.uid && this.deletingOwners.get(o.metadata.uid) === key) this.deletingOwners.delete(o.metadata.uid);
    for (const r of o.metadata?.ownerReferences ?? []) {
      // a dependent changed or went away: an owner waiting on its dependents re-checks
      const owner = this.deletingOwners.get(r.uid);
      if (owner) this.controller.enqueue(owner);
      const s = this.dependents.get(r.uid);
      s?.delete(key);
      if (s && s.size === 0) this.dependents.delete(r.uid);
    }
  }

  private refFor(owner: OwnerReference): { ref: ResourceRef; index: number } | undefined {
    const i = this.resources.findIndex((r) => r.kind === owner.kind && apiVersionOf(r) === owner.apiVersion);
    return i < 0 ? undefined : { ref: this.resources[i], index: i };
  }

  private stateOf(o: KubeObject): OwnerState {
    const m = o.metadata ?? {};
    if (m.deletionTimestamp && m.finalizers?.includes(ORPHAN_FINALIZER)) return 'deleting-orphan';
    if (m.deletionTimestamp && m.finalizers?.includes(FOREGROUND_FINALIZER)) return 'deleting-foreground';
    return 'exists';
  }

  private async ownerState(dependentNs: string | undefined, r: OwnerReference): Promise<OwnerState> {
    const found = this.refFor(r);
    if (!found) return 'unknown';
    const ns = found.ref.namespaced ? dependentNs : undefined;
    const cached = this.informers[found.index].get(nsKey(ns, r.name));
    if (cached && cached.metadata?.uid === r.uid) return this.stateOf(cached);
    // Not (or not yet) in our cache: ask the apiserver before concluding it is gone.
    const live = await this.ctx.client.tryGet<KubeObject>(found.ref, r.name, ns);
    if (live && live.metadata?.uid === r.uid) return this.stateOf(live);
    return 'absent';
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const bar = key.indexOf('|');
    const index = Number(key.slice(0, bar));
    const ref = this.resources[index];
    const objKey = key.slice(bar + 1);
    const obj = this.informers[index].get(objKey);
    if (!obj) return;
    const { namespace, name } = splitKey(objKey);
    const { client, logger } = this.ctx;

    // As an owner being deleted: drop our finalizer once dependents are dealt with.
    const fin = obj.metadata?.finalizers ?? [];
    if (obj.metadata?.deletionTimestamp && (fin.includes(ORPHAN_FINALIZER) || fin.includes(FOREGROUND_FINALIZER))) {
      const uid = obj.metadata.uid ?? '';
      const remaining = [...(this.dependents.get(uid) ?? [])].filter((dk) => {
        const i = Number(dk.slice(0, dk.indexOf('|')));
        const d = this.informers[i].get(dk.slice(dk.indexOf('|') + 1));
        return d?.metadata?.ownerReferences?.some((r) => r.uid === uid);
      });
      if (remaining.length === 0) {
        const finalizers = fin.filter((f) => f !== ORPHAN_FINALIZER && f !== FOREGROUND_FINALIZER);
        await client.update(ref, { ...obj, metadata: { ...obj.metadata, finalizers } });
        return;
      }
    }

    const refs = obj.metadata?.ownerReferences ?? [];
    if (refs.length === 0) return;
    const states = new Map<string, OwnerState>();
    for (const r of refs) states.set(r.uid, await this.ownerState(namespace, r));
    const decision = decide(obj, (r) => states.get(r.uid) ?? 'unknown');
    if (decision.action === 'delete') {
      const foreground = [...states.values()].includes('deleting-foreground');
      logger.info({ resource: ref.resource, object: objKey }, 'garbage collecting: all owners are gone');
      await client.delete(ref, name, {
        namespace,
        ignoreNotFound: true,
        propagationPolicy: foreground ? 'Foreground' : 'Background',
        preconditions: obj.metadata?.uid ? { uid: obj.metadata.uid } : undefined,
      });
    } else if (decision.action === 'orphan') {
      const ownerReferences = refs.filter((r) => !decision.remove.includes(r.uid));
      await client.patch(ref, name, { metadata: { ownerReferences, resourceVersion: obj.metadata?.resourceVersion } }, { namespace, type: 'merge' });
    }
  }
}
