import path from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { ANN_PROVISIONED_BY, LOCAL_PATH_PROVISIONER, claimClass, claimRefTo } from '../../lib/volume-binding';

/**
 * The built-in local-path provisioner (after k3s' local-path-provisioner), pure: the volume
 * made for a claim and the helper pod that removes its directory.
 *
 * A volume is a `hostPath` (type DirectoryOrCreate) at `<dir>/<pv-name>` with a required node
 * affinity to the node the scheduler chose, so the first pod creates the directory when its
 * kubelet mounts it, and every later pod of the claim is scheduled back to that node. The
 * controllers do not run on every node, so on Delete a helper pod pinned to the volume's node
 * (busybox, the parent directory mounted) removes the directory; the volume object is deleted
 * once the helper succeeded.
 */

export const DEFAULT_LOCAL_PATH_DIR = '/var/lib/coxswain/storage';
export const DEFAULT_HELPER_IMAGE = 'busybox:1.36';
export const HELPER_NAMESPACE = 'kube-system';
/** On helper pods: the volume they work for. */
export const LABEL_HELPER_FOR = 'coxswain.io/local-path-volume';
const HOSTNAME = 'kubernetes.io/hostname';

/** Why the provisioner cannot make a volume for the claim, or undefined. */
export function localPathRefusal(c: PersistentVolumeClaim, sc: StorageClass): string | undefined {
  const bad = (c.spec?.accessModes ?? []).filter((m) => m !== 'ReadWriteOnce' && m !== 'ReadWriteOncePod');
  if (bad.length) return `storage class "${sc.metadata?.name}": the ${LOCAL_PATH_PROVISIONER} provisioner makes node-local volumes, which support only ReadWriteOnce and ReadWriteOncePod, not ${bad.join(', ')}`;
  if ((c.spec?.volumeMode ?? 'Filesystem') !== 'Filesystem') return `storage class "${sc.metadata?.name}": the ${LOCAL_PATH_PROVISIONER} provisioner supports only volumeMode Filesystem`;
  if (c.spec?.selector) return 'claim.Spec.Selector is not supported for dynamic provisioning';
  return undefined;
}

/** The volume's name for a claim: `pvc-<claim uid>`, as Kubernetes names provisioned volumes. */
export const provisionedName = (c: PersistentVolumeClaim): string => `pvc-${c.metadata?.uid}`;

export function localPathVolume(c: PersistentVolumeClaim, sc: StorageClass, node: string, dir: string): PersistentVolume {
  const name = provisionedName(c);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations: { [ANN_PROVISIONED_BY]: LOCAL_PATH_PROVISIONER } },
    spec: {
      capacity: { storage: String((c.spec?.resources?.requests as Record<string, string> | undefined)?.storage) },
      accessModes: c.spec?.accessModes,
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: claimClass(c),
      volumeMode: 'Filesystem',
      hostPath: { path: path.join(dir, name), type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME, operator: 'In', values: [node] }] }] } },
      claimRef: claimRefTo(c),
      ...(sc.mountOptions ? { mountOptions: sc.mountOptions } : {}),
    },
  };
}

/** The node a local volume lives on (its node affinity's hostname), if it names one. */
export function volumeNode(pv: PersistentVolume): string | undefined {
  for (const t of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    const e = t.matchExpressions?.find((x) => x.key === HOSTNAME && x.operator === 'In' && x.values?.length === 1);
    if (e) return e.values![0];
  }
  return undefined;
}

export const helperPodName = (volumeName: string | undefined): string => `helper-pod-delete-${volumeName}`;

/** A pod on the volume's node that removes its directory, or undefined when the volume names no node or path. */
export function deleteHelperPod(pv: PersistentVolume, image: string): Pod | undefined {
  const node = volumeNode(pv);
  const p = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
  if (!node || !p || !path.isAbsolute(p) || path.dirname(p) === p) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: helperPodName(pv.metadata?.name), namespace: HELPER_NAMESPACE, labels: { [LABEL_HELPER_FOR]: pv.metadata?.name ?? '' } },
    spec: {
      nodeName: node,
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      tolerations: [{ operator: 'Exists' }],
      volumes: [{ name: 'data', hostPath: { path: path.dirname(p), type: 'DirectoryOrCreate' } }],
      containers: [{
        name: 'helper',
        image,
        imagePullPolicy: 'IfNotPresent',
        command: ['rm', '-rf', path.join('/data', path.basename(p))],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
      }],
    },
  };
}

export type DeletionStep =
  | { kind: 'createHelper'; pod: Pod }
  | { kind: 'wait' }
  /** The directory is gone (or cannot be reached): delete the helper, if any, then the volume. */
  | { kind: 'deleteVolume'; leftBehind?: string }
  /** The helper failed: delete it, say so, and try again later. */
  | { kind: 'retry'; message: string };

/** What deleting a local-path volume needs next, from its helper pod (if any) and whether its node exists. */
export function deletionStep(pv: PersistentVolume, helper: Pod | undefined, nodeExists: boolean, image: string): DeletionStep {
  if (helper?.status?.phase === 'Succeeded') return { kind: 'deleteVolume' };
  if (helper?.status?.phase === 'Failed') return { kind: 'retry', message: `helper pod ${HELPER_NAMESPACE}/${helper.metadata?.name} could not remove the directory of volume ${pv.metadata?.name}` };
  if (helper) return { kind: 'wait' };
  const pod = deleteHelperPod(pv, image);
  if (!pod) return { kind: 'deleteVolume', leftBehind: `volume ${pv.metadata?.name} names no node and directory; nothing to remove` };
  if (!nodeExists) return { kind: 'deleteVolume', leftBehind: `node ${volumeNode(pv)} no longer exists; its directory ${pv.spec?.hostPath?.path ?? pv.spec?.local?.path} was not removed` };
  return { kind: 'createHelper', pod };
}
