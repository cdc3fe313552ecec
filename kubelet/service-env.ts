import type { Service } from 'kubernetes-types/core/v1';

/**
 * Service environment variables, as Kubernetes' kubelet sets them
 * (`pkg/kubelet/envvars` and `getServiceEnvVarMap`): for every Service with a
 * ClusterIP, `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT` (first port),
 * `<NAME>_SERVICE_PORT_<PORTNAME>` per named port, and the Docker-links
 * variables `<NAME>_PORT` (first port) and `<NAME>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]`.
 * NAME is the Service name upper-cased with `-` turned into `_`.
 */

/** The Services whose variables every container gets from `default`, even with enableServiceLinks: false. */
export const MASTER_SERVICES = new Set(['kubernetes']);

function envName(s: string): string {
  return s.replace(/-/g, '_').toUpperCase();
}

/** Whether the Service has a usable ClusterIP (not headless, not unset). */
export function hasClusterIP(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

/** The variables of the given Services, in order. */
export function serviceEnvVars(services: Service[]): [string, string][] {
  const out: [string, string][] = [];
  for (const svc of services) {
    if (!hasClusterIP(svc)) continue;
    const ip = svc.spec!.clusterIP!;
    const name = envName(svc.metadata?.name ?? '');
    const ports = svc.spec?.ports ?? [];
    if (ports.length === 0) continue;
    out.push([`${name}_SERVICE_HOST`, ip], [`${name}_SERVICE_PORT`, String(ports[0].port)]);
    for (const p of ports) if (p.name) out.push([`${name}_SERVICE_PORT_${envName(p.name)}`, String(p.port)]);
    ports.forEach((p, i) => {
      const proto = p.protocol || 'TCP';
      const url = `${proto.toLowerCase()}://${ip.includes(":") ? `[${ip}]` : ip}:${p.port}`; // net.JoinHostPort
      if (i === 0) out.push([`${name}_PORT`, url]);
      const prefix = `${name}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push([prefix, url], [`${prefix}_PROTO`, proto.toLowerCase()], [`${prefix}_PORT`, String(p.port)], [`${prefix}_ADDR`, ip]);
    });
  }
  return out;
}

/**
 * Which Services a pod in `namespace` gets variables for: the master services
 * of `default` always, and (when `enableServiceLinks` is not false) every
 * Service of the pod's namespace, a same-named one there winning over the
 * master one (as in kubelet). Sorted by name.
 */
export function servicesForPod(all: Service[], namespace: string, enableServiceLinks: boolean | undefined): Service[] {
  const byName = new Map<string, Service>();
  for (const svc of all) {
    if (!hasClusterIP(svc)) continue;
    const name = svc.metadata?.name ?? '';
    const ns = svc.metadata?.namespace ?? 'default';
    if (ns === 'default' && MASTER_SERVICES.has(name)) {
      if (!byName.has(name)) byName.set(name, svc);
    } else if (ns === namespace && enableServiceLinks !== false) byName.set(name, svc);
  }
  return [...byName.keys()].sort().map((n) => byName.get(n)!);
}
