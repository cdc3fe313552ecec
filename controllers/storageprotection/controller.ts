import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../../lib/client';
import { objectKey } from '../../lib/informer';
import { PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, PODS } from '../../lib/resources';
import { ClaimVolumeController } from '../claim-volume-controller';
import { splitKey, type ControllerContext } from '../context';
import { claimsOf, syncClaim, syncVolume } from './sync';

/**
 * `storageprotection`: Kubernetes' pvc-protection and pv-protection controllers in one. A
 * deleted claim that the pod informer shows unused is checked once more against a live list
 * of its namespace's pods (the informer may not have seen a pod created a moment ago) before
 * its finalizer comes off; a claim in use waits for its pods' events. Finalizer removals are
 * updates pinned to the object's resourceVersion.
 */
export class StorageProtectionController extends ClaimVolumeController {
  private readonly pods;

  constructor(ctx: ControllerContext) {
    super('storageprotection', ctx, 1);
    this.pods = ctx.informers.for<Pod & KubeObject>(PODS);
    const onClaim = (c: PersistentVolumeClaim) => { if (c.metadata?.deletionTimestamp) this.enqueueClaim(objectKey(c as KubeObject)); };
    this.claims.on({ add: onClaim, update: (_o, c) => onClaim(c) });
    const onVolume = (pv: PersistentVolume) => { if (pv.metadata?.deletionTimestamp) this.enqueueVolume(pv.metadata.name); };
    this.volumes.on({ add: onVolume, update: (_o, pv) => onVolume(pv) });
    const onPod = (p: Pod) => {
      for (const key of claimsOf(p)) if (this.claims.get(key)?.metadata?.deletionTimestamp) this.enqueueClaim(key);
    };
    this.pods.on({ add: onPod, update: (_o, p) => onPod(p), delete: onPod });
  }

  protected async reconcileClaim(key: string): Promise<void> {
    const claim = this.claims.get(key);
    if (!claim) return;
    const ns = splitKey(key).namespace;
    if (syncClaim(claim, this.pods.list()).kind !== 'release') return;
    // the informer says unused: confirm with the apiserver, as Kubernetes does
    const live = await this.ctx.client.list<Pod & KubeObject>(PODS, { namespace: ns });
    const step = syncClaim(claim, live.items);
    if (step.kind !== 'release') return;
    await this.ctx.client.update(PERSISTENT_VOLUME_CLAIMS, { ...claim, metadata: { ...claim.metadata, finalizers: step.finalizers } } as KubeObject);
    this.ctx.logger.info({ claim: key }, 'storageprotection: claim unused, protection removed');
  }

  protected async reconcileVolume(name: string): Promise<void> {
    const pv = this.volumes.get(name);
    if (!pv) return;
    const step = syncVolume(pv);
    if (step.kind !== 'release') return;
    await this.ctx.client.update(PERSISTENT_VOLUMES, { ...pv, metadata: { ...pv.metadata, finalizers: step.finalizers } } as KubeObject);
    this.ctx.logger.info({ volume: name }, 'storageprotection: volume not bound, protection removed');
  }
}
