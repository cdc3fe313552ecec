import type { IngressClass } from 'kubernetes-types/networking/v1';
import { base } from '../shared/defs';
import { type FieldError, immutable, invalid, required } from '../shared/fields';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** IngressClass (networking.k8s.io/v1, cluster-scoped). */

export function validateIngressClass(o: IngressClass, old?: IngressClass): FieldError[] {
  const c = o.spec?.controller;
  if (!c) return [required('spec.controller')];
  if (old) { const e = immutable('spec.controller', c, old.spec?.controller); if (e.length) return e; }
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[^ ]+$/.test(c) ? [] : [invalid('spec.controller', c, 'must be a domain-prefixed path (such as "acme.io/foo")')];
}

export const INGRESS_CLASS: ResourceDef = {
  ...base, group: 'networking.k8s.io', kind: 'IngressClass', listKind: 'IngressClassList', plural: 'ingressclasses', singular: 'ingressclass', namespaced: false,
  validate: (o, _c, old) => validateIngressClass(o, old),
  printer: {
    columns: [NAME, ['Controller', 'string'], ['Parameters', 'string'], AGE],
    cells(o: IngressClass, now) {
      const p = o.spec?.parameters;
      const params = p ? `${p.apiGroup ? `${p.kind}.${p.apiGroup}` : p.kind}/${p.name}` : '<none>';
      return [o.metadata?.name, o.spec?.controller ?? '', params, objectAge(o, now)];
    },
  },
};
