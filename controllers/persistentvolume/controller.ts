import type { Node, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { NODES, PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, PODS, STORAGE_CLASSES } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { claimRefMatches } from '../../lib/volume-binding';
import { ClaimVolumeController } from '../claim-volume-controller';
import type { ControllerContext } from '../context';
import { DEFAULT_HELPER_IMAGE, DEFAULT_LOCAL_PATH_DIR, HELPER_NAMESPACE, LABEL_HELPER_FOR, deletionStep, helperPodName, volumeNode } from './local-path';
import { claimGone, syncClaim, syncVolume, type ClaimStep, type Ev, type VolumeStep } from './sync';

export interface PersistentVolumeOptions {
  /** Where local-path volumes live on each node (--local-path-dir). */
  localPathDir?: string;
  /** Image of the pod that removes a deleted volume's directory (--local-path-helper-image). */
  helperImage?: string;
}

/** How soon a failed directory removal is tried again. */
const HELPER_RETRY_MS = 10_000;

/**
 * `persistentvolume-binder` with the built-in local-path provisioner: binds claims to
 * volumes, provisions local-path volumes for claims of its classes once the scheduler chose
 * a node, moves volumes through Available/Bound/Released/Failed and reclaims them. Keys are
 * `claim:<ns>/<name>` and `volume:<name>`; one worker, and every write is pinned to the
 * object's resourceVersion, so a volume is never given to two claims even when the caches lag.
 */
export class PersistentVolumeController extends ClaimVolumeController {
  private readonly classes;
  private readonly nodes;
  private readonly pods;
  private readonly dir: string;
  private readonly image: string;

  constructor(ctx: ControllerContext, o: PersistentVolumeOptions = {}) {
    super('persistentvolume-binder', ctx, 1);
    this.dir = o.localPathDir ?? DEFAULT_LOCAL_PATH_DIR;
    this.image = o.helperImage ?? DEFAULT_HELPER_IMAGE;
    this.classes = ctx.informers.for<StorageClass & KubeObject>(STORAGE_CLASSES);
    this.nodes = ctx.informers.for<Node & KubeObject>(NODES);
    this.pods = ctx.informers.for<Pod & KubeObject>(PODS);
    const onClaim = (c: PersistentVolumeClaim) => {
      this.enqueueClaim(`${c.metadata?.namespace}/${c.metadata?.name}`);
      for (const pv of this.volumes.list()) if (pv.metadata?.name === c.spec?.volumeName || claimRefMatches(pv, c)) this.enqueueVolume(pv.metadata?.name);
    };
    this.claims.on({ add: onClaim, update: (_o, c) => onClaim(c), delete: onClaim });
    const onVolume = (pv: PersistentVolume) => {
      this.enqueueVolume(pv.metadata?.name);
      const ref = pv.spec?.claimRef;
      if (ref) this.enqueueClaim(`${ref.namespace}/${ref.name}`);
    };
    this.volumes.on({ add: onVolume, update: (_o, pv) => onVolume(pv), delete: onVolume });
    const pendingClaims = () => { for (const c of this.claims.list()) if (!c.spec?.volumeName) this.enqueueClaim(`${c.metadata?.namespace}/${c.metadata?.name}`); };
    this.classes.on({ add: pendingClaims, update: pendingClaims });
    const onPod = (p: Pod) => {
      const pv = p.metadata?.namespace === HELPER_NAMESPACE ? p.metadata?.labels?.[LABEL_HELPER_FOR] : undefined;
      if (pv) this.enqueueVolume(pv);
    };
    this.pods.on({ add: onPod, update: (_o, p) => onPod(p), delete: onPod });
  }

  private event(obj: KubeObject | undefined, ev: Ev | undefined): void {
    if (obj && ev) this.ctx.recorder.event(obj, ev.type, ev.reason, ev.message);
  }

  protected async reconcileClaim(key: string): Promise<void> {
    const claim = this.claims.get(key);
    if (!claim) return;
    const step: ClaimStep = syncClaim(claim, { volumes: this.volumes.list(), classes: this.classes.list(), nodes: this.nodes.list(), localPathDir: this.dir });
    const obj = this.claims.getObject(key);
    const { client, logger } = this.ctx;
    switch (step.kind) {
      case 'wait':
        this.event(obj, step.event);
        return;
      case 'bindVolume':
        await client.update(PERSISTENT_VOLUMES, step.volume as KubeObject);
        logger.info({ claim: key, volume: step.volume.metadata?.name }, 'volume reserved for claim');
        return;
      case 'bindClaim': {
        const updated = await client.update(PERSISTENT_VOLUME_CLAIMS, { ...step.claim, status: claim.status } as KubeObject);
        await client.updateStatus(PERSISTENT_VOLUME_CLAIMS, { ...updated, status: step.claim.status } as KubeObject);
        logger.info({ claim: key, volume: step.claim.spec?.volumeName }, 'claim bound');
        return;
      }
      case 'provision': {
        const annotations = claim.metadata?.annotations ?? {};
        if (Object.entries(step.annotations).some(([k, v]) => annotations[k] !== v)) {
          const next = structuredClone(claim);
          next.metadata = { ...next.metadata, annotations: { ...annotations, ...step.annotations } };
          await client.update(PERSISTENT_VOLUME_CLAIMS, next as KubeObject);
          this.event(obj, { type: 'Normal', reason: 'Provisioning', message: `${step.annotations[Object.keys(step.annotations)[0]]} is provisioning a volume for claim "${key}"` });
        }
        try {
          await client.create(PERSISTENT_VOLUMES, step.volume as KubeObject);
        } catch (err) {
          if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
          return;
        }
        this.event(obj, step.event);
        logger.info({ claim: key, volume: step.volume.metadata?.name }, 'volume provisioned');
        return;
      }
      case 'unselect':
        await client.update(PERSISTENT_VOLUME_CLAIMS, step.claim as KubeObject);
        this.event(obj, step.event);
        return;
      case 'phase':
        await client.updateStatus(PERSISTENT_VOLUME_CLAIMS, { ...claim, status: { ...claim.status, phase: step.phase } } as KubeObject);
        this.event(obj, step.event);
        return;
    }
  }

  protected async reconcileVolume(name: string): Promise<ReconcileResult | void> {
    const pv = this.volumes.get(name);
    if (!pv) {
      // a helper left behind (the process stopped between deleting the volume and its helper)
      const helper = this.pods.get(`${HELPER_NAMESPACE}/${helperPodName(name)}`);
      if (helper && !helper.metadata?.deletionTimestamp) await this.ctx.client.delete(PODS, helperPodName(name), { namespace: HELPER_NAMESPACE, ignoreNotFound: true });
      return;
    }
    const ref = pv.spec?.claimRef;
    let claim = ref ? this.claims.get(`${ref.namespace}/${ref.name}`) : undefined;
    // Before releasing a volume, make sure the claim is really gone (the claim cache may lag behind the volume's).
    if (ref?.uid && claimGone(pv, claim)) claim = await this.ctx.client.tryGet<PersistentVolumeClaim & KubeObject>(PERSISTENT_VOLUME_CLAIMS, ref.name!, ref.namespace);
    const step: VolumeStep = syncVolume(pv, claim);
    const obj = this.volumes.getObject(name);
    const { client, logger } = this.ctx;
    switch (step.kind) {
      case 'none':
        return;
      case 'phase':
        await client.updateStatus(PERSISTENT_VOLUMES, { ...pv, status: { phase: step.phase, ...(step.reason ? { reason: step.reason } : {}), ...(step.message ? { message: step.message } : {}) } } as KubeObject);
        this.event(obj, step.event);
        logger.info({ volume: name, phase: step.phase }, 'volume phase');
        return;
      case 'unbind':
        await client.update(PERSISTENT_VOLUMES, step.volume as KubeObject);
        return;
      case 'delete':
        return this.deleteLocalPath(pv, obj);
    }
  }

  private async deleteLocalPath(pv: PersistentVolume, obj: KubeObject | undefined): Promise<ReconcileResult | void> {
    const { client, logger } = this.ctx;
    const podName = helperPodName(pv.metadata?.name);
    const helper = this.pods.get(`${HELPER_NAMESPACE}/${podName}`);
    const node = volumeNode(pv);
    const step = deletionStep(pv, helper, !!node && !!this.nodes.get(node), this.image);
    switch (step.kind) {
      case 'wait':
        return;
      case 'createHelper':
        try {
          await client.create(PODS, step.pod as KubeObject);
        } catch (err) {
          if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
        }
        logger.info({ volume: pv.metadata?.name, node }, 'removing the directory of a deleted volume');
        return;
      case 'retry':
        this.event(obj, { type: 'Warning', reason: 'VolumeFailedDelete', message: step.message });
        await client.delete(PODS, podName, { namespace: HELPER_NAMESPACE, ignoreNotFound: true });
        return { requeueAfterMs: HELPER_RETRY_MS };
      case 'deleteVolume':
        if (step.leftBehind) this.event(obj, { type: 'Warning', reason: 'VolumeFailedDelete', message: step.leftBehind });
        await client.delete(PERSISTENT_VOLUMES, pv.metadata!.name!, { preconditions: { uid: pv.metadata?.uid } });
        if (helper) await client.delete(PODS, podName, { namespace: HELPER_NAMESPACE, ignoreNotFound: true });
        logger.info({ volume: pv.metadata?.name }, 'volume deleted');
        return;
    }
  }
}
