import type { DaemonSet, DaemonSetSpec, DaemonSetStatus } from 'kubernetes-types/apps/v1';
import type { Writable } from '../../api-object';
import { withStatus } from '../shared/defs';
import { type FieldError, immutable, notSupported, required } from '../shared/fields';
import { isObject, objectOr } from '../../json';
import { templateDefaults, validateSelectorAndTemplate } from '../shared/pod-template';
import { AGE, count, images, NAME, names, objectAge, selectorOf } from '../shared/printers';
import type { ResourceDef } from '../types';
import { formatLabels } from '../../selectors';

/** DaemonSet (apps/v1). */

export function validateDaemonSet(o: DaemonSet, old?: DaemonSet): FieldError[] {
  const s = o.spec;
  if (!isObject(s)) return [required('spec')];
  const errs = validateSelectorAndTemplate(s);
  if (old?.spec) errs.push(...immutable('spec.selector', s.selector, old.spec.selector));
  const strategyType = objectOr(s.updateStrategy).type;
  if (strategyType !== undefined && !['RollingUpdate', 'OnDelete'].includes(strategyType as string)) errs.push(notSupported('spec.updateStrategy.type', strategyType, ['OnDelete', 'RollingUpdate']));
  return errs;
}

export const DAEMON_SET: ResourceDef = {
  ...withStatus, group: 'apps', kind: 'DaemonSet', listKind: 'DaemonSetList', plural: 'daemonsets', singular: 'daemonset', shortNames: ['ds'], categories: ['all'],
  defaults(o: DaemonSet) {
    const s = (o.spec ??= {} as DaemonSetSpec); // a missing spec becomes {}; validation then reports its required fields
    s.updateStrategy ??= { type: 'RollingUpdate' };
    if (s.updateStrategy.type === 'RollingUpdate') { s.updateStrategy.rollingUpdate ??= {}; s.updateStrategy.rollingUpdate.maxUnavailable ??= 1; s.updateStrategy.rollingUpdate.maxSurge ??= 0; }
    s.revisionHistoryLimit ??= 10;
    templateDefaults(s.template);
  },
  prepareForCreate(o: Writable<DaemonSet>) { o.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 }; },
  validate: (o, _c, old) => validateDaemonSet(o, old),
  printer: {
    columns: [NAME, ['Desired', 'integer'], ['Current', 'integer'], ['Ready', 'integer'], ['Up-to-date', 'integer'], ['Available', 'integer'],
      ['Node Selector', 'string'], AGE, ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    cells(o: DaemonSet, now) {
      const s: DaemonSetStatus = o.status ?? { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
      const cs = o.spec?.template?.spec?.containers;
      const ns = o.spec?.template?.spec?.nodeSelector;
      return [o.metadata?.name, s.desiredNumberScheduled ?? 0, s.currentNumberScheduled ?? 0, s.numberReady ?? 0, s.updatedNumberScheduled ?? 0, s.numberAvailable ?? 0,
        count(ns) ? formatLabels(ns) : '<none>', objectAge(o, now), names(cs), images(cs), selectorOf(o.spec?.selector)];
    },
  },
};
