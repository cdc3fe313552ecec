import type { HTTPIngressPath, Ingress, IngressStatus } from 'kubernetes-types/networking/v1';
import { withStatus } from '../shared/defs';
import { type FieldError, invalid, notSupported, required, validPort } from '../shared/fields';
import { isObject, objectOr } from '../../json';
import { isDns1123Subdomain } from '../shared/object-meta';
import { AGE, NAME, objectAge, orNone } from '../shared/printers';
import type { ResourceDef } from '../types';

/** Ingress (networking.k8s.io/v1). */

const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'];

function validateBackend(b: unknown, field: string): FieldError[] {
  if (!isObject(b)) return [required(field)];
  if (b.service && b.resource) return [{ field, reason: 'FieldValueForbidden', message: 'Forbidden: cannot set both resource and service backends' }];
  if (b.service) {
    const errs: FieldError[] = [];
    const svc = objectOr(b.service);
    if (!svc.name) errs.push(required(`${field}.service.name`));
    const p = svc.port;
    if (!isObject(p) || (p.name === undefined && p.number === undefined)) errs.push(required(`${field}.service.port`));
    else if (p.number !== undefined && !validPort(p.number)) errs.push(invalid(`${field}.service.port.number`, p.number, 'must be between 1 and 65535, inclusive'));
    return errs;
  }
  if (b.resource) return objectOr(b.resource).kind && objectOr(b.resource).name ? [] : [required(`${field}.resource`)];
  return [required(field)];
}

export function validateIngress(o: Ingress): FieldError[] {
  const s = o.spec;
  if (!isObject(s)) return [required('spec')];
  const errs: FieldError[] = [];
  if (s.defaultBackend !== undefined) errs.push(...validateBackend(s.defaultBackend, 'spec.defaultBackend'));
  if (!s.defaultBackend && !(Array.isArray(s.rules) && s.rules.length)) errs.push({ field: 'spec.rules', reason: 'FieldValueRequired', message: 'Required value: either `defaultBackend` or `rules` must be specified' });
  (Array.isArray(s.rules) ? s.rules : []).forEach((r, i) => {
    if (r?.host !== undefined && r.host !== '' && !isDns1123Subdomain(String(r.host).replace(/^\*\./, 'x.'))) errs.push(invalid(`spec.rules[${i}].host`, r.host, 'a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\''));
    (r?.http?.paths ?? []).forEach((p: HTTPIngressPath, j: number) => {
      const f = `spec.rules[${i}].http.paths[${j}]`;
      if (!p?.pathType) errs.push(required(`${f}.pathType`));
      else if (!PATH_TYPES.includes(p.pathType)) errs.push(notSupported(`${f}.pathType`, p.pathType, PATH_TYPES));
      if (p?.pathType !== 'ImplementationSpecific' && p?.path !== undefined && !String(p.path).startsWith('/')) errs.push(invalid(`${f}.path`, p.path, "must be an absolute path"));
      errs.push(...validateBackend(p?.backend, `${f}.backend`));
    });
    if (r?.http && !(Array.isArray(r.http.paths) && r.http.paths.length)) errs.push(required(`spec.rules[${i}].http.paths`));
  });
  return errs;
}

function ingressHosts(ing: Ingress): string {
  const hosts = (ing.spec?.rules ?? []).map((r) => r?.host).filter(Boolean);
  if (!hosts.length) return '*';
  return hosts.length > 4 ? `${hosts.slice(0, 4).join(',')} + ${hosts.length - 4} more...` : hosts.join(',');
}

function lbAddresses(st: IngressStatus | undefined): string {
  return (st?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname).filter(Boolean).join(',');
}

export const INGRESS: ResourceDef = {
  ...withStatus, group: 'networking.k8s.io', kind: 'Ingress', listKind: 'IngressList', plural: 'ingresses', singular: 'ingress', shortNames: ['ing'],
  prepareForCreate(o: Ingress) { o.status = { loadBalancer: {} }; },
  validate: (o) => validateIngress(o),
  printer: {
    columns: [NAME, ['Class', 'string'], ['Hosts', 'string'], ['Address', 'string'], ['Ports', 'string'], AGE],
    cells(o: Ingress, now) {
      const cls = o.spec?.ingressClassName ?? o.metadata?.annotations?.['kubernetes.io/ingress.class'];
      return [o.metadata?.name, orNone(cls), ingressHosts(o), lbAddresses(o.status), (o.spec?.tls ?? []).length ? '80, 443' : '80', objectAge(o, now)];
    },
  },
};
