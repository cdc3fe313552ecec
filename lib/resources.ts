/** Identifies a Kubernetes resource type on the wire: where its REST paths live. */
export interface ResourceRef {
  /** API group; "" for the legacy core group. */
  group: string;
  version: string;
  /** Plural lower-case resource name, as in the URL. */
  resource: string;
  kind: string;
  namespaced: boolean;
}

const core = (resource: string, kind: string, namespaced: boolean): ResourceRef => ({ group: '', version: 'v1', resource, kind, namespaced });
const apps = (resource: string, kind: string): ResourceRef => ({ group: 'apps', version: 'v1', resource, kind, namespaced: true });

export const NAMESPACES = core('namespaces', 'Namespace', false);
export const NODES = core('nodes', 'Node', false);
export const PODS = core('pods', 'Pod', true);
export const SERVICES = core('services', 'Service', true);
export const ENDPOINTS = core('endpoints', 'Endpoints', true);
export const EVENTS = core('events', 'Event', true);
export const CONFIGMAPS = core('configmaps', 'ConfigMap', true);
export const SECRETS = core('secrets', 'Secret', true);
export const DEPLOYMENTS = apps('deployments', 'Deployment');
export const REPLICASETS = apps('replicasets', 'ReplicaSet');
export const STATEFULSETS = apps('statefulsets', 'StatefulSet');
export const DAEMONSETS = apps('daemonsets', 'DaemonSet');
export const CONTROLLERREVISIONS = apps('controllerrevisions', 'ControllerRevision');
export const PODDISRUPTIONBUDGETS: ResourceRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true };
export const LEASES: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true };

export function apiVersionOf(ref: ResourceRef): string {
  return ref.group === '' ? ref.version : `${ref.group}/${ref.version}`;
}

/**
 * The REST path of a collection or an object: `/api/v1/namespaces/ns/pods/name/status`.
 * Cluster-scoped resources ignore `namespace`; a namespaced collection without a
 * namespace is the all-namespaces collection.
 */
export function resourcePath(ref: ResourceRef, opts: { namespace?: string; name?: string; subresource?: string } = {}): string {
  let p = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  if (ref.namespaced && opts.namespace) p += `/namespaces/${encodeURIComponent(opts.namespace)}`;
  p += `/${ref.resource}`;
  if (opts.name !== undefined) {
    p += `/${encodeURIComponent(opts.name)}`;
    if (opts.subresource) p += `/${opts.subresource}`;
  }
  return p;
}
export const INGRESSES: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', kind: 'Ingress', namespaced: true };
export const INGRESS_CLASSES: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses', kind: 'IngressClass', namespaced: false };
export const CERTIFICATE_SIGNING_REQUESTS: ResourceRef = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', kind: 'CertificateSigningRequest', namespaced: false };
export const PERSISTENT_VOLUMES = core('persistentvolumes', 'PersistentVolume', false);
export const PERSISTENT_VOLUME_CLAIMS = core('persistentvolumeclaims', 'PersistentVolumeClaim', true);
export const STORAGE_CLASSES: ResourceRef = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', kind: 'StorageClass', namespaced: false };
export const JOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job', namespaced: true };
export const CRONJOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'cronjobs', kind: 'CronJob', namespaced: true };
export const ENDPOINT_SLICES: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true };
