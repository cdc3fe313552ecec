import type { Service, ServicePort } from 'kubernetes-types/core/v1';
import type { Writable } from '../../api-object';
import { inServiceRange, pickFree, pickServiceIP } from '../../allocators';
import { errors } from '../../errors';
import { type FieldError, PROTOCOLS, duplicate, invalid, notSupported, required, validPort } from '../shared/fields';
import { LABEL_MSG, isDns1123Label } from '../shared/object-meta';
import { formatLabels } from '../../selectors';
import { AGE, NAME, noneIfEmpty, objectAge } from '../shared/printers';
import type { Reservations, ResourceDef, StrategyContext } from '../types';
import { isObject } from '../../json';
import { withStatus } from '../shared/defs';

/**
 * Service (core/v1): definition, defaults, validation and storage strategy in one place, as
 * Kubernetes' pkg/registry/core/service does.
 *
 * Storage: every ClusterIP and NodePort a Service holds is a *reservation key* in the store —
 * `/registry/ranges/serviceips/<ip>` and `/registry/ranges/servicenodeports/<port>`, value
 * "<namespace>/<name>" — written in the same Txn as the Service with the compare
 * `create_revision == 0` on each new key, and deleted in the same Txn that deletes the Service
 * (or drops the port on update). So two apiservers racing on the same value cannot both win:
 * the loser's Txn fails, and it retries with another random free value (or answers 422 when
 * the user asked for that value). No in-memory state, no lock.
 */

const SERVICE_IP_PREFIX = '/registry/ranges/serviceips/';
const NODE_PORT_PREFIX = '/registry/ranges/servicenodeports/';

const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];

function defaultService(o: Service): void {
  const s = (o.spec ??= {});
  s.type ??= 'ClusterIP';
  s.sessionAffinity ??= 'None';
  if (s.type !== 'ExternalName') {
    s.ipFamilies ??= ['IPv4'];
    s.ipFamilyPolicy ??= 'SingleStack';
    s.internalTrafficPolicy ??= 'Cluster';
  }
  if (s.type === 'NodePort' || s.type === 'LoadBalancer') s.externalTrafficPolicy ??= 'Cluster';
  if (s.type === 'LoadBalancer') s.allocateLoadBalancerNodePorts ??= true;
  for (const p of Array.isArray(s.ports) ? s.ports : []) {
    if (!isObject(p)) continue;
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
}

export function validateService(svc: Service, nodePortRange: [number, number]): FieldError[] {
  const errs: FieldError[] = [];
  const spec = svc.spec;
  if (!isObject(spec)) return [required('spec')];
  const type: unknown = spec.type ?? 'ClusterIP';
  if (!SERVICE_TYPES.includes(type as string)) errs.push(notSupported('spec.type', type, SERVICE_TYPES));
  const ports: unknown = spec.ports ?? [];
  if (!Array.isArray(ports)) return [invalid('spec.ports', ports, 'must be a list')];
  if (ports.length === 0 && type !== 'ExternalName' && spec.clusterIP !== 'None') errs.push(required('spec.ports'));
  if (type === 'ExternalName' && !spec.externalName) errs.push(required('spec.externalName'));
  const names = new Set<string>();
  ports.forEach((raw: unknown, i: number) => {
    const p = isObject(raw) ? raw : {};
    const f = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) errs.push(required(`${f}.name`));
    if (p.name) {
      if (typeof p.name !== 'string' || !isDns1123Label(p.name)) errs.push(invalid(`${f}.name`, p.name, LABEL_MSG));
      if (names.has(p.name as string)) errs.push(duplicate(`${f}.name`, p.name));
      names.add(p.name as string);
    }
    if (!validPort(p.port)) errs.push(invalid(`${f}.port`, p.port, 'must be between 1 and 65535, inclusive'));
    if (p.protocol !== undefined && !PROTOCOLS.includes(p.protocol as string)) errs.push(notSupported(`${f}.protocol`, p.protocol, PROTOCOLS));
    const tp = p.targetPort;
    if (typeof tp === 'number' && !validPort(tp)) errs.push(invalid(`${f}.targetPort`, tp, 'must be between 1 and 65535, inclusive'));
    if (typeof tp === 'string' && !(tp.length <= 15 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(tp) && /[a-z]/.test(tp))) errs.push(invalid(`${f}.targetPort`, tp, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'));
    const np = p.nodePort;
    if (np !== undefined && np !== 0) {
      if (type !== 'NodePort' && type !== 'LoadBalancer') errs.push(invalid(`${f}.nodePort`, np, 'may not be used when `type` is \'ClusterIP\''));
      else if (!(typeof np === 'number' && Number.isInteger(np) && np >= nodePortRange[0] && np <= nodePortRange[1])) errs.push(invalid(`${f}.nodePort`, np, `provided port is not in the valid range. The range of valid ports is ${nodePortRange[0]}-${nodePortRange[1]}`));
    }
  });
  const hc: unknown = spec.healthCheckNodePort;
  if (hc !== undefined && hc !== 0 && type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' && !(typeof hc === 'number' && Number.isInteger(hc) && hc >= nodePortRange[0] && hc <= nodePortRange[1])) {
    errs.push(invalid('spec.healthCheckNodePort', hc, `provided port is not in the valid range. The range of valid ports is ${nodePortRange[0]}-${nodePortRange[1]}`));
  }
  if (spec.selector !== undefined && spec.selector !== null && !isObject(spec.selector)) errs.push(invalid('spec.selector', spec.selector, 'must be a map'));
  if (spec.sessionAffinity !== undefined && !['None', 'ClientIP'].includes(spec.sessionAffinity as string)) errs.push(notSupported('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']));
  return errs;
}

/** Reservation keys a Service holds. */
function serviceReservations(svc: Service | undefined): string[] {
  const keys: string[] = [];
  const ip = svc?.spec?.clusterIP;
  if (ip && ip !== 'None') keys.push(SERVICE_IP_PREFIX + ip);
  const ports = new Set<number>();
  for (const p of svc?.spec?.ports ?? []) if (Number.isInteger(p?.nodePort) && (p.nodePort as number) > 0) ports.add(p.nodePort as number);
  const hc = svc?.spec?.healthCheckNodePort;
  if (Number.isInteger(hc) && (hc as number) > 0) ports.add(hc as number);
  for (const p of ports) keys.push(NODE_PORT_PREFIX + p);
  return keys;
}

async function usedNodePorts(ctx: StrategyContext): Promise<Set<number>> {
  return new Set((await ctx.listKeys(NODE_PORT_PREFIX)).map((k) => Number(k.slice(NODE_PORT_PREFIX.length))));
}

/**
 * Fills in a Service's ClusterIP and NodePorts (keeping `old`'s); returns the reservation keys
 * the user asked for explicitly (a taken one is then a 422, not a retry).
 */
async function allocateService(svc: Service, old: Service | undefined, ctx: StrategyContext): Promise<Set<string>> {
  const specified = new Set<string>();
  const spec = svc.spec ?? {};
  const name = svc.metadata?.name ?? '';
  const oldKeys = new Set(old ? serviceReservations(old) : []);
  const bad = (field: string, value: unknown, msg: string) =>
    errors.invalid('Service', '', name, [{ field, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${msg}` }]);
  if (spec.type === 'ExternalName') {
    delete spec.clusterIP;
    delete spec.clusterIPs;
  } else {
    const oldIP = old?.spec?.clusterIP;
    if (oldIP && (spec.clusterIP === undefined || spec.clusterIP === '')) spec.clusterIP = oldIP;
    if (oldIP && old?.spec?.type !== 'ExternalName' && spec.clusterIP !== oldIP) throw bad('spec.clusterIPs[0]', spec.clusterIP, 'may not change once set');
    if (!spec.clusterIP) {
      spec.clusterIP = pickServiceIP(ctx.serviceCidr, []);
      if (!spec.clusterIP) throw errors.internal('no free ClusterIP');
    } else if (spec.clusterIP !== 'None') {
      if (!inServiceRange(ctx.serviceCidr, spec.clusterIP)) throw bad('spec.clusterIPs', [spec.clusterIP], `failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range`);
      if (!oldKeys.has(SERVICE_IP_PREFIX + spec.clusterIP)) specified.add(SERVICE_IP_PREFIX + spec.clusterIP);
    }
    spec.clusterIPs = [spec.clusterIP];
  }
  const ports: ServicePort[] = Array.isArray(spec.ports) ? spec.ports : [];
  // Fields that only mean something for some types are dropped for the others, as Kubernetes' dropTypeDependentFields does.
  if (spec.type !== 'LoadBalancer') delete spec.allocateLoadBalancerNodePorts;
  const wantsHealthCheck = spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
  if (!wantsHealthCheck) delete spec.healthCheckNodePort;
  let used: Set<number> | undefined;
  const freeNodePort = async (): Promise<number> => {
    if (!used) {
      used = await usedNodePorts(ctx);
      for (const q of ports) if (q.nodePort) used.add(q.nodePort);
      if (spec.healthCheckNodePort) used.add(spec.healthCheckNodePort);
    }
    const [lo, hi] = ctx.nodePortRange;
    const v = pickFree(lo, hi, used);
    if (v === undefined) throw errors.internal('no free NodePort');
    used.add(v);
    return v;
  };
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    // allocateLoadBalancerNodePorts false: no new NodePorts (ones asked for or held already stay).
    const allocate = spec.type === 'NodePort' || spec.allocateLoadBalancerNodePorts !== false;
    for (const p of ports) {
      if (!p.nodePort) {
        const prev = (old?.spec?.ports ?? []).find((q) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP') && q.nodePort);
        if (prev) { p.nodePort = prev.nodePort; continue; }
        if (allocate) p.nodePort = await freeNodePort();
      } else if (!oldKeys.has(NODE_PORT_PREFIX + p.nodePort)) specified.add(NODE_PORT_PREFIX + p.nodePort);
    }
  } else {
    for (const p of ports) delete p.nodePort;
  }
  // externalTrafficPolicy Local on a LoadBalancer: a healthCheckNodePort the proxy serves (kept once allocated).
  if (wantsHealthCheck) {
    if (!spec.healthCheckNodePort && old?.spec?.healthCheckNodePort) spec.healthCheckNodePort = old.spec.healthCheckNodePort;
    if (!spec.healthCheckNodePort) spec.healthCheckNodePort = await freeNodePort();
    else if (!oldKeys.has(NODE_PORT_PREFIX + spec.healthCheckNodePort)) specified.add(NODE_PORT_PREFIX + spec.healthCheckNodePort);
  }
  return specified;
}

/** The 422 for a ClusterIP or NodePort another Service holds. */
function reservationConflict(svc: Service, key: string) {
  const name = svc.metadata?.name ?? '';
  if (key.startsWith(SERVICE_IP_PREFIX)) {
    const ip = key.slice(SERVICE_IP_PREFIX.length);
    return errors.invalid('Service', '', name, [{ field: 'spec.clusterIPs', reason: 'FieldValueInvalid', message: `Invalid value: ["${ip}"]: failed to allocate IP ${ip}: provided IP is already allocated` }]);
  }
  const port = key.slice(NODE_PORT_PREFIX.length);
  if (String(svc.spec?.healthCheckNodePort) === port) return errors.invalid('Service', '', name, [{ field: 'spec.healthCheckNodePort', reason: 'FieldValueInvalid', message: `Invalid value: ${port}: provided port is already allocated` }]);
  const idx = (svc.spec?.ports ?? []).findIndex((p) => String(p.nodePort) === port);
  return errors.invalid('Service', '', name, [{ field: `spec.ports[${Math.max(0, idx)}].nodePort`, reason: 'FieldValueInvalid', message: `Invalid value: ${port}: provided port is already allocated` }]);
}

const serviceIPsAndPorts: Reservations = { allocate: allocateService, keys: serviceReservations, conflict: reservationConflict };

function serviceExternalIP(svc: Service): string {
  const spec = svc.spec ?? {};
  const ext: string[] = spec.externalIPs ?? [];
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP': case 'NodePort': return ext.length ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname).filter(Boolean);
      const all = [...ips, ...ext];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName': return spec.externalName ?? '<none>';
    default: return '<unknown>';
  }
}

function servicePorts(svc: Service): string {
  const ports = svc.spec?.ports ?? [];
  if (!ports.length) return '<none>';
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

export const SERVICE: ResourceDef = {
  ...withStatus, group: '', kind: 'Service', listKind: 'ServiceList', plural: 'services', singular: 'service', shortNames: ['svc'], categories: ['all'],
  nameRule: 'dns1035', fieldLabels: ['spec.clusterIP', 'spec.type'],
  defaults: defaultService,
  prepareForCreate(o: Writable<Service>) { o.status = { loadBalancer: {} }; },
  validate: (o, ctx) => validateService(o, ctx.nodePortRange),
  strategy: { reservations: serviceIPsAndPorts },
  printer: {
    columns: [NAME, ['Type', 'string'], ['Cluster-IP', 'string'], ['External-IP', 'string'], ['Port(s)', 'string'], AGE, ['Selector', 'string', 1]],
    cells(s: Service, now) {
      return [s.metadata?.name, s.spec?.type ?? 'ClusterIP', noneIfEmpty(s.spec?.clusterIP), serviceExternalIP(s), servicePorts(s), objectAge(s, now), formatLabels(s.spec?.selector)];
    },
  },
};
