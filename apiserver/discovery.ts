import { createHash } from 'node:crypto';
import { Registry, VERBS, apiVersionOf } from './registry';
import type { ResourceDef } from './groups/types';
import { componentSchemas } from './openapi';

/**
 * Discovery documents (legacy APIVersions/APIGroupList/APIResourceList and aggregated
 * apidiscovery.k8s.io/v2), the OpenAPI v3 documents kubectl reads (the `fieldValidation`
 * parameter for `apply`, component schemas for `explain`; strategic merge patch is not
 * advertised, so kubectl builds those patches from its compiled-in types), and /version.
 * All computed once from the registry.
 */

export const AGGREGATED_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

export function wantsAggregated(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((p) => {
    const params = p.split(';').map((s) => s.trim());
    return params.includes('g=apidiscovery.k8s.io') && params.includes('v=v2') && params.includes('as=APIGroupDiscoveryList');
  });
}

const SUB_VERBS: Record<string, string[]> = {
  status: ['get', 'patch', 'update'], approval: ['get', 'patch', 'update'], scale: ['get', 'patch', 'update'], binding: ['create'], eviction: ['create'],
  log: ['get'], exec: ['create', 'get'], attach: ['create', 'get'], portforward: ['create', 'get'],
};
const SUB_KINDS: Record<string, string> = { log: 'Pod', exec: 'PodExecOptions', attach: 'PodAttachOptions', portforward: 'PodPortForwardOptions' };

function subKind(def: ResourceDef, sub: string): { group: string; version: string; kind: string } {
  if (sub === 'scale') return { group: 'autoscaling', version: 'v1', kind: 'Scale' };
  if (sub === 'binding') return { group: '', version: 'v1', kind: 'Binding' };
  if (sub === 'eviction') return { group: 'policy', version: 'v1', kind: 'Eviction' };
  if (SUB_KINDS[sub]) return { group: '', version: 'v1', kind: SUB_KINDS[sub] };
  return { group: def.group, version: def.version, kind: def.kind };
}

function apiResourceList(group: string, version: string, defs: ResourceDef[]): unknown {
  const resources: unknown[] = [];
  for (const d of defs) {
    resources.push({ name: d.plural, singularName: d.singular, namespaced: d.namespaced, kind: d.kind, verbs: d.verbs ?? VERBS, shortNames: d.shortNames, categories: d.categories });
    for (const sub of d.subresources) {
      const k = subKind(d, sub);
      resources.push({ name: `${d.plural}/${sub}`, singularName: '', namespaced: d.namespaced, ...(k.group !== d.group ? { group: k.group, version: k.version } : {}), kind: k.kind, verbs: SUB_VERBS[sub] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

function aggregatedGroup(name: string, gvs: { version: string; resources: ResourceDef[] }[]): unknown {
  return {
    metadata: { name },
    versions: gvs.map((gv) => ({
      version: gv.version,
      freshness: 'Current',
      resources: gv.resources.map((d) => ({
        resource: d.plural,
        singularResource: d.singular,
        scope: d.namespaced ? 'Namespaced' : 'Cluster',
        responseKind: { group: d.group, version: d.version, kind: d.kind },
        verbs: d.verbs ?? VERBS,
        ...(d.shortNames.length ? { shortNames: d.shortNames } : {}),
        ...(d.categories.length ? { categories: d.categories } : {}),
        ...(d.subresources.length ? { subresources: d.subresources.map((s) => ({ subresource: s, responseKind: subKind(d, s), verbs: SUB_VERBS[s] })) } : {}),
      })),
    })),
  };
}

export interface DiscoveryDocs {
  apiVersions(serverAddress: string): string;
  apiAggregated: string;
  apisLegacy: string;
  apisAggregated: string;
  group(name: string): string | undefined;
  resourceList(group: string, version: string): string | undefined;
  openapiIndex: string;
  openapi(gvPath: string): string | undefined;
}

/** `extra`: resources served outside the registry (metrics.k8s.io), listed in discovery but not in OpenAPI. */
export function buildDiscovery(registry: Registry, extra: ResourceDef[] = []): DiscoveryDocs {
  const gvs = [...registry.groupVersions(), ...new Registry(extra).groupVersions()];
  const extraGvs = new Set(extra.map((d) => `${d.group}/${d.version}`));
  const core = gvs.filter((g) => g.group === '');
  const groups = new Map<string, typeof gvs>();
  for (const gv of gvs) if (gv.group) groups.set(gv.group, [...(groups.get(gv.group) ?? []), gv]);

  const groupDoc = (name: string, list: typeof gvs) => ({
    name,
    versions: list.map((gv) => ({ groupVersion: `${name}/${gv.version}`, version: gv.version })),
    preferredVersion: { groupVersion: `${name}/${list[0].version}`, version: list[0].version },
  });

  const resourceLists = new Map<string, string>();
  for (const gv of gvs) resourceLists.set(`${gv.group}/${gv.version}`, JSON.stringify(apiResourceList(gv.group, gv.version, gv.resources)));

  const openapiDocs = new Map<string, string>();
  for (const gv of gvs) {
    if (extraGvs.has(`${gv.group}/${gv.version}`)) continue;
    const prefix = gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;
    const paths: Record<string, unknown> = {};
    for (const d of gv.resources) {
      const gvk = { group: d.group, version: d.version, kind: d.kind };
      const item = d.namespaced ? `/${prefix}/namespaces/{namespace}/${d.plural}/{name}` : `/${prefix}/${d.plural}/{name}`;
      const coll = d.namespaced ? `/${prefix}/namespaces/{namespace}/${d.plural}` : `/${prefix}/${d.plural}`;
      const params = [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }, { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } }, { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } }];
      const op = (extra: object = {}) => ({ 'x-kubernetes-group-version-kind': gvk, parameters: params, responses: { 200: { description: 'OK' } }, ...extra });
      if (d.review) {
        paths[`/${prefix}/${d.plural}`] = { post: op({ requestBody: { content: { '*/*': {} } } }) };
        continue;
      }
      paths[item] = {
        get: { 'x-kubernetes-group-version-kind': gvk, responses: { 200: { description: 'OK' } } },
        put: op({ requestBody: { content: { '*/*': {} } } }),
        patch: op({ requestBody: { content: { 'application/json-patch+json': {}, 'application/merge-patch+json': {}, 'application/apply-patch+yaml': {} } } }),
        delete: { 'x-kubernetes-group-version-kind': gvk, responses: { 200: { description: 'OK' } } },
      };
      paths[coll] = { post: op({ requestBody: { content: { '*/*': {} } } }), get: { 'x-kubernetes-group-version-kind': gvk, responses: { 200: { description: 'OK' } } } };
    }
    const schemas = componentSchemas(gv.resources.filter((d) => !d.review));
    openapiDocs.set(prefix, JSON.stringify({ openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, components: { schemas }, paths }));
  }
  const openapiIndex = JSON.stringify({
    paths: Object.fromEntries([...openapiDocs].map(([p, doc]) => [p, { serverRelativeURL: `/openapi/v3/${p}?hash=${createHash('sha512').update(doc).digest('hex').slice(0, 128).toUpperCase()}` }])),
  });

  const apiAggregated = JSON.stringify({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items: core.length ? [aggregatedGroup('', core)] : [] });
  const apisAggregated = JSON.stringify({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items: [...groups].map(([name, list]) => aggregatedGroup(name, list)) });
  const apisLegacy = JSON.stringify({ kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups].map(([name, list]) => groupDoc(name, list)) });
  const groupDocs = new Map([...groups].map(([name, list]) => [name, JSON.stringify({ kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(name, list) })]));

  return {
    apiVersions: (serverAddress) => JSON.stringify({ kind: 'APIVersions', versions: core.map((c) => c.version), serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] }),
    apiAggregated,
    apisLegacy,
    apisAggregated,
    group: (name) => groupDocs.get(name),
    resourceList: (group, version) => resourceLists.get(`${group}/${version}`),
    openapiIndex,
    openapi: (gvPath) => openapiDocs.get(gvPath),
  };
}

export const VERSION_INFO = {
  major: '1', minor: '32', gitVersion: 'v1.32.0-coxswain', gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z', goVersion: `node${process.versions.node}`, compiler: 'tsc', platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

export { apiVersionOf };
