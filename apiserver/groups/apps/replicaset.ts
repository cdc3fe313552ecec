import type { ReplicaSet, ReplicaSetSpec } from 'kubernetes-types/apps/v1';
import { replicasScale } from '../autoscaling/scale';
import { withStatus } from '../shared/defs';
import { templateDefaults, validateReplicatedWorkload } from '../shared/pod-template';
import { AGE, images, NAME, names, objectAge, selectorOf } from '../shared/printers';
import type { ResourceDef } from '../types';

/** ReplicaSet (apps/v1), with the Scale subresource. */

export const REPLICA_SET: ResourceDef = {
  ...withStatus, group: 'apps', kind: 'ReplicaSet', listKind: 'ReplicaSetList', plural: 'replicasets', singular: 'replicaset', shortNames: ['rs'],
  categories: ['all'], namespaced: true, subresources: ['status', 'scale'], fieldLabels: ['status.replicas'],
  strategy: { scale: replicasScale },
  defaults(o: ReplicaSet) { o.spec ??= {} as ReplicaSetSpec; /* validation reports the missing selector */ o.spec.replicas ??= 1; templateDefaults(o.spec.template); },
  validate: (o, _c, old) => validateReplicatedWorkload(o as ReplicaSet, old as ReplicaSet | undefined),
  printer: {
    columns: [NAME, ['Desired', 'integer'], ['Current', 'integer'], ['Ready', 'integer'], AGE,
      ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    cells(r: ReplicaSet, now) {
      const tpl = r.spec?.template?.spec?.containers;
      return [r.metadata?.name, r.spec?.replicas ?? 0, r.status?.replicas ?? 0, r.status?.readyReplicas ?? 0, objectAge(r, now), names(tpl), images(tpl), selectorOf(r.spec?.selector)];
    },
  },
};
