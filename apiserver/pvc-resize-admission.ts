import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { parseQuantity } from '../lib/quantity';
import type { AdmissionPlugin } from './admission';
import { errors } from './errors';
import type { ResourceDef } from './groups/types';

/**
 * Kubernetes' PersistentVolumeClaimResize admission, on updates of a claim: a claim whose
 * storage request grows must name a StorageClass (the same before and after) whose
 * `allowVolumeExpansion` is true. Validation runs first (groups/core/persistentvolumeclaim.ts:
 * only a Bound claim's storage request may change, and never shrink); this plugin decides
 * whether a growth is allowed. Coxswain's `local-path` class does not allow expansion (its
 * volumes are host directories with no size to grow), so growing one of its claims is refused.
 */

export const RESIZE_REFUSED = 'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize';

const storageOf = (c: PersistentVolumeClaim | undefined): number => parseQuantity(c?.spec?.resources?.requests?.storage) ?? 0;

/** Pure: why the update `old` → `next` may not happen (undefined: it may). `classes`: the StorageClasses. */
export function resizeRefusal(next: PersistentVolumeClaim, old: PersistentVolumeClaim, classes: StorageClass[]): string | undefined {
  if (storageOf(next) <= storageOf(old)) return undefined;
  const cls = next.spec?.storageClassName ?? '';
  if (!cls || cls !== (old.spec?.storageClassName ?? '')) return RESIZE_REFUSED;
  return classes.find((c) => c.metadata?.name === cls)?.allowVolumeExpansion === true ? undefined : RESIZE_REFUSED;
}

/** The admission plugin over `resizeRefusal`; `classes` lists the StorageClasses. */
export function pvcResizeAdmission(claimDef: ResourceDef | undefined, classes: () => Promise<StorageClass[]>): AdmissionPlugin {
  return {
    async validateUpdate(def, _ns, next, old) {
      if (def !== claimDef) return;
      const n = next as PersistentVolumeClaim;
      const o = old as PersistentVolumeClaim;
      if (storageOf(n) <= storageOf(o)) return;
      const why = resizeRefusal(n, o, await classes());
      if (why) throw errors.forbidden(`persistentvolumeclaims "${o.metadata?.name}" is forbidden: ${why}`, { name: o.metadata?.name, group: '', kind: 'persistentvolumeclaims' });
    },
  };
}
