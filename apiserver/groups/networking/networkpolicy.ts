import type { NetworkPolicy, NetworkPolicySpec } from 'kubernetes-types/networking/v1';
import { base } from '../shared/defs';
import { type FieldError, notSupported, required } from '../shared/fields';
import { isObject } from '../../json';
import { AGE, NAME, objectAge, selectorOf } from '../shared/printers';
import type { ResourceDef } from '../types';

/** NetworkPolicy (networking.k8s.io/v1). */

export function validateNetworkPolicy(o: NetworkPolicy): FieldError[] {
  const s = o.spec;
  if (!isObject(s)) return [required('spec')];
  const errs: FieldError[] = [];
  if (!isObject(s.podSelector)) errs.push(required('spec.podSelector'));
  for (const [i, t] of (Array.isArray(s.policyTypes) ? s.policyTypes : []).entries()) if (!['Ingress', 'Egress'].includes(t)) errs.push(notSupported(`spec.policyTypes[${i}]`, t, ['Ingress', 'Egress']));
  return errs;
}

export const NETWORK_POLICY: ResourceDef = {
  ...base, group: 'networking.k8s.io', kind: 'NetworkPolicy', listKind: 'NetworkPolicyList', plural: 'networkpolicies', singular: 'networkpolicy', shortNames: ['netpol'],
  defaults(o: NetworkPolicy) {
    const s = (o.spec ??= {} as NetworkPolicySpec); // a missing spec becomes {}, its podSelector {} below
    s.podSelector ??= {};
    if (!Array.isArray(s.policyTypes) || s.policyTypes.length === 0) s.policyTypes = ['Ingress', ...(Array.isArray(s.egress) && s.egress.length ? ['Egress'] : [])];
    for (const r of [...(s.ingress ?? []), ...(s.egress ?? [])]) for (const p of r?.ports ?? []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
  },
  validate: (o) => validateNetworkPolicy(o),
  printer: { columns: [NAME, ['Pod-Selector', 'string'], AGE], cells: (o: NetworkPolicy, now) => [o.metadata?.name, selectorOf(o.spec?.podSelector), objectAge(o, now)] },
};
