import { ApiError } from './errors';
import type { ResourceStorage } from './resources';
import type { Registry } from './registry';
import type { Endpoints } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { ANN_DEFAULT_CLASS, LOCAL_PATH_CLASS, LOCAL_PATH_PROVISIONER } from '../lib/volume-binding';
import { COXSWAIN_INGRESS_CLASS_OBJECT } from '../lib/ingress-class';
import { KUBE_DNS_NAME, KUBE_DNS_NAMESPACE } from '../lib/cluster-dns';
import { SYSTEM_PRIORITY_CLASSES } from '../lib/priority';

/**
 * The cluster DNS Service (kube-system/kube-dns), as kubeadm names it: no selector, as the
 * proxy on every node answers on its ClusterIP itself (port 53, UDP and TCP).
 */
export function clusterDnsService(clusterIP: string) {
  return {
    metadata: { name: KUBE_DNS_NAME, namespace: KUBE_DNS_NAMESPACE, labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS', 'kubernetes.io/cluster-service': 'true' } },
    spec: {
      type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], sessionAffinity: 'None',
      ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }],
    },
  };
}

/**
 * The built-in provisioner's class, the cluster's default: volumes on the node of the claim's
 * first pod (the controllers' local-path provisioner), deleted with their claim. Created once;
 * a user may change its default annotation or delete it, and it is not brought back while any
 * StorageClass exists.
 */
export const LOCAL_PATH_STORAGE_CLASS: StorageClass = {
  metadata: { name: LOCAL_PATH_CLASS, annotations: { [ANN_DEFAULT_CLASS]: 'true' } },
  provisioner: LOCAL_PATH_PROVISIONER,
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'WaitForFirstConsumer',
};

/**
 * Objects every cluster has, created at startup when missing: the default, kube-system and
 * kube-public namespaces, the built-in PriorityClasses (system-node-critical, system-cluster-critical), the `local-path` StorageClass (while the cluster has no class), the `coxswain` IngressClass
 * (likewise), the cluster DNS Service (kube-system/kube-dns at `clusterDnsIP`), and the `kubernetes` Service (first
 * ClusterIP, port 443) with
 * Endpoints and an EndpointSlice pointing at this apiserver. Idempotent; safe with several apiservers.
 */
export async function bootstrap(storage: ResourceStorage, registry: Registry, opts: { advertiseAddress: string; securePort: number; kubernetesServiceIP: string; clusterDnsIP?: string; warn?: (msg: string, err: string) => void }): Promise<void> {
  const ns = registry.lookup('', 'v1', 'namespaces')!;
  const svc = registry.lookup('', 'v1', 'services')!;
  const ep = registry.lookup('', 'v1', 'endpoints')!;
  const ignoreExists = async (f: () => Promise<unknown>) => {
    try { await f(); } catch (e) { if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e; }
  };
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    if (!(await storage.read(ns, undefined, name))) await ignoreExists(() => storage.create(ns, undefined, { metadata: { name } }));
  }
  const pc = registry.lookup('scheduling.k8s.io', 'v1', 'priorityclasses');
  for (const c of pc ? SYSTEM_PRIORITY_CLASSES : []) {
    if (!(await storage.read(pc!, undefined, c.name))) await ignoreExists(() => storage.create(pc!, undefined, { metadata: { name: c.name }, value: c.value, description: c.description, preemptionPolicy: 'PreemptLowerPriority' }));
  }
  const sc = registry.lookup('storage.k8s.io', 'v1', 'storageclasses');
  if (sc && (await storage.list(sc, undefined)).items.length === 0) await ignoreExists(() => storage.create(sc, undefined, structuredClone(LOCAL_PATH_STORAGE_CLASS)));
  // the proxy's Ingress class, marked default, the same way (while the cluster has no IngressClass)
  const ic = registry.lookup('networking.k8s.io', 'v1', 'ingressclasses');
  if (ic && (await storage.list(ic, undefined)).items.length === 0) await ignoreExists(() => storage.create(ic, undefined, structuredClone(COXSWAIN_INGRESS_CLASS_OBJECT)));
  if (!(await storage.read(svc, 'default', 'kubernetes'))) {
    await ignoreExists(() => storage.create(svc, 'default', {
      metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: opts.kubernetesServiceIP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: opts.securePort }], sessionAffinity: 'None' },
    }));
  }
  // Created once, like the `kubernetes` Service; a cluster whose DNS address a user's Service already
  // holds keeps working without cluster DNS (a warning, not a failed start).
  if (opts.clusterDnsIP && !(await storage.read(svc, KUBE_DNS_NAMESPACE, KUBE_DNS_NAME))) {
    try {
      await ignoreExists(() => storage.create(svc, KUBE_DNS_NAMESPACE, clusterDnsService(opts.clusterDnsIP!)));
    } catch (e) {
      opts.warn?.(`cannot create Service ${KUBE_DNS_NAMESPACE}/${KUBE_DNS_NAME} at ${opts.clusterDnsIP}: cluster DNS is off until it exists`, String(e));
    }
  }
  const subsets = [{ addresses: [{ ip: opts.advertiseAddress }], ports: [{ name: 'https', port: opts.securePort, protocol: 'TCP' }] }];
  const cur = await storage.read(ep, 'default', 'kubernetes');
  if (!cur) {
    await ignoreExists(() => storage.create(ep, 'default', { metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets }));
  } else {
    const addrs: { ip: string }[] = (cur.obj as Endpoints).subsets?.[0]?.addresses ?? [];
    if (!addrs.some((a) => a.ip === opts.advertiseAddress)) {
      const merged = [{ addresses: [...addrs, { ip: opts.advertiseAddress }], ports: subsets[0].ports }];
      await storage.update(ep, 'default', 'kubernetes', { ...cur.obj, subsets: merged });
    }
  }
  await bootstrapKubernetesSlice(storage, registry, opts);
}

/**
 * The `kubernetes` EndpointSlice (as Kubernetes' apiserver writes it: the proxy reads slices, and
 * the Endpoints above are marked skip-mirror): one ready endpoint per apiserver, added if missing.
 */
async function bootstrapKubernetesSlice(storage: ResourceStorage, registry: Registry, opts: { advertiseAddress: string; securePort: number }): Promise<void> {
  const es = registry.lookup('discovery.k8s.io', 'v1', 'endpointslices');
  if (!es) return;
  const endpoint = { addresses: [opts.advertiseAddress], conditions: { ready: true } };
  const ports = [{ name: 'https', port: opts.securePort, protocol: 'TCP' }];
  const cur = await storage.read(es, 'default', 'kubernetes');
  if (!cur) {
    const slice: EndpointSlice = { metadata: { name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes' } }, addressType: 'IPv4', endpoints: [endpoint], ports };
    try { await storage.create(es, 'default', slice); } catch (e) { if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e; }
    return;
  }
  const old = cur.obj as EndpointSlice;
  if ((old.endpoints ?? []).some((e) => e.addresses?.[0] === opts.advertiseAddress)) return;
  await storage.update(es, 'default', 'kubernetes', { ...old, endpoints: [...(old.endpoints ?? []), endpoint], ports });
}
