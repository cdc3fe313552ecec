import type { LabelSelector } from 'kubernetes-types/meta/v1';
import { ApiError, type KubeObject } from '../lib/client';
import type { InformerHandlers } from '../lib/informer';
import { objectKey } from '../lib/informer';
import type { ResourceRef } from '../lib/resources';
import type { ControllerContext } from './context';
import { adoptersOf, type ClaimPlan } from './util/claim';
import { newControllerRef } from './util/owners';

export interface ApplyClaimsOptions {
  ctx: ControllerContext;
  /** The claimed objects' resource (pods, controllerrevisions). */
  resource: ResourceRef;
  /** The owner, with apiVersion and kind set. */
  owner: KubeObject;
  /** Reads the owner from the apiserver: adoption goes ahead only if it still exists with this uid and is not being deleted (Kubernetes' RecheckDeletionTimestamp). */
  fresh: () => Promise<KubeObject | undefined>;
  /** A finalizer to add on adoption and remove on release (the Job's tracking finalizer). */
  finalizer?: string;
}

/**
 * Writes a claim plan: each adoption and release is a JSON patch that first
 * tests the object's uid and resourceVersion, so it applies only to the object
 * as seen (a test that fails, a 404 or a 409 skips it; the object's next event
 * brings the owner back). Returns the objects the owner now owns: the owned
 * ones plus those adopted.
 */
export async function applyClaims<T extends KubeObject>(o: ApplyClaimsOptions, plan: ClaimPlan<T>): Promise<T[]> {
  const { client, logger } = o.ctx;
  const owned = [...plan.owned];
  const ownerRef = newControllerRef(o.owner, o.owner.apiVersion ?? '', o.owner.kind ?? '');
  const pin = (x: T) => [
    { op: 'test', path: '/metadata/uid', value: x.metadata?.uid },
    { op: 'test', path: '/metadata/resourceVersion', value: x.metadata?.resourceVersion },
  ];
  const write = async (x: T, ops: object[], what: string): Promise<T | undefined> => {
    try {
      const out = await client.patch<T>(o.resource, x.metadata!.name!, [...pin(x), ...ops], { namespace: x.metadata?.namespace, type: 'json' });
      logger.info({ owner: `${o.owner.kind} ${objectKey(o.owner)}`, object: `${o.resource.kind} ${objectKey(x)}` }, what);
      return out;
    } catch (err) {
      if (err instanceof ApiError && (err.notFound || err.conflict || err.code === 422)) return undefined;
      throw err;
    }
  };
  if (plan.adopt.length) {
    const cur = await o.fresh();
    const canAdopt = !!cur && cur.metadata?.uid === o.owner.metadata?.uid && !cur.metadata?.deletionTimestamp;
    for (const x of canAdopt ? plan.adopt : []) {
      const ops: object[] = [{ op: 'add', path: '/metadata/ownerReferences', value: [...(x.metadata?.ownerReferences ?? []), ownerRef] }];
      if (o.finalizer && !(x.metadata?.finalizers ?? []).includes(o.finalizer)) ops.push({ op: 'add', path: '/metadata/finalizers', value: [...(x.metadata?.finalizers ?? []), o.finalizer] });
      const adopted = await write(x, ops, 'adopted orphan');
      if (adopted) owned.push(adopted);
    }
  }
  for (const x of plan.release) {
    const ops: object[] = [{ op: 'add', path: '/metadata/ownerReferences', value: (x.metadata?.ownerReferences ?? []).filter((r) => r.uid !== o.owner.metadata?.uid) }];
    if (o.finalizer && (x.metadata?.finalizers ?? []).includes(o.finalizer)) ops.push({ op: 'add', path: '/metadata/finalizers', value: (x.metadata?.finalizers ?? []).filter((f) => f !== o.finalizer) });
    await write(x, ops, 'released object that no longer matches the selector');
  }
  return owned;
}

/**
 * Informer handlers that enqueue, for an object without a controller (added,
 * or changed: e.g. relabelled, or orphaned by `--cascade=orphan`), every owner
 * whose selector matches it: that owner's next reconcile adopts it.
 */
export function orphanHandlers<T extends KubeObject, O extends KubeObject>(owners: () => O[], selectorOf: (o: O) => LabelSelector | undefined, enqueue: (key: string) => void): InformerHandlers<T> {
  const seen = (x: T) => {
    for (const o of adoptersOf(x, owners(), selectorOf)) enqueue(objectKey(o));
  };
  return { add: seen, update: (_a, b) => seen(b) };
}
