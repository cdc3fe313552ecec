import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Container, Pod, ResourceRequirements, SeccompProfile } from 'kubernetes-types/core/v1';
import { bytesOf, cpuMillis } from '../lib/quantity';
import { expandVars, resolveEnv } from './container-env';
import { podHostname } from './pod-files';
import { ContainerConfigError, type PodRuntimeFacts, type PreparedVolume } from './pod-inputs';
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
 * Pure translation of a pod spec into the runtime's specs (`runtime.ts`): names,
 * labels, the spec hash, pull policy, command/args over the resolved env
 * (`container-env.ts`), mounts, cgroup resources and security settings. No IO; the
 * Docker runtime maps these specs onto Docker (`docker/container-config.ts`).
 */

export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
export const DEFAULT_GRACE_PERIOD_SECONDS = 30;

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

/** cgroup settings from a container's requests and limits (as kubelet's kuberuntime computes them for the CRI). */
export function linuxResources(r: ResourceRequirements | undefined): ContainerSpec['resources'] {
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

/** Security settings from the pod's and the container's securityContext (the container's wins). */
export function linuxSecurity(pod: Pod, c: Container, seccomp: Pick<PodRuntimeFacts, 'seccompDefault' | 'seccompLocalhost'> = {}): ContainerSpec['security'] {
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

/** The runtime mounts for a container's volumeMounts over the prepared volumes. */
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
    resources: linuxResources(c.resources),
    security: linuxSecurity(pod, c, facts),
  };
}
