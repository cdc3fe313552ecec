import { errors } from '../../errors';
import { formatLabelSelector } from '../../selectors';
import type { ScaleSubresource } from '../types';
import type { ApiObject } from '../../api-object';
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import { isObject, objectOr } from '../../json';

/** What Scale reads and writes of its kinds (their validation guarantees these fields' shape). */
interface Replicated extends ApiObject {
  spec?: { replicas?: number; selector?: LabelSelector };
  status?: { replicas?: number };
}

/**
 * The autoscaling/v1 Scale subresource of kinds with spec.replicas, status.replicas and a
 * label selector in spec.selector (Deployment, ReplicaSet, StatefulSet).
 */
export const replicasScale: ScaleSubresource = {
  toScale(stored) {
    const obj = stored as Replicated;
    const sel = obj.spec?.selector;
    return {
      kind: 'Scale', apiVersion: 'autoscaling/v1',
      metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp },
      spec: { replicas: obj.spec?.replicas ?? 0 },
      status: { replicas: obj.status?.replicas ?? 0, selector: sel ? formatLabelSelector(sel) : '' },
    };
  },

  fromScale(stored, scale, name) {
    const cur = stored as Replicated;
    if (!isObject(scale) || scale.kind !== undefined && scale.kind !== 'Scale') throw errors.badRequest('expected an autoscaling/v1 Scale');
    const meta = objectOr(scale.metadata);
    if (meta.name !== undefined && meta.name !== name) throw errors.badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
    const replicas = objectOr(scale.spec).replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw errors.invalid('Scale', 'autoscaling', name, [{ field: 'spec.replicas', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
    }
    return { ...cur, spec: { ...(cur.spec ?? {}), replicas } };
  },
};
