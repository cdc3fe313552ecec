import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Service } from 'kubernetes-types/core/v1';
import { ApiError, type ApiClient, type KubeObject } from '../lib/client';
import { Informer } from '../lib/informer';
import type { Logger } from '../lib/log';
import { CONFIGMAPS, SECRETS, SERVICES, type ResourceRef } from '../lib/resources';
import { MASTER_SERVICES } from './service-env';

/**
 * The API objects a pod's containers and volumes read (ConfigMaps, Secrets,
 * claims and their volumes, ServiceAccount tokens). The pod manager fetches
 * what a pod references before each sync, so the translation into runtime
 * specs stays pure. `undefined` means "not found"; other failures throw.
 */
export interface PodSources {
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
  getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  getPersistentVolume(name: string): Promise<PersistentVolume | undefined>;
  /** The Services of `namespace` and the master Services of `default` (for service environment variables). */
  getServices(namespace: string): Promise<Service[]>;
  /**
   * A token for the pod's ServiceAccount (TokenRequest bound to the pod), or
   * `undefined` when the apiserver has no `serviceaccounts/token` subresource.
   */
  serviceAccountToken(pod: Pod, audience: string | undefined, expirationSeconds: number): Promise<{ token: string; expiresAt: number } | undefined>;
}

export const PERSISTENTVOLUMECLAIMS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true };
export const PERSISTENTVOLUMES: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumes', kind: 'PersistentVolume', namespaced: false };
export const SERVICEACCOUNTS: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true };

/** PodSources over the apiserver (plain GETs: a pod syncs every few seconds, so changes reach volumes quickly). */
export class ApiPodSources implements PodSources {
  constructor(private readonly client: ApiClient) {}

  async getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return (await this.client.tryGet(CONFIGMAPS, name, namespace)) as ConfigMap | undefined;
  }

  async getSecret(namespace: string, name: string): Promise<Secret | undefined> {
    return (await this.client.tryGet(SECRETS, name, namespace)) as Secret | undefined;
  }

  async getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    return (await this.client.tryGet(PERSISTENTVOLUMECLAIMS, name, namespace)) as PersistentVolumeClaim | undefined;
  }

  async getPersistentVolume(name: string): Promise<PersistentVolume | undefined> {
    return (await this.client.tryGet(PERSISTENTVOLUMES, name)) as PersistentVolume | undefined;
  }

  async getServices(namespace: string): Promise<Service[]> {
    const [own, masters] = await Promise.all([
      this.client.list<Service & Record<string, unknown>>(SERVICES, { namespace }),
      namespace === 'default' ? undefined : Promise.all([...MASTER_SERVICES].map((n) => this.client.tryGet<Service & Record<string, unknown>>(SERVICES, n, 'default'))),
    ]);
    return [...own.items, ...(masters ?? []).filter((s): s is Service & Record<string, unknown> => !!s)];
  }

  async serviceAccountToken(pod: Pod, audience: string | undefined, expirationSeconds: number): Promise<{ token: string; expiresAt: number } | undefined> {
    const ns = pod.metadata?.namespace ?? 'default';
    const sa = pod.spec?.serviceAccountName || 'default';
    const body = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        ...(audience ? { audiences: [audience] } : {}),
        expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, uid: pod.metadata?.uid },
      },
    };
    try {
      const r = await this.client.request<{ status?: { token?: string; expirationTimestamp?: string } }>(
        'POST',
        `/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts/${encodeURIComponent(sa)}/token`,
        { body },
      );
      if (!r.status?.token) return undefined;
      return { token: r.status.token, expiresAt: r.status.expirationTimestamp ? Date.parse(r.status.expirationTimestamp) : Date.now() + expirationSeconds * 1000 };
    } catch (err) {
      // 404 for the subresource (not served, or no signing key) or for the ServiceAccount; 405 when the route is absent.
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 405))) throw err;
      if (err.code === 404 && !(await this.client.tryGet(SERVICEACCOUNTS, sa, ns))) throw new Error(`serviceaccount "${sa}" not found in namespace ${ns}`);
      return undefined;
    }
  }
}

/** What an informer-backed source reports when a watched object changes (the pod manager resyncs the pods that use it). */
export type SourceChange = (kind: 'ConfigMap' | 'Secret' | 'PersistentVolumeClaim' | 'PersistentVolume', namespace: string, name: string) => void;

type Obj<T> = T & Record<string, unknown>;

interface NamespaceInformers {
  configMaps: Informer<Obj<ConfigMap>>;
  secrets: Informer<Obj<Secret>>;
  claims: Informer<Obj<PersistentVolumeClaim>>;
}

/**
 * PodSources over informers: ConfigMaps, Secrets and claims are watched per
 * namespace, started the first time a pod of that namespace asks (so a kubelet
 * caches only the namespaces its pods live in), and PersistentVolumes
 * cluster-wide. Reads come from the caches; until a cache has synced (at most
 * `syncTimeoutMs`), a read falls back to a plain GET. Changes are reported to
 * `onChange`, so volumes and env of the pods using an object refresh at once.
 * ServiceAccount tokens are always requested from the apiserver.
 */
export class InformerPodSources implements PodSources {
  private readonly direct: ApiPodSources;
  private readonly namespaces = new Map<string, NamespaceInformers>();
  private volumes?: Informer<Obj<PersistentVolume>>;
  private services?: Informer<Obj<Service>>;
  private stopped = false;

  constructor(
    private readonly client: ApiClient,
    private readonly opts: { logger?: Logger; onChange?: SourceChange; syncTimeoutMs?: number } = {},
  ) {
    this.direct = new ApiPodSources(client);
  }

  private watch<T extends KubeObject>(ref: ResourceRef, kind: Parameters<SourceChange>[0], namespace?: string): Informer<T> {
    const inf = new Informer<T>(this.client, ref, { namespace, logger: this.opts.logger });
    const changed = (o: T) => this.opts.onChange?.(kind, o.metadata?.namespace ?? '', o.metadata?.name ?? '');
    inf.on({ add: changed, update: (_a, b) => changed(b), delete: changed });
    if (!this.stopped) void inf.start();
    return inf;
  }

  private ns(namespace: string): NamespaceInformers {
    let n = this.namespaces.get(namespace);
    if (!n) {
      n = {
        configMaps: this.watch(CONFIGMAPS, 'ConfigMap', namespace),
        secrets: this.watch(SECRETS, 'Secret', namespace),
        claims: this.watch(PERSISTENTVOLUMECLAIMS, 'PersistentVolumeClaim', namespace),
      };
      this.namespaces.set(namespace, n);
    }
    return n;
  }

  /** Whether `inf` has synced, waiting up to syncTimeoutMs for a cache that has not yet. */
  private async synced<T extends KubeObject>(inf: Informer<T>): Promise<boolean> {
    if (inf.hasSynced) return true;
    let timer: NodeJS.Timeout | undefined;
    const synced = await Promise.race([
      inf.waitForSync().then(() => inf.hasSynced),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.opts.syncTimeoutMs ?? 5_000))),
    ]);
    clearTimeout(timer);
    return synced;
  }

  /** The cached object once the cache synced; a GET while it has not (yet). */
  private async read<T extends KubeObject>(inf: Informer<T>, key: string, fallback: () => Promise<T | undefined>): Promise<T | undefined> {
    return (await this.synced(inf)) ? inf.get(key) : fallback();
  }

  async getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.read(this.ns(namespace).configMaps, `${namespace}/${name}`, async () => (await this.direct.getConfigMap(namespace, name)) as Obj<ConfigMap> | undefined);
  }

  async getSecret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.read(this.ns(namespace).secrets, `${namespace}/${name}`, async () => (await this.direct.getSecret(namespace, name)) as Obj<Secret> | undefined);
  }

  async getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    return this.read(this.ns(namespace).claims, `${namespace}/${name}`, async () => (await this.direct.getPersistentVolumeClaim(namespace, name)) as Obj<PersistentVolumeClaim> | undefined);
  }

  async getPersistentVolume(name: string): Promise<PersistentVolume | undefined> {
    this.volumes ??= this.watch<Obj<PersistentVolume>>(PERSISTENTVOLUMES, 'PersistentVolume');
    return this.read(this.volumes, name, async () => (await this.direct.getPersistentVolume(name)) as Obj<PersistentVolume> | undefined);
  }

  /**
   * From one cluster-wide Service informer (as kubelet's service lister), started
   * on first use; like kubelet, a pod's containers see the Services that exist
   * when they are created (no refresh afterwards, so no change is reported).
   */
  async getServices(namespace: string): Promise<Service[]> {
    if (!this.services) {
      this.services = new Informer<Obj<Service>>(this.client, SERVICES, { logger: this.opts.logger });
      if (!this.stopped) void this.services.start();
    }
    const inf = this.services;
    if (!(await this.synced(inf))) return this.direct.getServices(namespace);
    return inf.list().filter((s) => s.metadata?.namespace === namespace || (s.metadata?.namespace === 'default' && MASTER_SERVICES.has(s.metadata?.name ?? '')));
  }

  serviceAccountToken(pod: Pod, audience: string | undefined, expirationSeconds: number): Promise<{ token: string; expiresAt: number } | undefined> {
    return this.direct.serviceAccountToken(pod, audience, expirationSeconds);
  }

  /** Namespaces whose objects are cached (for tests and diagnostics). */
  cachedNamespaces(): string[] {
    return [...this.namespaces.keys()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.namespaces.values()].flatMap((n) => [n.configMaps, n.secrets, n.claims] as Informer<KubeObject>[]);
    if (this.volumes) all.push(this.volumes as Informer<KubeObject>);
    if (this.services) all.push(this.services as Informer<KubeObject>);
    await Promise.all(all.map((i) => i.stop()));
  }
}

/** PodSources from in-memory objects, for tests. */
export class StaticPodSources implements PodSources {
  configMaps = new Map<string, ConfigMap>();
  secrets = new Map<string, Secret>();
  claims = new Map<string, PersistentVolumeClaim>();
  volumes = new Map<string, PersistentVolume>();
  services: Service[] = [];
  token?: string;

  add(obj: ConfigMap | Secret | PersistentVolumeClaim | PersistentVolume): this {
    const key = `${obj.metadata?.namespace ?? 'default'}/${obj.metadata?.name}`;
    switch (obj.kind) {
      case 'ConfigMap': this.configMaps.set(key, obj as ConfigMap); break;
      case 'Secret': this.secrets.set(key, obj as Secret); break;
      case 'PersistentVolumeClaim': this.claims.set(key, obj as PersistentVolumeClaim); break;
      case 'PersistentVolume': this.volumes.set(obj.metadata!.name!, obj as PersistentVolume); break;
      default: throw new Error(`StaticPodSources: unsupported kind ${obj.kind}`);
    }
    return this;
  }

  async getConfigMap(namespace: string, name: string) { return this.configMaps.get(`${namespace}/${name}`); }
  async getSecret(namespace: string, name: string) { return this.secrets.get(`${namespace}/${name}`); }
  async getPersistentVolumeClaim(namespace: string, name: string) { return this.claims.get(`${namespace}/${name}`); }
  async getPersistentVolume(name: string) { return this.volumes.get(name); }
  async getServices(namespace: string) { return this.services.filter((s) => (s.metadata?.namespace ?? 'default') === namespace || ((s.metadata?.namespace ?? 'default') === 'default' && MASTER_SERVICES.has(s.metadata?.name ?? ''))); }
  async serviceAccountToken(_pod: Pod, _aud: string | undefined, expirationSeconds: number) {
    return this.token ? { token: this.token, expiresAt: Date.now() + expirationSeconds * 1000 } : undefined;
  }
}
