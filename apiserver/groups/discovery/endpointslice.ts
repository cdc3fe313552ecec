import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { base } from '../shared/defs';
import { type FieldError, immutable, invalid, notSupported, required } from '../shared/fields';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** EndpointSlice (discovery.k8s.io/v1). */

export function validateEndpointSlice(o: EndpointSlice, old?: EndpointSlice): FieldError[] {
  const errs: FieldError[] = old ? immutable('addressType', o.addressType, old.addressType) : [];
  const types = ['IPv4', 'IPv6', 'FQDN'];
  if (!o.addressType) errs.push(required('addressType'));
  else if (!types.includes(o.addressType)) errs.push(notSupported('addressType', o.addressType, types));
  (Array.isArray(o.endpoints) ? o.endpoints : []).forEach((e, i) => {
    if (!Array.isArray(e?.addresses) || e.addresses.length === 0) errs.push(required(`endpoints[${i}].addresses`));
  });
  (Array.isArray(o.ports) ? o.ports : []).forEach((p, i) => {
    if (p?.port !== undefined && !(Number.isInteger(p.port) && p.port >= 0 && p.port <= 65535)) errs.push(invalid(`ports[${i}].port`, p.port, 'must be between 0 and 65535, inclusive'));
  });
  return errs;
}

function sliceEndpoints(es: EndpointSlice): string {
  const addrs: string[] = (es.endpoints ?? []).flatMap((e) => e?.addresses ?? []);
  if (!addrs.length) return '<unset>';
  return addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
}

export const ENDPOINT_SLICE: ResourceDef = {
  ...base, group: 'discovery.k8s.io', kind: 'EndpointSlice', listKind: 'EndpointSliceList', plural: 'endpointslices', singular: 'endpointslice',
  defaults(obj) { const o = obj as EndpointSlice; for (const p of o.ports ?? []) if (p && typeof p === 'object') { p.protocol ??= 'TCP'; p.name ??= ''; } },
  validate: (o, _c, old) => validateEndpointSlice(o as EndpointSlice, old as EndpointSlice | undefined),
  printer: {
    columns: [NAME, ['AddressType', 'string'], ['Ports', 'string'], ['Endpoints', 'string'], AGE],
    cells(obj, now) {
      const o = obj as EndpointSlice;
      const ports = (o.ports ?? []).map((p) => p?.port).filter((p: unknown) => p !== undefined && p !== null);
      return [o.metadata?.name, o.addressType ?? '', ports.length ? ports.join(',') : '<unset>', sliceEndpoints(o), objectAge(o, now)];
    },
  },
};
