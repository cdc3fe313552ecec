import type { Deployment, DeploymentSpec } from 'kubernetes-types/apps/v1';
import { replicasScale } from '../autoscaling/scale';
import { withStatus } from '../shared/defs';
import { type FieldError, notSupported } from '../shared/fields';
import { templateDefaults, validateReplicatedWorkload } from '../shared/pod-template';
import { AGE, images, NAME, names, objectAge, selectorOf } from '../shared/printers';
import type { ResourceDef } from '../types';

/** Deployment (apps/v1), with the Scale subresource. */

function validateDeploymentStrategy(spec: DeploymentSpec): FieldError[] {
  const type = spec.strategy?.type;
  return type !== undefined && !['RollingUpdate', 'Recreate'].includes(type) ? [notSupported('spec.strategy.type', type, ['Recreate', 'RollingUpdate'])] : [];
}

export const DEPLOYMENT: ResourceDef = {
  ...withStatus, group: 'apps', kind: 'Deployment', listKind: 'DeploymentList', plural: 'deployments', singular: 'deployment', shortNames: ['deploy'],
  categories: ['all'], namespaced: true, subresources: ['status', 'scale'],
  strategy: { scale: replicasScale },
  defaults(o: Deployment) {
    const s = (o.spec ??= {} as DeploymentSpec); // a missing spec becomes {}; validation then reports its required fields
    s.replicas ??= 1;
    s.strategy ??= { type: 'RollingUpdate' };
    s.strategy.type ??= 'RollingUpdate';
    if (s.strategy.type === 'RollingUpdate') {
      s.strategy.rollingUpdate ??= {};
      s.strategy.rollingUpdate.maxUnavailable ??= '25%';
      s.strategy.rollingUpdate.maxSurge ??= '25%';
    }
    s.revisionHistoryLimit ??= 10;
    s.progressDeadlineSeconds ??= 600;
    templateDefaults(o.spec.template);
  },
  validate: (o, _c, old) => validateReplicatedWorkload(o as Deployment, old as Deployment | undefined, validateDeploymentStrategy),
  printer: {
    columns: [NAME, ['Ready', 'string'], ['Up-to-date', 'integer'], ['Available', 'integer'], AGE,
      ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    cells(d: Deployment, now) {
      const st = d.status ?? {};
      const tpl = d.spec?.template?.spec?.containers;
      return [d.metadata?.name, `${st.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`, st.updatedReplicas ?? 0, st.availableReplicas ?? 0, objectAge(d, now), names(tpl), images(tpl), selectorOf(d.spec?.selector)];
    },
  },
};
