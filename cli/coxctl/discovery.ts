import { ApiError, type ApiClient } from '../../lib/client';
import type { ResourceRef } from '../../lib/resources';

/** One entry of a legacy `APIResourceList` (`GET /api/v1`, `GET /apis/<g>/<v>`). */
export interface APIResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs?: string[];
  shortNames?: string[];
  categories?: string[];
}

/** A resource type as coxctl knows it: where it lives plus the names users may call it by. */
export interface ResourceInfo extends ResourceRef {
  singular: string;
  shortNames: string[];
  verbs: string[];
  categories: string[];
}

export interface GroupVersionResources {
  group: string;
  version: string;
  resources: APIResource[];
}

/** Flattens resource lists into ResourceInfos, dropping subresources (`pods/log`). Order is kept: it is the match priority. */
export function indexResources(lists: GroupVersionResources[]): ResourceInfo[] {
  const out: ResourceInfo[] = [];
  for (const gv of lists) {
    for (const r of gv.resources) {
      if (!r.name || r.name.includes('/')) continue;
      out.push({
        group: gv.group,
        version: gv.version,
        resource: r.name,
        kind: r.kind,
        namespaced: r.namespaced,
        singular: r.singularName || r.kind.toLowerCase(),
        shortNames: r.shortNames ?? [],
        verbs: r.verbs ?? [],
        categories: r.categories ?? [],
      });
    }
  }
  return out;
}

/**
 * Resolves what a user typed (`po`, `pods`, `pod`, `Pod`, `deployments.apps`,
 * `deploy.v1.apps`) to a resource type, like kubectl's RESTMapper: plural,
 * singular, short name, then kind, case-insensitively; earlier entries (the
 * core group first) win ties. A `.group` or `.version.group` suffix narrows
 * the search.
 */
export function matchResource(all: ResourceInfo[], typed: string): ResourceInfo | undefined {
  const arg = typed.toLowerCase();
  const byName = (list: ResourceInfo[], name: string): ResourceInfo | undefined =>
    list.find((r) => r.resource === name) ??
    list.find((r) => r.singular === name) ??
    list.find((r) => r.shortNames.some((s) => s.toLowerCase() === name)) ??
    list.find((r) => r.kind.toLowerCase() === name);
  const direct = byName(all, arg);
  if (direct) return direct;
  const dot = arg.indexOf('.');
  if (dot <= 0) return undefined;
  const name = arg.slice(0, dot);
  const rest = arg.slice(dot + 1);
  const inGroup = all.filter((r) => r.group === rest);
  const found = byName(inGroup, name);
  if (found) return found;
  const vdot = rest.indexOf('.');
  if (vdot > 0) {
    const version = rest.slice(0, vdot);
    const group = rest.slice(vdot + 1);
    return byName(
      all.filter((r) => r.group === group && r.version === version),
      name,
    );
  }
  // `pods.v1` style: a core version suffix.
  return byName(
    all.filter((r) => r.group === '' && r.version === rest),
    name,
  );
}

/** `deployment.apps` / `pod`: how kubectl names a type in `kind/name` output. */
export function typeName(info: Pick<ResourceInfo, 'kind' | 'group'>): string {
  return info.group ? `${info.kind.toLowerCase()}.${info.group}` : info.kind.toLowerCase();
}

/** `deployments.apps` / `pods`: how the apiserver names a type in messages. */
export function qualifiedResource(info: Pick<ResourceInfo, 'resource' | 'group'>): string {
  return info.group ? `${info.resource}.${info.group}` : info.resource;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export class UnknownResourceError extends Error {}

/** The media type of aggregated discovery (apidiscovery.k8s.io/v2), as kubectl asks for it. */
const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

interface APIGroupList {
  kind?: string;
  groups?: { name: string; versions?: { groupVersion: string; version: string }[]; preferredVersion?: { version: string } }[];
  // Aggregated discovery (a server answering v2 to plain JSON): parsed too.
  items?: AggregatedGroup[];
}

interface AggregatedGroup {
  metadata?: { name?: string };
  versions?: {
    version: string;
    freshness?: string;
    resources?: { resource: string; singularResource?: string; scope?: string; responseKind?: { kind?: string }; verbs?: string[]; shortNames?: string[]; categories?: string[] }[];
  }[];
}

function fromAggregated(groups: AggregatedGroup[]): GroupVersionResources[] {
  const out: GroupVersionResources[] = [];
  for (const g of groups) {
    const v = g.versions?.find((x) => x.freshness !== 'Stale');
    if (!v) continue;
    out.push({
      group: g.metadata?.name ?? '',
      version: v.version,
      resources: (v.resources ?? [])
        .filter((r) => r.responseKind?.kind)
        .map((r) => ({
          name: r.resource,
          singularName: r.singularResource,
          namespaced: r.scope === 'Namespaced',
          kind: r.responseKind!.kind!,
          verbs: r.verbs,
          shortNames: r.shortNames,
          categories: r.categories,
        })),
    });
  }
  return out;
}

/**
 * Discovery for one coxctl run: fetched at most once (lazily), the core group
 * first, then each group's preferred version, like kubectl's legacy path.
 */
export class Discovery {
  private all?: Promise<ResourceInfo[]>;
  private readonly byGroupVersion = new Map<string, Promise<ResourceInfo[]>>();

  constructor(private readonly client: ApiClient) {}

  private fetchGroupVersion(group: string, version: string): Promise<ResourceInfo[]> {
    const key = `${group}/${version}`;
    let p = this.byGroupVersion.get(key);
    if (!p) {
      const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
      p = this.client
        .request<{ resources?: APIResource[] }>('GET', path, { accept: 'application/json' })
        .then((l) => indexResources([{ group, version, resources: l?.resources ?? [] }]));
      this.byGroupVersion.set(key, p);
    }
    return p;
  }

  /** Every resource type the server serves, in match-priority order. */
  resources(): Promise<ResourceInfo[]> {
    if (!this.all) this.all = this.load();
    return this.all;
  }

  private async load(): Promise<ResourceInfo[]> {
    // Aggregated discovery first (two answers with every group's resources, one after the other
    // on one connection), else the legacy documents (one request per group version).
    const accept = `${AGGREGATED},application/json`;
    const apis = await this.client.request<APIGroupList>('GET', '/apis', { accept });
    const core = await this.client.request<{ versions?: string[] }>('GET', '/api', { accept }).catch(() => ({ versions: ['v1'] }));
    if (apis?.kind === 'APIGroupDiscoveryList' && Array.isArray(apis.items)) {
      const coreAgg = core as unknown as { kind?: string; items?: AggregatedGroup[] };
      const lists = coreAgg?.kind === 'APIGroupDiscoveryList' ? fromAggregated(coreAgg.items ?? []) : [];
      return indexResources([...lists, ...fromAggregated(apis.items)]);
    }
    const coreVersion = core?.versions?.[0] ?? 'v1';
    const parts = await Promise.all([
      this.fetchGroupVersion('', coreVersion),
      ...(apis?.groups ?? []).map((g) => {
        const version = g.preferredVersion?.version ?? g.versions?.[0]?.version;
        return version ? this.fetchGroupVersion(g.name, version).catch(() => [] as ResourceInfo[]) : Promise.resolve([] as ResourceInfo[]);
      }),
    ]);
    return parts.flat();
  }

  /** Resolves a typed resource name; throws UnknownResourceError with kubectl's message. */
  async resolve(typed: string): Promise<ResourceInfo> {
    const found = matchResource(await this.resources(), typed);
    if (!found) throw new UnknownResourceError(`the server doesn't have a resource type "${typed}"`);
    return found;
  }

  /** The resource type of a manifest's apiVersion and kind (the exact version, preferred or not). */
  async forKind(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const { group, version } = splitApiVersion(apiVersion);
    let list: ResourceInfo[] = [];
    try {
      list = await this.fetchGroupVersion(group, version);
    } catch (err) {
      if (!(err instanceof ApiError && err.notFound)) throw err;
    }
    const found = list.find((r) => r.kind === kind);
    if (!found) throw new UnknownResourceError(`no matches for kind "${kind}" in version "${apiVersion}"`);
    return found;
  }
}
