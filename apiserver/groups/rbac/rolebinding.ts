import type { RoleBinding } from 'kubernetes-types/rbac/v1';
import { base } from '../shared/defs';
import { type FieldError, invalid, notSupported, required } from '../shared/fields';
import { isObject } from '../../json';
import { isDns1123Subdomain } from '../shared/object-meta';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';
import type { ApiObject } from '../../api-object';

/** RoleBinding and ClusterRoleBinding (rbac.authorization.k8s.io/v1). */

export function validateBinding(o: RoleBinding, old: RoleBinding | undefined, clusterScoped: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = o.roleRef;
  if (!isObject(ref)) errs.push(required('roleRef'));
  else {
    const kinds = clusterScoped ? ['ClusterRole'] : ['Role', 'ClusterRole'];
    if (!kinds.includes(ref.kind as string)) errs.push(notSupported('roleRef.kind', ref.kind, kinds));
    if (ref.apiGroup !== 'rbac.authorization.k8s.io') errs.push(notSupported('roleRef.apiGroup', ref.apiGroup, ['rbac.authorization.k8s.io']));
    if (!ref.name) errs.push(required('roleRef.name'));
  }
  if (old && JSON.stringify(old.roleRef) !== JSON.stringify(o.roleRef)) errs.push(invalid('roleRef', o.roleRef, 'cannot change roleRef'));
  (Array.isArray(o.subjects) ? o.subjects : []).forEach((s, i) => {
    const f = `subjects[${i}]`;
    if (!['User', 'Group', 'ServiceAccount'].includes(s?.kind)) errs.push(notSupported(`${f}.kind`, s?.kind, ['ServiceAccount', 'User', 'Group']));
    if (!s?.name) errs.push(required(`${f}.name`));
    if (s?.kind === 'ServiceAccount') {
      if (s.apiGroup) errs.push(notSupported(`${f}.apiGroup`, s.apiGroup, ['']));
      if (!s.namespace && clusterScoped) errs.push(required(`${f}.namespace`));
      if (s.name && !isDns1123Subdomain(s.name)) errs.push(invalid(`${f}.name`, s.name, 'a lowercase RFC 1123 subdomain'));
    } else if (s?.kind && s.apiGroup !== 'rbac.authorization.k8s.io') errs.push(notSupported(`${f}.apiGroup`, s.apiGroup, ['rbac.authorization.k8s.io']));
  });
  return errs;
}

function subjects(b: RoleBinding, kind: string): string {
  return (b.subjects ?? []).filter((s) => s.kind === kind).map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name)).join(', ');
}

function bindingCells(obj: ApiObject, now: Date): unknown[] {
  const o = obj as RoleBinding;
  return [o.metadata?.name, `${o.roleRef?.kind}/${o.roleRef?.name}`, objectAge(o, now), subjects(o, 'User'), subjects(o, 'Group'), subjects(o, 'ServiceAccount')];
}

export const ROLE_BINDING: ResourceDef = {
  ...base, group: 'rbac.authorization.k8s.io', nameRule: 'path', kind: 'RoleBinding', listKind: 'RoleBindingList', plural: 'rolebindings', singular: 'rolebinding',
  validate: (o, _c, old) => validateBinding(o as RoleBinding, old as RoleBinding | undefined, false),
  printer: {
    columns: [NAME, ['Role', 'string'], AGE, ['Users', 'string', 1], ['Groups', 'string', 1], ['ServiceAccounts', 'string', 1]],
    cells: bindingCells,
  },
};

export const CLUSTER_ROLE_BINDING: ResourceDef = {
  ...base, group: 'rbac.authorization.k8s.io', nameRule: 'path', kind: 'ClusterRoleBinding', listKind: 'ClusterRoleBindingList', plural: 'clusterrolebindings', singular: 'clusterrolebinding',
  namespaced: false, validate: (o, _c, old) => validateBinding(o as RoleBinding, old as RoleBinding | undefined, true),
  printer: {
    columns: [NAME, ['Role', 'string'], AGE, ['Users', 'string', 1], ['Groups', 'string', 1], ['ServiceAccounts', 'string', 1]],
    cells: bindingCells,
  },
};
