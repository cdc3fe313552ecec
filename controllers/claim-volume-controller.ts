import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import { ApiError, type KubeObject } from '../lib/client';
import { PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS } from '../lib/resources';
import type { ReconcileResult } from '../lib/reconcile/controller';
import { QueueController } from './queue-controller';
import type { ControllerContext } from './context';

const CLAIM = 'claim:';
const VOLUME = 'volume:';

/**
 * A controller of claims and volumes (persistentvolume-binder, storageprotection): keys are
 * `claim:<ns>/<name>` and `volume:<name>`, each reconciled by its own method. An ApiError
 * NotFound ends a reconcile (the object went meanwhile; its delete event brings the next
 * sync), a Conflict retries it soon from the newer object.
 */
export abstract class ClaimVolumeController extends QueueController {
  protected readonly claims;
  protected readonly volumes;

  constructor(name: string, ctx: ControllerContext, workers: number) {
    super(name, ctx, workers);
    this.claims = ctx.informers.for<PersistentVolumeClaim & KubeObject>(PERSISTENT_VOLUME_CLAIMS);
    this.volumes = ctx.informers.for<PersistentVolume & KubeObject>(PERSISTENT_VOLUMES);
  }

  /** `key`: the claim's `namespace/name`. */
  protected enqueueClaim(key: string): void {
    this.controller.enqueue(CLAIM + key);
  }

  protected enqueueVolume(name: string | undefined): void {
    this.controller.enqueue(VOLUME + name);
  }

  protected abstract reconcileClaim(key: string): Promise<ReconcileResult | void>;
  protected abstract reconcileVolume(name: string): Promise<ReconcileResult | void>;

  protected override objectFor(key: string): KubeObject | undefined {
    return key.startsWith(CLAIM) ? this.claims.getObject(key.slice(CLAIM.length)) : this.volumes.getObject(key.slice(VOLUME.length));
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    try {
      if (key.startsWith(CLAIM)) return await this.reconcileClaim(key.slice(CLAIM.length));
      return await this.reconcileVolume(key.slice(VOLUME.length));
    } catch (err) {
      if (err instanceof ApiError && err.notFound) return;
      if (err instanceof ApiError && err.conflict) return { requeueAfterMs: 100 };
      throw err;
    }
  }
}
