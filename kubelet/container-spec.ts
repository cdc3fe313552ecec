import { createHash } from 'node:crypto';
import type { Container, EnvVar, Pod } from 'kubernetes-types/core/v1';
import {
  LABEL_CONTAINER_HASH,
  LABEL_CONTAINER_NAME,
  LABEL_GRACE_PERIOD,
  LABEL_NODE,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  LABEL_RESTART_COUNT,
  SANDBOX_CONTAINER_NAME,
  type ContainerSpec,
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

/** Facts about the running pod that fieldRef env vars can read. */
export interface PodRuntimeFacts {
  podIP?: string;
  hostIP: string;
  nodeName: string;
}

export function podGracePeriodSeconds(pod: Pod): number {
  return pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS;
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

function fieldRefValue(pod: Pod, path: string, facts: PodRuntimeFacts): string {
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

/** Resolves a container's env to `NAME=value` pairs, in order, expanding `$(VAR)`. */
export function resolveEnv(pod: Pod, c: Container, facts: PodRuntimeFacts): { env: string[]; vars: Map<string, string> } {
  const vars = new Map<string, string>();
  for (const e of (c.env ?? []) as EnvVar[]) {
    let value: string;
    if (e.valueFrom) {
      if (e.valueFrom.fieldRef) value = fieldRefValue(pod, e.valueFrom.fieldRef.fieldPath, facts);
      else throw new ContainerConfigError(`env ${e.name}: only value and valueFrom.fieldRef are supported yet`);
    } else {
      value = expandVars(e.value ?? '', vars);
    }
    vars.set(e.name, value);
  }
  return { env: [...vars].map(([k, v]) => `${k}=${v}`), vars };
}

export function buildSandboxSpec(pod: Pod, attempt: number, nodeName: string, network: string | undefined): SandboxSpec {
  const hostNetwork = pod.spec?.hostNetwork === true;
  return {
    name: runtimeContainerName(pod, SANDBOX_CONTAINER_NAME, attempt),
    image: PAUSE_IMAGE,
    labels: podLabels(pod, nodeName, SANDBOX_CONTAINER_NAME, attempt),
    hostname: hostNetwork ? undefined : (pod.spec?.hostname ?? pod.metadata?.name)?.slice(0, 63),
    network: hostNetwork ? undefined : network,
    hostNetwork,
  };
}

/** Throws ContainerConfigError when the spec cannot be honoured. */
export function buildContainerSpec(pod: Pod, c: Container, restartCount: number, sandboxId: string, facts: PodRuntimeFacts): ContainerSpec {
  if (!c.image) throw new ContainerConfigError(`container ${c.name} has no image`);
  const { env, vars } = resolveEnv(pod, c, facts);
  return {
    name: runtimeContainerName(pod, c.name, restartCount),
    image: c.image,
    labels: { ...podLabels(pod, facts.nodeName, c.name, restartCount), [LABEL_CONTAINER_HASH]: containerHash(c) },
    entrypoint: c.command?.map((s) => expandVars(s, vars)),
    cmd: c.args?.map((s) => expandVars(s, vars)),
    env,
    workingDir: c.workingDir,
    sandboxId,
    hostNetwork: pod.spec?.hostNetwork === true,
    tty: c.tty,
    stdin: c.stdin,
  };
}
