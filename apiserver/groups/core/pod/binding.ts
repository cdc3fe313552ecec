import { rfc3339 } from '../../../../lib/time';
import { errors } from '../../../errors';
import type { BindingSubresource } from '../../types';
import type { ApiObject } from '../../../api-object';
import { type JsonObject, isObject, objectOr } from '../../../json';

/**
 * What binding reads and writes of a stored pod: defaulting gave it a spec; its status is JSON
 * (the condition keeps Kubernetes' `lastProbeTime: null`, which kubernetes-types cannot hold).
 */
interface StoredPod extends ApiObject { spec: { nodeName?: string }; status?: JsonObject }

/**
 * POST pods/NAME/binding (the scheduler's write): sets spec.nodeName once and the
 * PodScheduled condition; a pod being deleted or already bound is a 409.
 */
export const podBinding: BindingSubresource = {
  parse(binding, name) {
    if (!isObject(binding)) throw errors.badRequest('expected a Binding');
    if (binding.kind !== undefined && binding.kind !== 'Binding') throw errors.badRequest(`the kind of the object (${String(binding.kind)}) does not match the expected kind (Binding)`);
    const target = objectOr(binding.target).name;
    if (!target || typeof target !== 'string') throw errors.invalid('Binding', '', name, [{ field: 'target.name', reason: 'FieldValueRequired', message: 'Required value' }]);
    const meta = objectOr(binding.metadata);
    if (meta.name && meta.name !== name) throw errors.badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
    return { target, resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined };
  },

  bind(stored, name, target, now) {
    const cur = stored as StoredPod;
    if (cur.metadata.deletionTimestamp) throw errors.conflict('pods', '', name, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (cur.spec?.nodeName) throw errors.conflict('pods', '', name, `pod ${name} is already assigned to node "${cur.spec.nodeName}"`);
    cur.spec.nodeName = target;
    const status = (cur.status ??= {});
    const conds: { type?: string }[] = Array.isArray(status.conditions) ? status.conditions : [];
    const cond = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(now) };
    status.conditions = [...conds.filter((c) => c.type !== 'PodScheduled'), cond];
    return cur;
  },
};
