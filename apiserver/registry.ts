import type { ResourceDef } from './groups/types';
import { RESOURCES } from './groups';

/**
 * The resource registry: every served resource described as data (groups/, one module per API
 * group). The generic REST layer (resources.ts, rest.ts), discovery, OpenAPI and tables all
 * read from it; adding a resource is adding a kind module to its group.
 */

export const apiVersionOf = (d: Pick<ResourceDef, 'group' | 'version'>) => (d.group ? `${d.group}/${d.version}` : d.version);
export const groupVersionPath = (d: Pick<ResourceDef, 'group' | 'version'>) => (d.group ? `/apis/${d.group}/${d.version}` : `/api/${d.version}`);

export class Registry {
  private readonly byPath = new Map<string, ResourceDef>();
  constructor(readonly resources: ResourceDef[] = RESOURCES) {
    for (const r of resources) this.byPath.set(`${r.group}/${r.version}/${r.plural}`, r);
  }

  lookup(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  /** The def whose storage serves `d` (itself, or its storage version's). */
  storageDef(d: ResourceDef): ResourceDef {
    return d.storageVersion ? this.lookup(d.group, d.storageVersion.version, d.plural) ?? d : d;
  }

  /** Defs that own stored objects (no virtual resources, no other-version views). */
  stored(): ResourceDef[] {
    return this.resources.filter((r) => !r.review && !r.storageVersion);
  }

  groupVersions(): { group: string; version: string; resources: ResourceDef[] }[] {
    const m = new Map<string, { group: string; version: string; resources: ResourceDef[] }>();
    for (const r of this.resources) {
      const k = `${r.group}/${r.version}`;
      if (!m.has(k)) m.set(k, { group: r.group, version: r.version, resources: [] });
      m.get(k)!.resources.push(r);
    }
    return [...m.values()];
  }
}

/** Store key prefix of a resource: /registry/<group|core>/<plural>/ */
export function keyPrefix(d: ResourceDef, namespace?: string): string {
  const base = `/registry/${d.group || 'core'}/${d.plural}/`;
  return d.namespaced && namespace ? `${base}${namespace}/` : base;
}

export function objectKey(d: ResourceDef, namespace: string | undefined, name: string): string {
  return d.namespaced ? `${keyPrefix(d)}${namespace}/${name}` : `${keyPrefix(d)}${name}`;
}

export const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
