import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ConfigMap, Container, EnvVar, Pod, ResourceRequirements, SeccompProfile, Secret } from 'kubernetes-types/core/v1';
import { bytesOf, cpuMillis, parseQuantity } from '../lib/quantity';
import {
  LABEL_CONTAINER_HASH,
  LABEL_CONTAINER_NAME,
  LABEL_GRACE_PERIOD,
  LABEL_NODE,
  LABEL_POD_NAME,
  LABEL_POD_IP,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  LABEL_RESTART_COUNT,
  LABEL_TERMINATION_MESSAGE_FILE,
  LABEL_TERMINATION_MESSAGE_POLICY,
  SANDBOX_CONTAINER_NAME,
  type ContainerSpec,
  type MountSpec,
  type PullPolicy,
  type SandboxSpec,
} from './runtime';

/**
 * Pure translation of a pod spec into runtime specs: names, labels, env
 * (values, `$(VAR)` expansion, fieldRef), command/args. No IO.
 */

export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
export const DEFAULT_GRACE_PERIOD_SECONDS = 30;

/** A container cannot be configured (Kubernetes' `CreateContainerConfigError`). */
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

/** A volume of the pod as prepared on this host (see volumes.ts). */
export interface PreparedVolume {
  /** Host directory (or file) bind-mounted into containers. */
  hostPath?: string;
  /** Docker named volume (tmpfs-backed emptyDir with medium Memory). */
  dockerVolume?: { name: string; options: Record<string, string>; labels: Record<string, string> };
  /** configMap, secret, downwardAPI and projected volumes are always read-only. */
  readOnly: boolean;
}

/** The API objects a pod references, fetched before the sync (null = not found). */
export interface PodObjects {
  configMaps: Map<string, ConfigMap | null>;
  secrets: Map<string, Secret | null>;
}

/** Facts about the running pod that fieldRef env vars can read, and what it references. */
export interface PodRuntimeFacts {
  podIP?: string;
  hostIP: string;
  nodeName: string;
  objects?: PodObjects;
  /** Prepared volumes by name; required for containers with volumeMounts. */
  volumes?: Map<string, PreparedVolume>;
  /** Host file to bind-mount at the container's terminationMessagePath (created by the caller). */
  terminationMessageFile?: string;
  /** The pod's kubelet-managed hosts file (`hostsFileContent`), bind-mounted at /etc/hosts unless the container mounts something there. */
  hostsFile?: string;
  /** The pod's kubelet-managed resolv.conf (`resolvConfContent`), bind-mounted at /etc/resolv.conf likewise. */
  resolvConfFile?: string;
  /** `--seccomp-default`: RuntimeDefault instead of Unconfined for containers that name no profile. */
  seccompDefault?: boolean;
  /** The JSON of the container's Localhost seccomp profile (read by the caller from `<root-dir>/seccomp/`). */
  seccompLocalhost?: string;
  /** Service environment variables (`service-env.ts`), added after the container's own env unless it declares the same name. */
  serviceEnv?: [string, string][];
}

export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** Where the container writes its termination message; undefined when it has none (empty path). */
export function terminationMessagePath(c: Container): string | undefined {
  const p = c.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH;
  return p === '' ? undefined : p;
}

export function podGracePeriodSeconds(pod: Pod): number {
  return pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS;
}

/** `<namespace>/<name>`, how logs name a pod. */
export function podRef(pod: Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name}`;
}

/** `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>`, like dockershim. */
export function runtimeContainerName(pod: Pod, containerName: string, attempt: number): string {
  const m = pod.metadata ?? {};
  return `k8s_${containerName}_${m.name}_${m.namespace ?? 'default'}_${m.uid}_${attempt}`;
}

/** Labels every container of the pod carries; the runtime state is rebuilt from them. */
export function podLabels(pod: Pod, nodeName: string, containerName: string, restartCount: number): Record<string, string> {
  const m = pod.metadata ?? {};
  return {
    [LABEL_POD_NAMESPACE]: m.namespace ?? 'default',
    [LABEL_POD_NAME]: m.name ?? '',
    [LABEL_POD_UID]: m.uid ?? '',
    [LABEL_CONTAINER_NAME]: containerName,
    [LABEL_RESTART_COUNT]: String(restartCount),
    [LABEL_NODE]: nodeName,
    [LABEL_GRACE_PERIOD]: String(podGracePeriodSeconds(pod)),
  };
}

/**
 * A stable hash of the parts of a container spec that need a new container when
 * they change (everything but resources, which can be updated in place later).
 */
export function containerHash(c: Container): string {
  const { resources: _r, ...rest } = c;
  return createHash('sha256').update(stableJSON(rest)).digest('hex').slice(0, 16);
}

function stableJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJSON).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJSON((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Kubernetes' default: Always for `:latest` or untagged images, else IfNotPresent. */
export function pullPolicyOf(c: Container): PullPolicy {
  const p = c.imagePullPolicy;
  if (p === 'Always' || p === 'IfNotPresent' || p === 'Never') return p;
  const image = c.image ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  const tag = colon >= 0 ? image.slice(colon + 1) : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/**
 * Expands `$(VAR)` references from `vars`; `$$(VAR)` is an escaped literal
 * `$(VAR)`, and an unknown reference is left as written (Kubernetes semantics).
 */
export function expandVars(s: string, vars: Map<string, string>): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch !== '$' || i + 1 >= s.length) {
      out += ch;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '(') {
      const end = s.indexOf(')', i + 2);
      if (end >= 0) {
        const name = s.slice(i + 2, end);
        const val = vars.get(name);
        out += val !== undefined ? val : s.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

/** Reads a downward API field (env fieldRef and downwardAPI volume items). */
export function fieldRefValue(pod: Pod, path: string, facts: Pick<PodRuntimeFacts, 'podIP' | 'hostIP' | 'nodeName'>): string {
  const m = pod.metadata ?? {};
  const sub = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (sub) return (sub[1] === 'labels' ? m.labels : m.annotations)?.[sub[2]] ?? '';
  switch (path) {
    case 'metadata.name':
      return m.name ?? '';
    case 'metadata.namespace':
      return m.namespace ?? 'default';
    case 'metadata.uid':
      return m.uid ?? '';
    case 'metadata.labels':
      return formatMap(m.labels);
    case 'metadata.annotations':
      return formatMap(m.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? facts.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return facts.podIP ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return facts.hostIP;
    default:
      throw new ContainerConfigError(`unsupported fieldRef fieldPath ${JSON.stringify(path)}`);
  }
}

/** `key="value"` lines, sorted, as the downward API writes labels and annotations. */
function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

/** Reads a resourceFieldRef (limits/requests of cpu, memory, ephemeral-storage) divided by `divisor`, rounded up. */
export function resourceFieldValue(c: Container | undefined, resource: string, divisor: string | number | undefined, nodeAllocatable?: { cpuMillis: number; memoryBytes: number }): string {
  if (!c) throw new ContainerConfigError(`resourceFieldRef ${resource}: no such container`);
  const [kind, name] = resource.split('.') as ['limits' | 'requests', string];
  if ((kind !== 'limits' && kind !== 'requests') || !name) throw new ContainerConfigError(`unsupported resourceFieldRef resource ${JSON.stringify(resource)}`);
  const res = c.resources ?? {};
  let q = (kind === 'limits' ? res.limits : res.requests)?.[name];
  if (q === undefined && kind === 'requests') q = res.limits?.[name];
  const d = parseQuantity(divisor ?? 1) || 1;
  if (name === 'cpu') {
    const millis = q !== undefined ? cpuMillis(q) : kind === 'limits' ? (nodeAllocatable?.cpuMillis ?? 0) : 0;
    return String(Math.ceil(millis / 1000 / d - 1e-9));
  }
  if (name === 'memory' || name === 'ephemeral-storage') {
    const bytes = q !== undefined ? bytesOf(q) : kind === 'limits' ? (nodeAllocatable?.memoryBytes ?? 0) : 0;
    return String(Math.ceil(bytes / d - 1e-9));
  }
  throw new ContainerConfigError(`unsupported resourceFieldRef resource ${JSON.stringify(resource)}`);
}

function lookup<T>(m: Map<string, T | null> | undefined, name: string): T | undefined {
  return m?.get(name) ?? undefined;
}

function secretValue(s: Secret, key: string): string | undefined {
  if (s.data?.[key] !== undefined) return Buffer.from(s.data[key], 'base64').toString('utf8');
  return s.stringData?.[key];
}

function secretKeys(s: Secret): string[] {
  return [...new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})])];
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * Resolves a container's env to `NAME=value` pairs: `envFrom` first (in order,
 * with prefix), then `env` (value with `$(VAR)` expansion, fieldRef,
 * resourceFieldRef, configMapKeyRef, secretKeyRef), later names overriding
 * earlier ones. A missing, non-optional ConfigMap, Secret or key throws
 * ContainerConfigError with Kubernetes' message.
 */
export function resolveEnv(pod: Pod, c: Container, facts: PodRuntimeFacts): { env: string[]; vars: Map<string, string> } {
  const vars = new Map<string, string>();
  const ns = pod.metadata?.namespace ?? 'default';
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const name = from.configMapRef.name ?? '';
      const cm = lookup(facts.objects?.configMaps, name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      for (const [k, v] of Object.entries({ ...cm.binaryData, ...cm.data })) if (ENV_NAME.test(prefix + k)) vars.set(prefix + k, cm.data?.[k] ?? Buffer.from(v, 'base64').toString('utf8'));
    } else if (from.secretRef) {
      const name = from.secretRef.name ?? '';
      const s = lookup(facts.objects?.secrets, name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      for (const k of secretKeys(s)) if (ENV_NAME.test(prefix + k)) vars.set(prefix + k, secretValue(s, k) ?? '');
    }
  }
  const serviceEnv = new Map(facts.serviceEnv ?? []);
  for (const e of (c.env ?? []) as EnvVar[]) {
    let value: string | undefined;
    const vf = e.valueFrom;
    // As in kubelet, $(VAR) sees the container's variables so far, then the service variables.
    if (!vf) value = expandVars(e.value ?? '', serviceEnv.size && (e.value ?? '').includes('$(') ? new Map([...serviceEnv, ...vars]) : vars);
    else if (vf.fieldRef) value = fieldRefValue(pod, vf.fieldRef.fieldPath, facts);
    else if (vf.resourceFieldRef) {
      const target = vf.resourceFieldRef.containerName ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === vf.resourceFieldRef!.containerName) : c;
      value = resourceFieldValue(target, vf.resourceFieldRef.resource, vf.resourceFieldRef.divisor);
    } else if (vf.configMapKeyRef) {
      const { name = '', key, optional } = vf.configMapKeyRef;
      const cm = lookup(facts.objects?.configMaps, name);
      if (!cm) {
        if (optional) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      value = cm.data?.[key] ?? (cm.binaryData?.[key] !== undefined ? Buffer.from(cm.binaryData[key], 'base64').toString('utf8') : undefined);
      if (value === undefined) {
        if (optional) continue;
        throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
      }
    } else if (vf.secretKeyRef) {
      const { name = '', key, optional } = vf.secretKeyRef;
      const s = lookup(facts.objects?.secrets, name);
      if (!s) {
        if (optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      value = secretValue(s, key);
      if (value === undefined) {
        if (optional) continue;
        throw new ContainerConfigError(`couldn't find key ${key} in Secret ${ns}/${name}`);
      }
    } else throw new ContainerConfigError(`env ${e.name}: unsupported valueFrom`);
    vars.set(e.name, value);
  }
  const env = [...vars].map(([k, v]) => `${k}=${v}`);
  for (const [k, v] of serviceEnv) if (!vars.has(k)) env.push(`${k}=${v}`);
  return { env, vars: serviceEnv.size ? new Map([...serviceEnv, ...vars]) : vars };
}

/** Names of the ConfigMaps and Secrets a pod's env, envFrom, volumes and imagePullSecrets reference. */
export function referencedObjects(pod: Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) configMaps.add(f.configMapRef.name);
      if (f.secretRef?.name) secrets.add(f.secretRef.name);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    }
  }
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap?.name) configMaps.add(s.configMap.name);
      if (s.secret?.name) secrets.add(s.secret.name);
    }
  }
  for (const s of pod.spec?.imagePullSecrets ?? []) if (s.name) secrets.add(s.name);
  return { configMaps, secrets };
}

export function buildSandboxSpec(pod: Pod, attempt: number, nodeName: string, podIP: string | undefined, seccompDefault = false): SandboxSpec {
  const hostNetwork = pod.spec?.hostNetwork === true;
  const labels = podLabels(pod, nodeName, SANDBOX_CONTAINER_NAME, attempt);
  if (!hostNetwork && podIP) labels[LABEL_POD_IP] = podIP;
  return {
    name: runtimeContainerName(pod, SANDBOX_CONTAINER_NAME, attempt),
    image: PAUSE_IMAGE,
    labels,
    hostname: hostNetwork ? undefined : podHostname(pod),
    podIP: hostNetwork ? undefined : podIP,
    hostNetwork,
    // The pause process needs no profile file: a Localhost profile of the pod applies to its containers, Docker's default to the sandbox.
    securityOpt: effectiveSeccomp(pod)?.type === 'Localhost' ? [] : seccompSecurityOpt(effectiveSeccomp(pod), 'pod sandbox', seccompDefault),
  };
}

export const CPU_PERIOD_US = 100_000;

/** Docker cgroup settings from a container's requests and limits (as kubelet's dockershim/cri-dockerd). */
export function dockerResources(r: ResourceRequirements | undefined): ContainerSpec['resources'] {
  const limits = r?.limits ?? {};
  const requests = { ...limits, ...r?.requests };
  const out: NonNullable<ContainerSpec['resources']> = {};
  if (requests.cpu !== undefined) out.cpuShares = Math.max(2, Math.floor((cpuMillis(requests.cpu) * 1024) / 1000));
  if (limits.cpu !== undefined) {
    out.cpuPeriod = CPU_PERIOD_US;
    out.cpuQuota = Math.max(1000, Math.floor((cpuMillis(limits.cpu) * CPU_PERIOD_US) / 1000));
  }
  if (limits.memory !== undefined) out.memoryBytes = bytesOf(limits.memory);
  return Object.keys(out).length ? out : undefined;
}

/** The seccomp profile that applies to a container (its own wins over the pod's), or the pod's for the sandbox. */
export function effectiveSeccomp(pod: Pod, c?: Container): SeccompProfile | undefined {
  return c?.securityContext?.seccompProfile ?? pod.spec?.securityContext?.seccompProfile;
}

/**
 * Docker's `seccomp=` security option for a profile, as Kubernetes' Docker
 * runtimes map it: none named means Unconfined (Kubernetes' default; RuntimeDefault
 * with `--seccomp-default`); Unconfined → `seccomp=unconfined`; RuntimeDefault →
 * Docker's own default profile (no option); Localhost → the profile's JSON.
 */
export function seccompSecurityOpt(profile: SeccompProfile | undefined, who: string, seccompDefault = false, localhostJson?: string): string[] {
  const type = profile?.type ?? (seccompDefault ? 'RuntimeDefault' : 'Unconfined');
  switch (type) {
    case 'Unconfined':
      return ['seccomp=unconfined'];
    case 'RuntimeDefault':
      return [];
    case 'Localhost':
      if (!profile?.localhostProfile) throw new ContainerConfigError(`${who}: seccompProfile.localhostProfile must be set when type is Localhost`);
      if (localhostJson === undefined) throw new ContainerConfigError(`${who}: cannot load seccomp profile "${profile.localhostProfile}"`);
      return [`seccomp=${localhostJson}`];
    default:
      throw new ContainerConfigError(`${who}: seccompProfile.type must be Unconfined, RuntimeDefault or Localhost, not ${JSON.stringify(type)}`);
  }
}

/** Docker security settings from the pod's and the container's securityContext (the container's wins). */
export function dockerSecurity(pod: Pod, c: Container, seccomp: Pick<PodRuntimeFacts, 'seccompDefault' | 'seccompLocalhost'> = {}): ContainerSpec['security'] {
  const psc = pod.spec?.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
  if (runAsGroup !== undefined && runAsUser === undefined) throw new ContainerConfigError(`container ${c.name}: runAsGroup is specified without a runAsUser`);
  const out: NonNullable<ContainerSpec['security']> = {};
  if (runAsUser !== undefined) out.user = runAsGroup !== undefined ? `${runAsUser}:${runAsGroup}` : String(runAsUser);
  const groups = [...(psc.supplementalGroups ?? []), ...(psc.fsGroup !== undefined ? [psc.fsGroup] : [])];
  if (groups.length) out.groupAdd = groups.map(String);
  if (sc.readOnlyRootFilesystem) out.readOnlyRootfs = true;
  if (sc.privileged) out.privileged = true;
  if (sc.capabilities?.add?.length) out.capAdd = sc.capabilities.add.map(capName);
  if (sc.capabilities?.drop?.length) out.capDrop = sc.capabilities.drop.map(capName);
  const opts = [...(sc.allowPrivilegeEscalation === false ? ['no-new-privileges'] : []), ...(sc.privileged ? [] : seccompSecurityOpt(effectiveSeccomp(pod, c), `container ${c.name}`, seccomp.seccompDefault, seccomp.seccompLocalhost))];
  if (opts.length) out.securityOpt = opts;
  if (sc.runAsNonRoot ?? psc.runAsNonRoot) {
    if (runAsUser === 0) throw new ContainerConfigError(`container ${c.name}: runAsNonRoot and runAsUser 0 contradict each other`);
    if (runAsUser === undefined) out.requireNonRoot = true;
  }
  return Object.keys(out).length ? out : undefined;
}

function capName(c: string): string {
  return c.toUpperCase() === 'ALL' ? 'ALL' : c.toUpperCase().replace(/^CAP_/, '');
}

/** Docker mounts for a container's volumeMounts over the prepared volumes. */
export function buildMounts(c: Container, volumes: Map<string, PreparedVolume> | undefined): MountSpec[] {
  const mounts: MountSpec[] = [];
  for (const m of c.volumeMounts ?? []) {
    const v = volumes?.get(m.name);
    if (!v) throw new ContainerConfigError(`container ${c.name}: volume "${m.name}" is not ready or does not exist`);
    const sub = m.subPath ?? '';
    if (sub && (path.isAbsolute(sub) || sub.split('/').includes('..'))) throw new ContainerConfigError(`container ${c.name}: subPath ${JSON.stringify(sub)} must be a relative path without '..'`);
    const readOnly = v.readOnly || m.readOnly === true;
    if (v.dockerVolume) {
      if (sub) throw new ContainerConfigError(`container ${c.name}: subPath is not supported on memory-backed emptyDir "${m.name}"`);
      mounts.push({ type: 'volume', source: v.dockerVolume.name, target: m.mountPath, readOnly, volumeOptions: v.dockerVolume.options, volumeLabels: v.dockerVolume.labels });
    } else if (v.hostPath) {
      mounts.push({ type: 'bind', source: sub ? path.join(v.hostPath, sub) : v.hostPath, target: m.mountPath, readOnly });
    }
  }
  return mounts;
}

/** The pod's hostname: spec.hostname or its name, cut to 63 characters without a trailing '-' or '.' (as Kubernetes). */
export function podHostname(pod: Pod): string {
  return (pod.spec?.hostname ?? pod.metadata?.name ?? '').slice(0, 63).replace(/[-.]+$/, '');
}

/**
 * The /etc/hosts of a pod on the pod network, as Kubernetes' kubelet writes it:
 * localhost, the pod's own IP and hostname (fully qualified when it has a
 * subdomain), then its hostAliases.
 */
export function hostsFileContent(pod: Pod, podIP: string, clusterDomain = 'cluster.local'): string {
  const hostname = podHostname(pod);
  const names = pod.spec?.subdomain ? [`${hostname}.${pod.spec.subdomain}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}`, hostname] : [hostname];
  const lines = [
    '# Kubernetes-managed hosts file (Coxswain kubelet).',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    `${podIP}\t${names.join('\t')}`,
  ];
  const aliases = (pod.spec?.hostAliases ?? []).filter((a) => a.ip && (a.hostnames ?? []).length > 0);
  if (aliases.length > 0) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases) lines.push(`${a.ip}\t${a.hostnames!.join('\t')}`);
  }
  return lines.join('\n') + '\n';
}

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

/** The nameserver, search/domain and options lines of a resolv.conf. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.searches = rest.filter(Boolean);
    else if (key === 'options') out.options.push(...rest.filter(Boolean));
  }
  return out;
}

/**
 * The /etc/resolv.conf of a pod on the pod network. Coxswain has no cluster DNS
 * yet, so every dnsPolicy but None resolves as `Default` (the node's resolver,
 * as Kubernetes' kubelet does when no cluster DNS is configured); dnsConfig's
 * nameservers, searches and options are added (None: only those). Loopback
 * nameservers of the node are dropped: the pod has its own loopback.
 */
export function resolvConfContent(pod: Pod, node: ResolvConf): string {
  const none = pod.spec?.dnsPolicy === 'None';
  const cfg = pod.spec?.dnsConfig ?? {};
  const dedupe = (xs: string[]) => [...new Set(xs)];
  const nameservers = dedupe([...(none ? [] : node.nameservers.filter((n) => !/^127\.|^::1$/.test(n))), ...(cfg.nameservers ?? [])]).slice(0, 3);
  const searches = dedupe([...(none ? [] : node.searches), ...(cfg.searches ?? [])]).slice(0, 32);
  // dnsConfig options override the node's of the same name.
  const options = new Map<string, string>();
  for (const o of none ? [] : node.options) options.set(o.split(':')[0], o);
  for (const o of cfg.options ?? []) if (o.name) options.set(o.name, o.value !== undefined ? `${o.name}:${o.value}` : o.name);
  const lines = nameservers.map((n) => `nameserver ${n}`);
  if (searches.length) lines.push(`search ${searches.join(' ')}`);
  if (options.size) lines.push(`options ${[...options.values()].join(' ')}`);
  return lines.join('\n') + '\n';
}

/** Throws ContainerConfigError when the spec cannot be honoured. */
export function buildContainerSpec(pod: Pod, c: Container, restartCount: number, sandboxId: string, facts: PodRuntimeFacts, extraLabels: Record<string, string> = {}): ContainerSpec {
  if (!c.image) throw new ContainerConfigError(`container ${c.name} has no image`);
  const { env, vars } = resolveEnv(pod, c, facts);
  const policy = c.terminationMessagePolicy ?? 'File';
  if (policy !== 'File' && policy !== 'FallbackToLogsOnError') throw new ContainerConfigError(`container ${c.name}: terminationMessagePolicy must be File or FallbackToLogsOnError, not ${JSON.stringify(policy)}`);
  const mounts = buildMounts(c, facts.volumes);
  const messagePath = terminationMessagePath(c);
  const messageLabels: Record<string, string> = { [LABEL_TERMINATION_MESSAGE_POLICY]: policy };
  if (messagePath && !path.isAbsolute(messagePath)) throw new ContainerConfigError(`container ${c.name}: terminationMessagePath must be an absolute path, not ${JSON.stringify(messagePath)}`);
  if (messagePath && facts.terminationMessageFile && !mounts.some((m) => m.target === messagePath)) {
    mounts.push({ type: 'bind', source: facts.terminationMessageFile, target: messagePath, readOnly: false });
    messageLabels[LABEL_TERMINATION_MESSAGE_FILE] = facts.terminationMessageFile;
  }
  if (facts.hostsFile && !mounts.some((m) => m.target === '/etc/hosts')) mounts.push({ type: 'bind', source: facts.hostsFile, target: '/etc/hosts', readOnly: false });
  if (facts.resolvConfFile && !mounts.some((m) => m.target === '/etc/resolv.conf')) mounts.push({ type: 'bind', source: facts.resolvConfFile, target: '/etc/resolv.conf', readOnly: false });
  return {
    name: runtimeContainerName(pod, c.name, restartCount),
    image: c.image,
    labels: { ...podLabels(pod, facts.nodeName, c.name, restartCount), [LABEL_CONTAINER_HASH]: containerHash(c), ...messageLabels, ...extraLabels },
    entrypoint: c.command?.map((s) => expandVars(s, vars)),
    cmd: c.args?.map((s) => expandVars(s, vars)),
    env,
    workingDir: c.workingDir,
    sandboxId,
    hostNetwork: pod.spec?.hostNetwork === true,
    tty: c.tty,
    stdin: c.stdin,
    mounts,
    resources: dockerResources(c.resources),
    security: dockerSecurity(pod, c, facts),
  };
}
