import { type NameRule, validateEndpoints, validateNode, validateEvent, validatePod, validateWorkload } from './validation';
import type { ResourceDef, Subresource } from './groups/types';
import { NAMESPACE } from './groups/core/namespace/namespace';
import { SERVICE } from './groups/core/service';
import { podBinding } from './groups/core/pod/binding';
import { replicasScale } from './groups/autoscaling/scale';
import { defaultPodSpec, podQOSClass } from './defaults';
import { MORE_RESOURCES } from './kinds';

export { defaultPodSpec };

/**
 * The resource registry: every served resource described as data. The generic REST layer
 * (resources.ts, rest.ts), discovery, OpenAPI and tables all read from it; adding a resource
 * is adding an entry here (plus, if needed, printer columns in tables.ts).
 */

export const apiVersionOf = (d: Pick<ResourceDef, 'group' | 'version'>) => (d.group ? `${d.group}/${d.version}` : d.version);
export const groupVersionPath = (d: Pick<ResourceDef, 'group' | 'version'>) => (d.group ? `/apis/${d.group}/${d.version}` : `/api/${d.version}`);

function defaultTemplate(obj: any): void {
  if (obj?.spec?.template) defaultPodSpec(obj.spec.template.spec);
}

const common = {
  version: 'v1', categories: [] as string[], shortNames: [] as string[], subresources: [] as Subresource[], nameRule: 'subdomain' as NameRule,
  hasStatus: true, statusOnCreate: 'clear' as const, allowCreateOnUpdate: false, gracefulDelete: false, fieldLabels: [] as string[],
};

export const RESOURCES: ResourceDef[] = [
  NAMESPACE,
  {
    ...common, group: '', kind: 'Node', listKind: 'NodeList', plural: 'nodes', singular: 'node', shortNames: ['no'], namespaced: false,
    subresources: ['status'], statusOnCreate: 'keep', fieldLabels: ['spec.unschedulable'],
    validate: (o, _c, old) => validateNode(o, old),
  },
  {
    ...common, group: '', kind: 'Pod', listKind: 'PodList', plural: 'pods', singular: 'pod', shortNames: ['po'], categories: ['all'],
    namespaced: true, subresources: ['status', 'binding', 'log', 'exec', 'attach', 'portforward'], gracefulDelete: true,
    fieldLabels: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
    defaults(o) { o.spec ??= {}; defaultPodSpec(o.spec); },
    prepareForCreate(o) { o.status = { phase: 'Pending', qosClass: podQOSClass(o.spec) }; },
    validate: (o, _c, old) => validatePod(o, old),
    strategy: { binding: podBinding },
  },
  SERVICE,
  {
    ...common, group: '', kind: 'Endpoints', listKind: 'EndpointsList', plural: 'endpoints', singular: 'endpoints', shortNames: ['ep'],
    namespaced: true, hasStatus: false, statusOnCreate: 'keep', allowCreateOnUpdate: true,
    defaults(o) { for (const ss of o.subsets ?? []) for (const p of ss?.ports ?? []) if (p && typeof p === 'object') p.protocol ??= 'TCP'; },
    validate: (o) => validateEndpoints(o),
  },
  {
    ...common, group: '', kind: 'Event', listKind: 'EventList', plural: 'events', singular: 'event', shortNames: ['ev'], namespaced: true,
    hasStatus: false, statusOnCreate: 'keep', allowCreateOnUpdate: true,
    fieldLabels: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
      'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
    validate: (o) => validateEvent(o),
  },
  {
    ...common, group: 'apps', kind: 'ReplicaSet', listKind: 'ReplicaSetList', plural: 'replicasets', singular: 'replicaset', shortNames: ['rs'],
    categories: ['all'], namespaced: true, subresources: ['status', 'scale'], fieldLabels: ['status.replicas'],
    strategy: { scale: replicasScale },
    defaults(o) { o.spec ??= {}; o.spec.replicas ??= 1; defaultTemplate(o); },
    validate: (o, _c, old) => validateWorkload(o, 'ReplicaSet', old),
  },
  {
    ...common, group: 'apps', kind: 'Deployment', listKind: 'DeploymentList', plural: 'deployments', singular: 'deployment', shortNames: ['deploy'],
    categories: ['all'], namespaced: true, subresources: ['status', 'scale'],
    strategy: { scale: replicasScale },
    defaults(o) {
      const s = (o.spec ??= {});
      s.replicas ??= 1;
      s.strategy ??= { type: 'RollingUpdate' };
      s.strategy.type ??= 'RollingUpdate';
      if (s.strategy.type === 'RollingUpdate') {
        s.strategy.rollingUpdate ??= {};
        s.strategy.rollingUpdate.maxUnavailable ??= '25%';
        s.strategy.rollingUpdate.maxSurge ??= '25%';
      }
      s.revisionHistoryLimit ??= 10;
      s.progressDeadlineSeconds ??= 600;
      defaultTemplate(o);
    },
    validate: (o, _c, old) => validateWorkload(o, 'Deployment', old),
  },
  ...MORE_RESOURCES,
];

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
