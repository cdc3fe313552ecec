import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ConfigMap, DownwardAPIVolumeFile, KeyToPath, Pod, Secret, Volume } from 'kubernetes-types/core/v1';
import { fieldRefValue, resourceFieldValue } from './container-env';
import { ContainerConfigError, type PodObjects, type PodRuntimeFacts } from './pod-inputs';

/**
 * What a pod's volumes hold, pure: the files of a configMap, secret, downwardAPI or
 * projected volume (ServiceAccount tokens included) with their modes, the content hash
 * that names their AtomicWriter directory, and the names the volume layout uses.
 * `volumes.ts` writes and mounts them.
 */

/** A volume cannot be prepared: the pod's containers wait (`reason`) and a FailedMount event says why. */
export class VolumeError extends Error {
  constructor(
    message: string,
    readonly reason: 'ContainerCreating' | 'CreateContainerConfigError' = 'ContainerCreating',
  ) {
    super(message);
    this.name = 'VolumeError';
  }
}

export interface PayloadFile {
  data: Buffer;
  mode: number;
}

/** Relative path → file. */
export type Payload = Map<string, PayloadFile>;

const DEFAULT_MODE = 0o644;

function checkPath(p: string, vol: string): string {
  if (!p || path.isAbsolute(p) || p.split('/').some((s) => s === '..' || s === '') || p.startsWith('..')) {
    throw new VolumeError(`volume ${vol}: invalid item path ${JSON.stringify(p)}`);
  }
  return p;
}

function keyedPayload(
  out: Payload,
  vol: string,
  kind: 'configmap' | 'secret',
  name: string,
  entries: Map<string, Buffer> | undefined,
  items: KeyToPath[] | undefined,
  optional: boolean | undefined,
  defaultMode: number,
): void {
  if (!entries) {
    if (optional) return;
    throw new VolumeError(`${kind === 'configmap' ? 'configmap' : 'secret'} "${name}" not found`);
  }
  if (!items || items.length === 0) {
    for (const [k, data] of entries) out.set(checkPath(k, vol), { data, mode: defaultMode });
    return;
  }
  for (const it of items) {
    const data = entries.get(it.key);
    if (!data) {
      if (optional) continue;
      throw new VolumeError(`volume ${vol}: ${kind} "${name}": key ${JSON.stringify(it.key)} not found`);
    }
    out.set(checkPath(it.path, vol), { data, mode: it.mode ?? defaultMode });
  }
}

function configMapEntries(cm: ConfigMap | null | undefined): Map<string, Buffer> | undefined {
  if (!cm) return undefined;
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) m.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) m.set(k, Buffer.from(v, 'base64'));
  return m;
}

function secretEntries(s: Secret | null | undefined): Map<string, Buffer> | undefined {
  if (!s) return undefined;
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s.data ?? {})) m.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(s.stringData ?? {})) if (!m.has(k)) m.set(k, Buffer.from(v, 'utf8'));
  return m;
}

function downwardPayload(out: Payload, vol: string, pod: Pod, items: DownwardAPIVolumeFile[], defaultMode: number, facts: Pick<PodRuntimeFacts, 'podIP' | 'hostIP' | 'nodeName'>): void {
  for (const it of items) {
    let value: string;
    try {
      if (it.fieldRef) value = fieldRefValue(pod, it.fieldRef.fieldPath, facts);
      else if (it.resourceFieldRef) {
        const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === it.resourceFieldRef!.containerName);
        value = resourceFieldValue(c, it.resourceFieldRef.resource, it.resourceFieldRef.divisor);
      } else throw new VolumeError(`volume ${vol}: item ${it.path} has neither fieldRef nor resourceFieldRef`);
    } catch (err) {
      if (err instanceof ContainerConfigError) throw new VolumeError(`volume ${vol}: ${err.message}`);
      throw err;
    }
    out.set(checkPath(it.path, vol), { data: Buffer.from(value, 'utf8'), mode: it.mode ?? defaultMode });
  }
}

/** Tokens for projected serviceAccountToken sources, by `<volume>/<path>`. */
export type TokenLookup = (volume: string, path: string) => string | undefined;

/**
 * The files of a configMap, secret, downwardAPI or projected volume. Pure:
 * `objects` holds the referenced ConfigMaps/Secrets (null = not found) and
 * `tokens` the ServiceAccount tokens already requested.
 */
export function volumePayload(pod: Pod, v: Volume, objects: PodObjects, facts: Pick<PodRuntimeFacts, 'podIP' | 'hostIP' | 'nodeName'>, tokens: TokenLookup = () => undefined): Payload {
  const out: Payload = new Map();
  if (v.configMap) {
    const name = v.configMap.name ?? '';
    keyedPayload(out, v.name, 'configmap', name, configMapEntries(objects.configMaps.get(name)), v.configMap.items, v.configMap.optional, v.configMap.defaultMode ?? DEFAULT_MODE);
  } else if (v.secret) {
    const name = v.secret.secretName ?? '';
    keyedPayload(out, v.name, 'secret', name, secretEntries(objects.secrets.get(name)), v.secret.items, v.secret.optional, v.secret.defaultMode ?? DEFAULT_MODE);
  } else if (v.downwardAPI) {
    downwardPayload(out, v.name, pod, v.downwardAPI.items ?? [], v.downwardAPI.defaultMode ?? DEFAULT_MODE, facts);
  } else if (v.projected) {
    const mode = v.projected.defaultMode ?? DEFAULT_MODE;
    for (const s of v.projected.sources ?? []) {
      if (s.configMap) {
        const name = s.configMap.name ?? '';
        keyedPayload(out, v.name, 'configmap', name, configMapEntries(objects.configMaps.get(name)), s.configMap.items, s.configMap.optional, mode);
      } else if (s.secret) {
        const name = s.secret.name ?? '';
        keyedPayload(out, v.name, 'secret', name, secretEntries(objects.secrets.get(name)), s.secret.items, s.secret.optional, mode);
      } else if (s.downwardAPI) {
        downwardPayload(out, v.name, pod, s.downwardAPI.items ?? [], mode, facts);
      } else if (s.serviceAccountToken) {
        const p = checkPath(s.serviceAccountToken.path, v.name);
        const token = tokens(v.name, p);
        if (token === undefined) {
          throw new VolumeError(`volume ${v.name}: serviceAccountToken projection needs the apiserver's serviceaccounts/token subresource, which is not available`, 'CreateContainerConfigError');
        }
        out.set(p, { data: Buffer.from(token, 'utf8'), mode });
      }
    }
  }
  return out;
}

/** Content hash of a payload (paths, modes, bytes): the name of its `..<hash>` directory. */
export function payloadHash(p: Payload): string {
  const h = createHash('sha256');
  for (const k of [...p.keys()].sort()) {
    const f = p.get(k)!;
    h.update(`${k}\0${f.mode}\0${f.data.length}\0`);
    h.update(f.data);
  }
  return h.digest('hex').slice(0, 16);
}

/** Docker volume name of a memory-backed emptyDir. */
export function memoryVolumeName(uid: string, volume: string): string {
  return `coxswain-${uid}-${volume}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

/** Plugin directory names, as Kubernetes lays them out. */
export function pluginDir(v: Volume): string {
  if (v.emptyDir) return 'kubernetes.io~empty-dir';
  if (v.configMap) return 'kubernetes.io~configmap';
  if (v.secret) return 'kubernetes.io~secret';
  if (v.downwardAPI) return 'kubernetes.io~downward-api';
  if (v.projected) return 'kubernetes.io~projected';
  return 'kubernetes.io~other';
}

/** Secret and projected volumes (secrets, ServiceAccount tokens) live on tmpfs, as in Kubernetes: never on disk. */
export function wantsTmpfs(v: Volume): boolean {
  return !!(v.secret || v.projected);
}
