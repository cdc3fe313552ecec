import type { OwnerReference } from 'kubernetes-types/meta/v1';
import type { KubeObject } from '../../lib/client';

/** The ownerReference with controller: true, if any. */
export function controllerRef(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** Whether `obj` is controlled by the object with uid `ownerUid`. */
export function isControlledBy(obj: KubeObject, ownerUid: string | undefined): boolean {
  return !!ownerUid && controllerRef(obj)?.uid === ownerUid;
}

/** An ownerReference (controller: true, blockOwnerDeletion: true) pointing at `owner`. */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}
