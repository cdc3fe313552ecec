import type { ResourceDef } from './groups/types';
import { APPS } from './groups/apps';
import { SELF_SUBJECT_REVIEW } from './groups/authentication/selfsubjectreview';
import { SELF_SUBJECT_ACCESS_REVIEW, SELF_SUBJECT_RULES_REVIEW, SUBJECT_ACCESS_REVIEW } from './groups/authorization/accessreview';
import { AUTOSCALING } from './groups/autoscaling';
import { BATCH } from './groups/batch';
import { CERTIFICATE_SIGNING_REQUEST } from './groups/certificates/certificatesigningrequest';
import { LEASE } from './groups/coordination/lease';
import { CORE } from './groups/core';
import { ENDPOINT_SLICE } from './groups/discovery/endpointslice';
import { NETWORKING } from './groups/networking';
import { POD_DISRUPTION_BUDGET } from './groups/policy/poddisruptionbudget';
import { RBAC } from './groups/rbac';
import { PRIORITY_CLASS } from './groups/scheduling/priorityclass';
import { STORAGE_CLASS } from './groups/storage/storageclass';

/**
 * The resource registry: every served resource described as data, one module per API group
 * (groups/<group>/index.ts) and one file per kind holding its definition, defaults,
 * validation, printer columns and storage strategy — e.g. how Services are validated and
 * stored is groups/core/service.ts, the Namespace lifecycle groups/core/namespace/. The
 * generic REST layer (resources.ts, rest.ts), discovery, OpenAPI and tables all read from it;
 * adding a resource is adding a kind module to its group's list (see README.md).
 */

/** Every served resource, by API group (groups with a single kind are listed by that kind). */
export const RESOURCES: ResourceDef[] = [
  ...CORE,
  ...APPS,
  ...BATCH,
  ...NETWORKING,
  ENDPOINT_SLICE, // discovery.k8s.io
  ...AUTOSCALING,
  LEASE, // coordination.k8s.io
  STORAGE_CLASS, // storage.k8s.io
  POD_DISRUPTION_BUDGET, // policy
  PRIORITY_CLASS, // scheduling.k8s.io
  CERTIFICATE_SIGNING_REQUEST, // certificates.k8s.io
  ...RBAC,
  SELF_SUBJECT_ACCESS_REVIEW, SUBJECT_ACCESS_REVIEW, SELF_SUBJECT_RULES_REVIEW, // authorization.k8s.io
  SELF_SUBJECT_REVIEW, // authentication.k8s.io
];

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
