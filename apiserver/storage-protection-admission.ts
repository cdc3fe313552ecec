import type { ObjectMeta } from 'kubernetes-types/meta/v1';
import { PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER, withFinalizer } from '../lib/storage-protection';
import type { AdmissionPlugin } from './admission';
import type { ResourceDef } from './groups/types';

/**
 * Kubernetes' StorageObjectInUseProtection admission: every PersistentVolumeClaim is created
 * with the `kubernetes.io/pvc-protection` finalizer and every PersistentVolume with
 * `kubernetes.io/pv-protection`, so a delete only marks them Terminating; the controllers'
 * storageprotection controller removes the finalizer once no running pod uses the claim, or
 * the volume is no longer Bound.
 */
export function storageProtectionAdmission(claimDef: ResourceDef | undefined, volumeDef: ResourceDef | undefined): AdmissionPlugin {
  return {
    async admit(def, _ns, obj) {
      const f = def === claimDef ? PVC_PROTECTION_FINALIZER : def === volumeDef ? PV_PROTECTION_FINALIZER : undefined;
      if (!f) return;
      const meta = (obj as { metadata: ObjectMeta }).metadata;
      meta.finalizers = withFinalizer(meta.finalizers, f);
    },
  };
}
