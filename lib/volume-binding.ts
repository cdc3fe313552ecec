import type { Node, ObjectReference, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { bytesOf } from './quantity';
import { nodeSelectorMatches } from './node-affinity';
import { matchesSelector } from './label-selector';

/**
 * What the PersistentVolume controller and the scheduler agree on about claims and volumes:
 * the annotations upstream uses, which volume a claim may bind to, and whether a volume's
 * node affinity admits a node. Pure.
 */

/** On a claim: the binding was completed by the controller (both sides written). */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
/** On a claim or volume: the controller (not a user) chose this binding. */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
/** On a claim: the node the scheduler chose for the first pod using it (WaitForFirstConsumer). */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
/** On a claim: the provisioner asked to provision it (and its older beta name). */
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
/** On a volume: which provisioner made it (and so which one deletes it). */
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
/** On a StorageClass: the class a claim without one gets. */
export const ANN_DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';
export const ANN_BETA_DEFAULT_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';

/** Coxswain's built-in provisioner and the class created at cluster start. */
export const LOCAL_PATH_PROVISIONER = 'coxswain.io/local-path';
export const LOCAL_PATH_CLASS = 'local-path';

export const isDefaultClass = (sc: StorageClass): boolean => {
  const a = sc.metadata?.annotations ?? {};
  return a[ANN_DEFAULT_CLASS] === 'true' || a[ANN_BETA_DEFAULT_CLASS] === 'true';
};

/** The claim's class name; "" is "no class" (only volumes without a class bind to it). */
export const claimClass = (c: PersistentVolumeClaim): string => c.spec?.storageClassName ?? '';

/** Whether the class delays binding until a pod using the claim is scheduled. */
export const isDelayedBinding = (sc: StorageClass | undefined): boolean => sc?.volumeBindingMode === 'WaitForFirstConsumer';

/** The claim's requested size in bytes. */
export const claimRequest = (c: PersistentVolumeClaim): number => bytesOf((c.spec?.resources?.requests as Record<string, string> | undefined)?.storage);
export const volumeCapacity = (pv: PersistentVolume): number => bytesOf((pv.spec?.capacity as Record<string, string> | undefined)?.storage);

/** A volume's claimRef to the claim. */
export function claimRefTo(c: PersistentVolumeClaim): ObjectReference {
  return { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: c.metadata?.namespace, name: c.metadata?.name, uid: c.metadata?.uid, resourceVersion: c.metadata?.resourceVersion };
}

/** Whether the volume's claimRef names this claim (by namespace and name, and uid when both have one). */
export function claimRefMatches(pv: PersistentVolume, c: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref || ref.name !== c.metadata?.name || ref.namespace !== c.metadata?.namespace) return false;
  return !ref.uid || ref.uid === c.metadata?.uid;
}

/** Whether the volume may be used on the node (no required node affinity: anywhere). */
export function volumeFitsNode(pv: PersistentVolume, node: Node): boolean {
  const req = pv.spec?.nodeAffinity?.required;
  return !req || nodeSelectorMatches(req, node);
}

/**
 * Why the volume cannot hold the claim, or undefined when it can: same class, same volume
 * mode, every requested access mode offered, enough capacity, the claim's label selector.
 * Says nothing about who the volume is bound to.
 */
export function volumeMismatch(pv: PersistentVolume, c: PersistentVolumeClaim): string | undefined {
  if ((pv.spec?.storageClassName ?? '') !== claimClass(c)) return `storage class "${pv.spec?.storageClassName ?? ''}" is not the claim's "${claimClass(c)}"`;
  if ((pv.spec?.volumeMode ?? 'Filesystem') !== (c.spec?.volumeMode ?? 'Filesystem')) return `volume mode ${pv.spec?.volumeMode ?? 'Filesystem'} is not the claim's ${c.spec?.volumeMode ?? 'Filesystem'}`;
  const offered = pv.spec?.accessModes ?? [];
  const missing = (c.spec?.accessModes ?? []).filter((m) => !offered.includes(m));
  if (missing.length) return `access mode(s) ${missing.join(', ')} not offered`;
  if (volumeCapacity(pv) < claimRequest(c)) return `capacity ${(pv.spec?.capacity as Record<string, string> | undefined)?.storage ?? '0'} is less than the requested ${(c.spec?.resources?.requests as Record<string, string> | undefined)?.storage}`;
  if (c.spec?.selector && !matchesSelector(c.spec.selector, pv.metadata?.labels)) return 'labels do not match the claim\'s selector';
  return undefined;
}

/**
 * The volume a claim binds to (Kubernetes' findBestMatchForClaim): among volumes that are
 * unclaimed (or pre-bound to this claim), not being deleted and that fit, one pre-bound to
 * the claim wins, else the smallest; with `node`, only volumes usable on that node.
 * Volumes without a claimRef are skipped for claims of a delayed-binding class until the
 * scheduler chose a node.
 */
export function findBestVolume(volumes: PersistentVolume[], c: PersistentVolumeClaim, opts: { node?: Node; delayed?: boolean } = {}): PersistentVolume | undefined {
  let best: PersistentVolume | undefined;
  for (const pv of volumes) {
    if (pv.metadata?.deletionTimestamp) continue;
    const ref = pv.spec?.claimRef;
    if (ref && !claimRefMatches(pv, c)) continue;
    if (!ref && (pv.status?.phase === 'Released' || pv.status?.phase === 'Failed')) continue;
    if (volumeMismatch(pv, c)) continue;
    if (ref) return pv;
    if (opts.delayed && !opts.node) continue;
    if (opts.node && !volumeFitsNode(pv, opts.node)) continue;
    if (!best || volumeCapacity(pv) < volumeCapacity(best)) best = pv;
  }
  return best;
}

/** The default class (newest when several are marked, as Kubernetes since 1.28), if any. */
export function defaultClass(classes: StorageClass[]): StorageClass | undefined {
  const defaults = classes.filter(isDefaultClass);
  defaults.sort((a, b) => (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  return defaults[0];
}
