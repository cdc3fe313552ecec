import { errors } from '../../errors';
import { formatLabelSelector } from '../../selectors';
import type { ApiObject, ScaleSubresource } from '../types';
import { isObject, objectOr } from '../shared/json';

/**
 * The autoscaling/v1 Scale subresource of kinds with spec.replicas, status.replicas and a
 * label selector in spec.selector (Deployment, ReplicaSet, StatefulSet).
 */
export const replicasScale: ScaleSubresource = {
  toScale(obj: ApiObject) {
    const sel = obj.spec?.selector;
    return {
      kind: 'Scale', apiVersion: 'autoscaling/v1',
      metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp },
      spec: { replicas: obj.spec?.replicas ?? 0 },
      status: { replicas: obj.status?.replicas ?? 0, selector: sel ? formatLabelSelector(sel) : '' },
    };
  },

  fromScale(cur: ApiObject, scale: unknown, name: string) {
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
