import type { Logger } from '../lib/log';
import { errors } from './errors';
import { type Registry, objectKey } from './registry';
import type { ConfigMap, Pod, ServiceAccount, Volume } from 'kubernetes-types/core/v1';
import type { ResourceDef } from './groups/types';
import type { ApiObject } from './api-object';
import { startNamespaceLoop } from './namespace-loop';
import { randomSuffix } from '../lib/names';
import { type ResourceStorage } from './resources';

/**
 * Kubernetes' ServiceAccount admission for pods, and the `kube-root-ca.crt` ConfigMap it
 * relies on (Kubernetes publishes that from the controller manager's root-CA publisher; the
 * apiserver keeps it here, beside the `default` ServiceAccount loop in security.ts, so every
 * cluster that runs pods has it).
 *
 * On pod create:
 * - `spec.serviceAccountName` defaults to `default` (`spec.serviceAccount`, the deprecated
 *   alias, is read when the name is empty and always set to the same value);
 * - a pod naming a ServiceAccount that does not exist is refused with 403, worded like
 *   Kubernetes (`error looking up service account ns/name: serviceaccount "name" not found`);
 * - unless `automountServiceAccountToken: false` on the pod (or else on the ServiceAccount),
 *   a projected volume `kube-api-access-<5 chars>` (a bound token, 3607 s, `ca.crt` from
 *   `kube-root-ca.crt` and the namespace) is added and mounted read-only at
 *   /var/run/secrets/kubernetes.io/serviceaccount in every container and init container
 *   that does not mount something there already.
 */

export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const ROOT_CA_DESCRIPTION = 'The cluster CA: verifies the apiserver at the kubernetes Service (kubernetes.default.svc) from inside pods.';
/** The token lifetime Kubernetes' admission asks for (an hour and 7 s, so audits can tell it apart). */
const TOKEN_EXPIRATION_SECONDS = 3607;
/** How long a pod create waits for the `default` ServiceAccount of a namespace created a moment ago. */
const DEFAULT_SA_WAIT_MS = 3_000;

export interface ServiceAccountAdmissionOptions {
  /** Mount tokens only when the apiserver can issue them (a signing key): the kubelet's TokenRequest would fail otherwise. */
  mountTokens: boolean;
}

/** The projected volume Kubernetes adds for the pod's ServiceAccount token. */
export function apiAccessVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

/**
 * Pure part: defaults the ServiceAccount name and adds the token volume and mounts to `pod`
 * (mutated) given the ServiceAccount it names. `suffix` makes the volume name.
 */
export function mountServiceAccount(pod: Pod, sa: ServiceAccount | undefined, suffix: string, mountTokens = true): void {
  const spec = pod.spec;
  if (!spec || !mountTokens) return;
  const auto = spec.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;
  if (!auto) return;
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const needing = containers.filter((c) => !(c.volumeMounts ?? []).some((m) => m?.mountPath === TOKEN_MOUNT_PATH || m?.mountPath === `${TOKEN_MOUNT_PATH}/`));
  if (!needing.length) return;
  const taken = new Set((spec.volumes ?? []).map((v) => v?.name));
  let name = `kube-api-access-${suffix}`;
  for (let i = 0; taken.has(name); i++) name = `kube-api-access-${suffix}${i}`;
  spec.volumes = [...(spec.volumes ?? []), apiAccessVolume(name)];
  for (const c of needing) c.volumeMounts = [...(c.volumeMounts ?? []), { name, readOnly: true, mountPath: TOKEN_MOUNT_PATH }];
}


export class ServiceAccountAdmission {
  private readonly podDef: ResourceDef;
  private readonly saDef: ResourceDef;
  private readonly cmDef: ResourceDef;
  private loop?: { stop(): void };

  constructor(private readonly storage: ResourceStorage, private readonly registry: Registry, private readonly log: Logger, private readonly opts: ServiceAccountAdmissionOptions) {
    this.podDef = registry.lookup('', 'v1', 'pods')!;
    this.saDef = registry.lookup('', 'v1', 'serviceaccounts')!;
    this.cmDef = registry.lookup('', 'v1', 'configmaps')!;
  }

  /** The create-time admission hook (ResourceStorageDeps.admit): pods only. */
  readonly admit = async (def: ResourceDef, ns: string | undefined, created: ApiObject): Promise<void> => {
    if (def !== this.podDef || !ns) return;
    const obj: Pod = created;
    if (!obj?.spec) return;
    const spec = obj.spec;
    // A static (mirror) pod gets no ServiceAccount, as in Kubernetes.
    if (obj.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return;
    const saName: string = spec.serviceAccountName || spec.serviceAccount || 'default';
    spec.serviceAccountName = saName;
    spec.serviceAccount = saName;
    const sa = await this.findServiceAccount(ns, saName);
    if (!sa) {
      const podName = obj.metadata?.name ?? obj.metadata?.generateName ?? '';
      throw errors.forbidden(`pods "${podName}" is forbidden: error looking up service account ${ns}/${saName}: serviceaccount "${saName}" not found`, { name: podName, kind: 'pods' });
    }
    mountServiceAccount(obj, sa, randomSuffix(), this.opts.mountTokens);
  };

  private async findServiceAccount(ns: string, name: string): Promise<ServiceAccount | undefined> {
    const deadline = Date.now() + (name === 'default' ? DEFAULT_SA_WAIT_MS : 0);
    for (;;) {
      // read() is read-your-writes within this apiserver, so an SA created just before the pod
      // through it is seen; one created through another apiserver may not be in this one's watch
      // cache yet, so a miss asks the store before refusing (as Kubernetes' plugin falls back to a
      // live lookup).
      const c = (await this.storage.read(this.saDef, ns, name)) ?? (await this.storage.read(this.saDef, ns, name, { fromStore: true }));
      if (c && !c.obj.metadata?.deletionTimestamp) return c.obj;
      // The `default` ServiceAccount of a namespace created a moment ago is on its way (security.ts).
      if (Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Keeps `kube-root-ca.crt` (data `ca.crt` = the cluster CA) in every active namespace:
   * created when missing, put back when changed, as Kubernetes' root-CA publisher does.
   */
  startRootCaLoop(caPem: string, intervalMs = 200): void {
    const cmCache = this.storage.cache(this.cmDef);
    this.loop = startNamespaceLoop({
      storage: this.storage, registry: this.registry, log: this.log, what: `${ROOT_CA_CONFIGMAP} ConfigMaps`, watched: this.cmDef, intervalMs,
      ensure: async (ns) => {
        const cur: ConfigMap | undefined = cmCache.get(objectKey(this.cmDef, ns, ROOT_CA_CONFIGMAP))?.obj;
        if (cur && cur.data?.['ca.crt'] === caPem && Object.keys(cur.data).length === 1) return;
        if (!cur) {
          await this.storage.create(this.cmDef, ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_CONFIGMAP, annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION } }, data: { 'ca.crt': caPem } });
        } else {
          const next = { ...cur, data: { 'ca.crt': caPem } };
          delete next.binaryData;
          await this.storage.update(this.cmDef, ns, ROOT_CA_CONFIGMAP, next);
        }
      },
    });
  }

  stop(): void {
    this.loop?.stop();
  }
}
