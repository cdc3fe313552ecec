import type { Node, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import {
  ANN_BETA_STORAGE_PROVISIONER, ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_PROVISIONED_BY, ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER,
  LOCAL_PATH_PROVISIONER, claimClass, claimRefMatches, claimRefTo, findBestVolume, isDelayedBinding, volumeMismatch,
} from '../../lib/volume-binding';
import { localPathRefusal, localPathVolume } from './local-path';

/**
 * The PersistentVolume controller's decisions (Kubernetes' pv_controller syncClaim and
 * syncVolume), pure: from a claim or a volume and what the informers hold, the one next
 * write. controller.ts performs it; the write's own watch event brings the next step, so a
 * binding is two optimistic-concurrency writes (volume claimRef first, then the claim) and
 * a crash between them is finished by the next sync.
 */

export interface Ev {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export type ClaimStep =
  /** Nothing to write; maybe an event saying what the claim waits for. */
  | { kind: 'wait'; event?: Ev }
  /** Update the volume: its claimRef now names the claim. */
  | { kind: 'bindVolume'; volume: PersistentVolume }
  /** Update the claim (volumeName, annotations), then its status (Bound, capacity, access modes). */
  | { kind: 'bindClaim'; claim: PersistentVolumeClaim }
  /** Annotate the claim with the provisioner, then create the volume, pre-bound to the claim. */
  | { kind: 'provision'; annotations: Record<string, string>; volume: PersistentVolume; event: Ev }
  /** Update the claim without the selected-node annotation: its node is gone, the scheduler chooses again. */
  | { kind: 'unselect'; claim: PersistentVolumeClaim; event: Ev }
  /** Write the claim's status phase. */
  | { kind: 'phase'; phase: 'Lost'; event: Ev };

export interface ClaimWorld {
  volumes: PersistentVolume[];
  classes: StorageClass[];
  nodes: Node[];
  /** Where local-path volumes live on their node. */
  localPathDir: string;
}

const wait = (type: Ev['type'], reason: string, message: string): ClaimStep => ({ kind: 'wait', event: { type, reason, message } });

/** The volume with its claimRef set to the claim (and marked as the controller's doing). */
function reserve(pv: PersistentVolume, c: PersistentVolumeClaim): PersistentVolume {
  const next = structuredClone(pv);
  next.spec = { ...next.spec, claimRef: claimRefTo(c) };
  next.metadata = { ...next.metadata, annotations: { ...next.metadata?.annotations, [ANN_BOUND_BY_CONTROLLER]: 'yes' } };
  return next;
}

/** The claim bound to the volume: volumeName, the bind annotations and a Bound status. */
function boundClaim(c: PersistentVolumeClaim, pv: PersistentVolume, byController: boolean): PersistentVolumeClaim {
  const next = structuredClone(c);
  return {
    ...next,
    spec: { ...next.spec, volumeName: pv.metadata?.name },
    metadata: { ...next.metadata, annotations: { ...next.metadata?.annotations, [ANN_BIND_COMPLETED]: 'yes', ...(byController ? { [ANN_BOUND_BY_CONTROLLER]: 'yes' } : {}) } },
    status: { ...next.status, phase: 'Bound', capacity: pv.spec?.capacity, accessModes: pv.spec?.accessModes },
  };
}

const isBoundClaim = (c: PersistentVolumeClaim, pv: PersistentVolume) =>
  c.status?.phase === 'Bound' && c.metadata?.annotations?.[ANN_BIND_COMPLETED] !== undefined &&
  JSON.stringify(c.status?.capacity) === JSON.stringify(pv.spec?.capacity);

export function syncClaim(c: PersistentVolumeClaim, w: ClaimWorld): ClaimStep {
  if (c.metadata?.deletionTimestamp) return { kind: 'wait' };
  const name = c.spec?.volumeName;
  if (!name) return syncUnboundClaim(c, w);
  const pv = w.volumes.find((v) => v.metadata?.name === name);
  if (!pv) {
    if (c.status?.phase === 'Bound' || c.status?.phase === 'Lost') {
      return c.status.phase === 'Lost' ? { kind: 'wait' } : { kind: 'phase', phase: 'Lost', event: { type: 'Warning', reason: 'ClaimLost', message: 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!' } };
    }
    return wait('Normal', 'FailedBinding', `volume "${name}" requested by the claim does not exist`);
  }
  if (!pv.spec?.claimRef) {
    // pre-bound by the user (spec.volumeName): claim that volume if it fits
    const why = volumeMismatch(pv, c);
    if (why) return wait('Warning', 'FailedBinding', `Cannot bind to requested volume "${name}": ${why}`);
    return { kind: 'bindVolume', volume: reserve(pv, c) };
  }
  if (claimRefMatches(pv, c)) {
    if (!pv.spec.claimRef.uid) return { kind: 'bindVolume', volume: reserve(pv, c) };
    return isBoundClaim(c, pv) ? { kind: 'wait' } : { kind: 'bindClaim', claim: boundClaim(c, pv, false) };
  }
  if (c.status?.phase === 'Bound') return { kind: 'phase', phase: 'Lost', event: { type: 'Warning', reason: 'ClaimMisbound', message: `volume "${name}" is bound to a different claim; this claim is bound incorrectly` } };
  if (c.status?.phase === 'Lost') return { kind: 'wait' };
  return wait('Warning', 'FailedBinding', `volume "${name}" already bound to a different claim.`);
}

function syncUnboundClaim(c: PersistentVolumeClaim, w: ClaimWorld): ClaimStep {
  const className = claimClass(c);
  const sc = className ? w.classes.find((s) => s.metadata?.name === className) : undefined;
  const delayed = isDelayedBinding(sc);
  const selected = c.metadata?.annotations?.[ANN_SELECTED_NODE];
  const node = selected ? w.nodes.find((n) => n.metadata?.name === selected) : undefined;
  const pv = findBestVolume(w.volumes, c, { delayed, node });
  if (pv) return claimRefMatches(pv, c) && pv.spec?.claimRef?.uid ? { kind: 'bindClaim', claim: boundClaim(c, pv, true) } : { kind: 'bindVolume', volume: reserve(pv, c) };
  if (!className) return wait('Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
  if (!sc) return wait('Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
  if (delayed && !selected) return wait('Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
  if (sc.provisioner === 'kubernetes.io/no-provisioner') return wait('Normal', 'FailedBinding', `no persistent volumes available for this claim and storage class "${className}" has no provisioner`);
  if (sc.provisioner !== LOCAL_PATH_PROVISIONER) {
    return wait('Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner "${sc.provisioner}" or manually by the system administrator. Coxswain runs no provisioner of that name.`);
  }
  const refused = localPathRefusal(c, sc);
  if (refused) return wait('Warning', 'ProvisioningFailed', refused);
  if (!selected) return wait('Warning', 'ProvisioningFailed', `storage class "${className}" uses the ${LOCAL_PATH_PROVISIONER} provisioner, which needs volumeBindingMode WaitForFirstConsumer: the volume lives on the node its first pod is scheduled to`);
  if (!node) {
    const next = structuredClone(c);
    delete next.metadata!.annotations![ANN_SELECTED_NODE];
    return { kind: 'unselect', claim: next, event: { type: 'Warning', reason: 'ProvisioningFailed', message: `the selected node "${selected}" does not exist; the claim goes back to the scheduler` } };
  }
  const volume = localPathVolume(c, sc, selected, w.localPathDir);
  return {
    kind: 'provision',
    annotations: { [ANN_STORAGE_PROVISIONER]: LOCAL_PATH_PROVISIONER, [ANN_BETA_STORAGE_PROVISIONER]: LOCAL_PATH_PROVISIONER },
    volume,
    event: { type: 'Normal', reason: 'ProvisioningSucceeded', message: `Successfully provisioned volume ${volume.metadata?.name} on node ${selected}` },
  };
}

export type VolumeStep =
  | { kind: 'none' }
  /** Write the volume's status phase (and reason/message). */
  | { kind: 'phase'; phase: 'Available' | 'Bound' | 'Released' | 'Failed'; reason?: string; message?: string; event?: Ev }
  /** Update the volume without its claimRef (the controller's reservation lost to another volume). */
  | { kind: 'unbind'; volume: PersistentVolume }
  /** Reclaim policy Delete on a volume the local-path provisioner made: remove its directory, then the object. */
  | { kind: 'delete' };

/** Whether the claim the volume names is gone (or replaced by a new claim of the same name). */
export const claimGone = (pv: PersistentVolume, claim: PersistentVolumeClaim | undefined): boolean =>
  !claim || (!!pv.spec?.claimRef?.uid && claim.metadata?.uid !== pv.spec.claimRef.uid);

const phaseStep = (pv: PersistentVolume, phase: 'Available' | 'Bound' | 'Released'): VolumeStep =>
  (pv.status?.phase === phase ? { kind: 'none' } : { kind: 'phase', phase });

/** `claim` is the one at the volume's claimRef namespace/name, if any. */
export function syncVolume(pv: PersistentVolume, claim: PersistentVolumeClaim | undefined): VolumeStep {
  const ref = pv.spec?.claimRef;
  // Being deleted (the pv-protection finalizer holds it while Bound): only let go of a claim
  // that is gone, so the storageprotection controller can remove the finalizer; never reclaim.
  if (pv.metadata?.deletionTimestamp) return pv.status?.phase === 'Bound' && ref?.uid && claimGone(pv, claim) ? { kind: 'phase', phase: 'Released' } : { kind: 'none' };
  if (!ref || !ref.uid) return phaseStep(pv, 'Available');
  if (!claimGone(pv, claim)) {
    const vn = claim!.spec?.volumeName;
    if (vn === pv.metadata?.name) return phaseStep(pv, 'Bound');
    if (!vn) return { kind: 'none' }; // the claim's sync completes the binding
    if (pv.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER]) {
      const next = structuredClone(pv);
      delete next.spec!.claimRef;
      delete next.metadata!.annotations![ANN_BOUND_BY_CONTROLLER];
      return { kind: 'unbind', volume: next };
    }
    return { kind: 'none' }; // pre-bound by a user to a claim that bound elsewhere: left as the user made it
  }
  if (pv.status?.phase === 'Failed') return { kind: 'none' };
  if (pv.status?.phase !== 'Released') return { kind: 'phase', phase: 'Released' };
  const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
  if (policy === 'Retain') return { kind: 'none' };
  if (policy === 'Recycle') {
    const message = 'the Recycle reclaim policy is not supported (Kubernetes deprecated it); use Delete or Retain';
    return { kind: 'phase', phase: 'Failed', reason: 'VolumeFailedRecycle', message, event: { type: 'Warning', reason: 'VolumeFailedRecycle', message } };
  }
  if (pv.metadata?.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER) return { kind: 'delete' };
  const message = `no deleter for volume "${pv.metadata?.name}": only volumes made by the ${LOCAL_PATH_PROVISIONER} provisioner can be deleted; delete it yourself or use the Retain policy`;
  return { kind: 'phase', phase: 'Failed', reason: 'VolumeFailedDelete', message, event: { type: 'Warning', reason: 'VolumeFailedDelete', message } };
}
