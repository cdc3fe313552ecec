import type { ControllerRevision } from 'kubernetes-types/apps/v1';
import { base } from '../shared/defs';
import { type FieldError, immutable, invalid, nonNegInt } from '../shared/fields';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** ControllerRevision (apps/v1): the history StatefulSets and DaemonSets keep. */

export function validateControllerRevision(o: ControllerRevision, old?: ControllerRevision): FieldError[] {
  const errs = nonNegInt(o.revision) ? [] : [invalid('revision', o.revision, 'must be greater than or equal to 0')];
  if (old) errs.push(...immutable('data', o.data, old.data));
  return errs;
}

function controllerOf(o: ControllerRevision): string {
  const c = (o.metadata?.ownerReferences ?? []).find((r) => r.controller);
  if (!c) return '<none>';
  const group = String(c.apiVersion ?? '').includes('/') ? `.${c.apiVersion.split('/')[0]}` : '';
  return `${String(c.kind).toLowerCase()}${group}/${c.name}`;
}

export const CONTROLLER_REVISION: ResourceDef = {
  ...base, group: 'apps', kind: 'ControllerRevision', listKind: 'ControllerRevisionList', plural: 'controllerrevisions', singular: 'controllerrevision',
  validate: (o, _c, old) => validateControllerRevision(o as ControllerRevision, old as ControllerRevision | undefined),
  printer: {
    columns: [NAME, ['Controller', 'string'], ['Revision', 'integer'], AGE],
    cells(obj, now) {
      const o = obj as ControllerRevision;
      return [o.metadata?.name, controllerOf(o), o.revision ?? 0, objectAge(o, now)];
    },
  },
};
