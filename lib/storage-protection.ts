import type { PersistentVolume, Pod } from 'kubernetes-types/core/v1';

/**
 * Storage object in use protection, shared by the apiserver (which adds the finalizers on
 * create) and the controllers' storageprotection controller (which removes them once
 * nothing uses the object): a claim a pod still uses, and a volume still Bound, are only
 * marked Terminating by a delete, and go once that stops being true.
 */

export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

/**
 * Whether `pod` holds claim `claimName` of its namespace: it names the claim in a volume, is
 * on a node (the kubelet starts no pod whose claim is being deleted, so an unscheduled pod
 * never mounts it), and has not finished: not Succeeded or Failed, and not shut down (a
 * deletion with grace 0: the kubelet has stopped it, or it was force-deleted).
 */
export function podUsesClaim(pod: Pod, namespace: string | undefined, claimName: string | undefined): boolean {
  if (pod.metadata?.namespace !== namespace || !pod.spec?.nodeName) return false;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (pod.metadata?.deletionTimestamp && pod.metadata.deletionGracePeriodSeconds === 0) return false;
  return (pod.spec.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claimName);
}

/** Whether the volume is in use: Bound to a claim. */
export const volumeInUse = (pv: PersistentVolume): boolean => pv.status?.phase === 'Bound';

/** The object's finalizers with `f` added once (for create-time admission). */
export function withFinalizer(finalizers: string[] | undefined, f: string): string[] {
  return (finalizers ?? []).includes(f) ? [...finalizers!] : [...(finalizers ?? []), f];
}
