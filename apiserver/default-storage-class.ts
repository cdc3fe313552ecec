import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { defaultClass } from '../lib/volume-binding';
import type { AdmissionPlugin } from './admission';
import type { ResourceDef } from './groups/types';

/**
 * Kubernetes' DefaultStorageClass admission: a claim created without spec.storageClassName
 * gets the default class's name (the newest of several marked default), so it is provisioned
 * by that class. An empty string is an explicit "no class" and is left alone, as is a claim
 * when no class is marked default. Mutates `claim`.
 */
export function setDefaultClass(claim: PersistentVolumeClaim, classes: StorageClass[]): void {
  if (!claim.spec || claim.spec.storageClassName !== undefined) return;
  const sc = defaultClass(classes);
  if (sc?.metadata?.name) claim.spec.storageClassName = sc.metadata.name;
}

/** The admission plugin over `setDefaultClass`, for claims on create; `classes` lists the StorageClasses. */
export function defaultStorageClassAdmission(claimDef: ResourceDef | undefined, classes: () => Promise<StorageClass[]>): AdmissionPlugin {
  return {
    async admit(def, _ns, obj) {
      if (def !== claimDef) return;
      const claim = obj as PersistentVolumeClaim;
      if (claim.spec && claim.spec.storageClassName === undefined) setDefaultClass(claim, await classes());
    },
  };
}
