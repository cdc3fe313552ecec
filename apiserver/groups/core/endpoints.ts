import type { Endpoints } from 'kubernetes-types/core/v1';
import { isIP } from 'node:net';
import { withStatus } from '../shared/defs';
import { type FieldError, invalid, required, validPort } from '../shared/fields';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** Endpoints (core/v1): PUT creates a missing object, as in Kubernetes. */

export function validateEndpoints(ep: Endpoints): FieldError[] {
  const errs: FieldError[] = [];
  if (ep.subsets !== undefined && ep.subsets !== null && !Array.isArray(ep.subsets)) return [invalid('subsets', ep.subsets, 'must be a list')];
  (ep.subsets ?? []).forEach((ss, i) => {
    for (const field of ['addresses', 'notReadyAddresses'] as const) {
      const list = ss?.[field] ?? [];
      if (!Array.isArray(list)) { errs.push(invalid(`subsets[${i}].${field}`, list, 'must be a list')); continue; }
      list.forEach((a, j) => {
        if (a?.ip === undefined || a?.ip === '') errs.push(required(`subsets[${i}].${field}[${j}].ip`));
        else if (typeof a.ip !== 'string' || !isIP(a.ip)) errs.push(invalid(`subsets[${i}].${field}[${j}].ip`, a.ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
      });
    }
    if (ss?.ports !== undefined && ss.ports !== null && !Array.isArray(ss.ports)) { errs.push(invalid(`subsets[${i}].ports`, ss.ports, 'must be a list')); return; }
    (ss.ports ?? []).forEach((p, j) => { if (!validPort(p?.port)) errs.push(invalid(`subsets[${i}].ports[${j}].port`, p?.port, 'must be between 1 and 65535, inclusive')); });
  });
  return errs;
}

function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (!subsets.length) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  const add = (s: string) => { if (list.length === max) more = true; else list.push(s); };
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    if (!ports.length) {
      count += addrs.length;
      for (const a of addrs) add(a.ip);
    } else {
      for (const p of ports) {
        count += addrs.length;
        for (const a of addrs) add(a.ip.includes(':') ? `[${a.ip}]:${p.port}` : `${a.ip}:${p.port}`);
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret || '<none>';
}

export const ENDPOINTS: ResourceDef = {
  ...withStatus, group: '', kind: 'Endpoints', listKind: 'EndpointsList', plural: 'endpoints', singular: 'endpoints', shortNames: ['ep'],
  namespaced: true, hasStatus: false, statusOnCreate: 'keep', allowCreateOnUpdate: true,
  defaults(o: Endpoints) { for (const ss of o.subsets ?? []) for (const p of ss?.ports ?? []) if (p && typeof p === 'object') p.protocol ??= 'TCP'; },
  validate: (o) => validateEndpoints(o),
  printer: {
    columns: [NAME, ['Endpoints', 'string'], AGE],
    cells: (e: Endpoints, now) => [e.metadata?.name, formatEndpoints(e), objectAge(e, now)],
  },
};
