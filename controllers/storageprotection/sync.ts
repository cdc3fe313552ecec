import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import { PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER, podUsesClaim, volumeInUse } from '../../lib/storage-protection';

/**
 * Kubernetes' pvc-protection and pv-protection controllers, as pure decisions: the finalizer
 * the apiserver put on a claim (volume) comes off once it is being deleted and no pod that
 * has not finished uses it (it is no longer Bound).
 */

export type ProtectionStep =
  /** Not being deleted, or no finalizer of ours: nothing to do. */
  | { kind: 'none' }
  /** Being deleted but still in use: wait for the pod (volume) events. */
  | { kind: 'inUse'; by?: string }
  /** Being deleted and unused: write the object without our finalizer. */
  | { kind: 'release'; finalizers: string[] };

const without = (fs: string[], f: string) => fs.filter((x) => x !== f);

/** `pods`: the pods of the claim's namespace (from the informer, or a live list to confirm). */
export function syncClaim(claim: PersistentVolumeClaim, pods: Pod[]): ProtectionStep {
  const m = claim.metadata;
  const fs = m?.finalizers ?? [];
  if (!m?.deletionTimestamp || !fs.includes(PVC_PROTECTION_FINALIZER)) return { kind: 'none' };
  const user = pods.find((p) => podUsesClaim(p, m.namespace, m.name));
  if (user) return { kind: 'inUse', by: user.metadata?.name };
  return { kind: 'release', finalizers: without(fs, PVC_PROTECTION_FINALIZER) };
}

export function syncVolume(pv: PersistentVolume): ProtectionStep {
  const m = pv.metadata;
  const fs = m?.finalizers ?? [];
  if (!m?.deletionTimestamp || !fs.includes(PV_PROTECTION_FINALIZER)) return { kind: 'none' };
  if (volumeInUse(pv)) return { kind: 'inUse' };
  return { kind: 'release', finalizers: without(fs, PV_PROTECTION_FINALIZER) };
}

/** The claims (`namespace/name`) a pod names in its volumes. */
export function claimsOf(pod: Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim?.claimName ? [`${pod.metadata?.namespace}/${v.persistentVolumeClaim.claimName}`] : []));
}
