import type { ClusterRole, PolicyRule, Role } from 'kubernetes-types/rbac/v1';
import { base } from '../shared/defs';
import { type FieldError, invalid, required } from '../shared/fields';
import { CREATED_AT, NAME } from '../shared/printers';
import type { ResourceDef } from '../types';

/** Role and ClusterRole (rbac.authorization.k8s.io/v1): stored and validated here; enforced by the authorizer (rbac.ts). */

function validateRules(rules: PolicyRule[] | undefined, clusterScoped: boolean): FieldError[] {
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) return [invalid('rules', rules, 'must be a list')];
  const errs: FieldError[] = [];
  rules.forEach((r, i) => {
    if (!Array.isArray(r?.verbs) || r.verbs.length === 0) errs.push(required(`rules[${i}].verbs`));
    const urls = Array.isArray(r?.nonResourceURLs) && r.nonResourceURLs.length > 0;
    if (urls && !clusterScoped) errs.push(invalid(`rules[${i}].nonResourceURLs`, r.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
    if (urls && Array.isArray(r.resources) && r.resources.length) errs.push(invalid(`rules[${i}].nonResourceURLs`, r.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    if (!urls) {
      if (!Array.isArray(r?.apiGroups) || r.apiGroups.length === 0) errs.push(required(`rules[${i}].apiGroups`));
      if (!Array.isArray(r?.resources) || r.resources.length === 0) errs.push(required(`rules[${i}].resources`));
    }
  });
  return errs;
}

export const validateRole = (o: Role) => validateRules(o.rules, false);

export const validateClusterRole = (o: ClusterRole) => validateRules(o.rules, true);

export const ROLE: ResourceDef = {
  ...base, group: 'rbac.authorization.k8s.io', nameRule: 'path', kind: 'Role', listKind: 'RoleList', plural: 'roles', singular: 'role', validate: (o) => validateRole(o),
  printer: { columns: [NAME, CREATED_AT], cells: (o: Role) => [o.metadata?.name, o.metadata?.creationTimestamp] },
};

export const CLUSTER_ROLE: ResourceDef = {
  ...base, group: 'rbac.authorization.k8s.io', nameRule: 'path', kind: 'ClusterRole', listKind: 'ClusterRoleList', plural: 'clusterroles', singular: 'clusterrole', namespaced: false,
  validate: (o) => validateClusterRole(o),
  printer: { columns: [NAME, CREATED_AT], cells: (o: Role) => [o.metadata?.name, o.metadata?.creationTimestamp] },
};
