import type { Ingress, IngressBackend } from 'kubernetes-types/networking/v1';

/**
 * The Ingress routing core, pure: the Ingresses this proxy serves become one
 * table (all Ingresses merged, as ingress-nginx does), and a request's host and
 * path pick a backend from it. No sockets, no clock.
 *
 * Rules, in the order they apply:
 * - Host: a rule's exact host beats a `*.` wildcard host, which matches one
 *   label only (`*.foo.com` matches `bar.foo.com`, not `foo.com` or
 *   `a.bar.foo.com`); requests whose host matches neither use the rules
 *   without a host. The chosen host's paths are the only ones tried (there is
 *   no fall-through to a wildcard or to the host-less rules).
 * - Path: `Exact` is the whole path; `Prefix` matches by whole path elements
 *   (`/v1` matches `/v1` and `/v1/x`, not `/v11`; a trailing slash in the rule
 *   is ignored); `ImplementationSpecific` is treated as `Prefix`. The longest
 *   rule path wins; on equal length `Exact` beats `Prefix`.
 * - Conflicts (the same host, path and type in two places): the oldest
 *   Ingress wins (creationTimestamp, then namespace/name), then the first
 *   rule within an Ingress.
 * - Nothing matched: the `defaultBackend` of the oldest Ingress that has one;
 *   none: no route (the server answers 404).
 */

/** A Service port an Ingress routes to, in the Ingress's namespace. */
export interface BackendRef {
  namespace: string;
  service: string;
  /** The Service port, by number or by name (exactly one is set). */
  port: { number?: number; name?: string };
}

export type PathType = 'Exact' | 'Prefix';

export interface Route {
  /** The rule's path; for Prefix without a trailing slash ("/" stays "/"). */
  path: string;
  pathType: PathType;
  backend: BackendRef;
  /** `namespace/name` of the Ingress the route comes from. */
  ingress: string;
}

/** Values by host: exact names, and `*.` wildcards keyed by the suffix after the first label. */
export interface HostMap<T> {
  exact: Map<string, T>;
  wildcard: Map<string, T>;
}

export interface RouteTable {
  /** Each host's routes, best first (longest path, Exact before Prefix, oldest first). */
  hosts: HostMap<Route[]>;
  /** Routes of rules without a host. */
  anyHost: Route[];
  defaultBackend?: { backend: BackendRef; ingress: string };
}

export interface RouteMatch {
  backend: BackendRef;
  ingress: string;
}

export const ingressKey = (ing: Ingress) => `${ing.metadata?.namespace ?? 'default'}/${ing.metadata?.name ?? ''}`;

/** Oldest first: creationTimestamp, then namespace/name. The order conflicts are decided in. */
export function byAge(a: Ingress, b: Ingress): number {
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = ingressKey(a);
  const kb = ingressKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** A request's Host header as a lookup key: lower case, without port or trailing dot. */
export function normalizeHost(host: string | undefined): string {
  if (!host) return '';
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.indexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** The path of a request target (`/a/b?x=1` → `/a/b`); an absolute URL's path; "/" when empty. */
export function requestPath(url: string | undefined): string {
  let u = url ?? '/';
  if (!u.startsWith('/')) {
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(u);
    u = m ? u.slice(m[0].length) : u;
  }
  const q = u.search(/[?#]/);
  if (q >= 0) u = u.slice(0, q);
  return u.startsWith('/') ? u : `/${u}`;
}

export function hostLookup<T>(map: HostMap<T>, host: string): T | undefined {
  const exact = map.exact.get(host);
  if (exact !== undefined) return exact;
  const dot = host.indexOf('.');
  if (dot <= 0) return undefined;
  return map.wildcard.get(host.slice(dot));
}

/** Puts `host` (exact or `*.` wildcard) into a host map, creating its value with `make` the first time. */
export function hostEntry<T>(map: HostMap<T>, host: string, make: () => T): T {
  const wild = host.startsWith('*.');
  const m = wild ? map.wildcard : map.exact;
  const k = wild ? host.slice(1) : host;
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}

export function pathMatches(route: Pick<Route, 'path' | 'pathType'>, path: string): boolean {
  if (route.pathType === 'Exact') return path === route.path;
  if (route.path === '/') return true;
  return path === route.path || (path.startsWith(route.path) && path[route.path.length] === '/');
}

function backendRef(namespace: string, b: IngressBackend | undefined): BackendRef | undefined {
  const svc = b?.service;
  if (!svc?.name) return undefined;
  const port = svc.port ?? {};
  if (typeof port.number === 'number' && port.number > 0) return { namespace, service: svc.name, port: { number: port.number } };
  if (typeof port.name === 'string' && port.name) return { namespace, service: svc.name, port: { name: port.name } };
  return undefined;
}

function normalizeRoutePath(path: string | undefined, pathType: PathType): string {
  let p = path && path.startsWith('/') ? path : `/${path ?? ''}`;
  if (pathType === 'Prefix') p = p.replace(/\/+$/, '') || '/';
  return p;
}

/** Best first: longer path, then Exact before Prefix; a stable sort keeps insertion (age) order otherwise. */
function compareRoutes(a: Route, b: Route): number {
  if (a.path.length !== b.path.length) return b.path.length - a.path.length;
  if (a.pathType !== b.pathType) return a.pathType === 'Exact' ? -1 : 1;
  return 0;
}

/**
 * Merges the Ingresses (already filtered to the ones this proxy serves) into
 * one table. Rules naming a `resource` backend instead of a Service are
 * skipped. `conflicts` lists routes dropped because an older one has the same
 * host, path and type.
 */
export function buildRouteTable(ingresses: Iterable<Ingress>): { table: RouteTable; conflicts: { host: string; path: string; kept: string; dropped: string }[] } {
  const table: RouteTable = { hosts: { exact: new Map(), wildcard: new Map() }, anyHost: [] };
  const conflicts: { host: string; path: string; kept: string; dropped: string }[] = [];
  const seen = new Map<string, string>();
  for (const ing of [...ingresses].sort(byAge)) {
    const key = ingressKey(ing);
    const ns = ing.metadata?.namespace ?? 'default';
    const def = backendRef(ns, ing.spec?.defaultBackend);
    if (def && !table.defaultBackend) table.defaultBackend = { backend: def, ingress: key };
    for (const rule of ing.spec?.rules ?? []) {
      const host = (rule?.host ?? '').toLowerCase();
      for (const p of rule?.http?.paths ?? []) {
        const backend = backendRef(ns, p?.backend);
        if (!backend) continue;
        const pathType: PathType = p.pathType === 'Exact' ? 'Exact' : 'Prefix';
        const path = normalizeRoutePath(p.path, pathType);
        const id = `${host}\u0000${pathType}\u0000${path}`;
        const kept = seen.get(id);
        if (kept !== undefined) {
          conflicts.push({ host, path, kept, dropped: key });
          continue;
        }
        seen.set(id, key);
        const list = host ? hostEntry(table.hosts, host, () => [] as Route[]) : table.anyHost;
        list.push({ path, pathType, backend, ingress: key });
      }
    }
  }
  for (const list of [...table.hosts.exact.values(), ...table.hosts.wildcard.values(), table.anyHost]) list.sort(compareRoutes);
  return { table, conflicts };
}

/** The backend for a request's Host header and target, or undefined (404). */
export function routeRequest(table: RouteTable, hostHeader: string | undefined, url: string | undefined): RouteMatch | undefined {
  const routes = hostLookup(table.hosts, normalizeHost(hostHeader)) ?? table.anyHost;
  const path = requestPath(url);
  for (const r of routes) if (pathMatches(r, path)) return { backend: r.backend, ingress: r.ingress };
  return table.defaultBackend;
}
