import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { ANN_SELECTED_NODE, claimClass, findBestVolume, isDelayedBinding, volumeFitsNode } from '../../lib/volume-binding';
import { unresolvable, type FilterPlugin } from '../framework';

/** The claims, volumes and classes the VolumeBinding plugin reads (the scheduler's informers). */
export interface VolumeLister {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  volumes(): PersistentVolume[];
  storageClass(name: string): StorageClass | undefined;
}

export const VOLUME_NODE_AFFINITY_CONFLICT = 'node(s) had volume node affinity conflict';
export const UNBOUND_IMMEDIATE_CLAIMS = 'pod has unbound immediate PersistentVolumeClaims';
export const BOUND_TO_MISSING_VOLUME = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
export const NO_VOLUME_TO_BIND = "node(s) didn't find available persistent volumes to bind";
export const NOT_SELECTED_NODE = "node(s) didn't match the node already selected for the pod's volume claims";

const STATE_KEY = 'PreFilterVolumeBinding';

/** The claim names the pod's volumes use. */
export function podClaimNames(pod: Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
}

/** The pod's claims that wait for it to be scheduled: unbound, of a WaitForFirstConsumer class. */
export function delayedClaims(pod: Pod, l: VolumeLister): PersistentVolumeClaim[] {
  const ns = pod.metadata?.namespace ?? 'default';
  return podClaimNames(pod).flatMap((n) => {
    const c = l.claim(ns, n);
    return c && !c.spec?.volumeName && isDelayedBinding(l.storageClass(claimClass(c))) ? [c] : [];
  });
}

/**
 * Kubernetes' VolumeBinding filter: a claim bound to a volume admits only nodes the volume's
 * node affinity allows; an unbound claim of an Immediate class (or of no class, or of a class
 * that does not exist) makes the pod unschedulable until the PersistentVolume controller binds
 * it; an unbound WaitForFirstConsumer claim admits any node (its volume will be made there),
 * except that once the scheduler selected a node for it only that node, and a class without a
 * provisioner needs an available volume usable on the node. A missing claim fails every node.
 */
export function volumeBinding(l: VolumeLister): FilterPlugin {
  return {
    name: 'VolumeBinding',
    preFilter(pod, _snapshot, state) {
      // The claim names once per attempt, not once per node.
      state.write(STATE_KEY, podClaimNames(pod));
      return undefined;
    },
    filter(pod, { node }, state) {
      const names = state.read<string[]>(STATE_KEY) ?? podClaimNames(pod);
      // A pod without claims fits everywhere (upstream's PreFilter Skip).
      if (names.length === 0) return undefined;
      const ns = pod.metadata?.namespace ?? 'default';
      for (const name of names) {
        const c = l.claim(ns, name);
        if (!c) return unresolvable(`persistentvolumeclaim "${name}" not found`);
        if (c.metadata?.deletionTimestamp) return unresolvable(`persistentvolumeclaim "${name}" is being deleted`);
        const vn = c.spec?.volumeName;
        if (vn) {
          const pv = l.volume(vn);
          if (!pv) return unresolvable(BOUND_TO_MISSING_VOLUME);
          if (!volumeFitsNode(pv, node)) return unresolvable(VOLUME_NODE_AFFINITY_CONFLICT);
          continue;
        }
        const sc = l.storageClass(claimClass(c));
        if (!isDelayedBinding(sc)) return unresolvable(UNBOUND_IMMEDIATE_CLAIMS);
        const selected = c.metadata?.annotations?.[ANN_SELECTED_NODE];
        if (selected && selected !== node.metadata?.name) return unresolvable(NOT_SELECTED_NODE);
        if (sc?.provisioner === 'kubernetes.io/no-provisioner' && !findBestVolume(l.volumes(), c, { node, delayed: true })) return unresolvable(NO_VOLUME_TO_BIND);
      }
      return undefined;
    },
  };
}
