import type { Container, EnvVar, Pod, Secret } from 'kubernetes-types/core/v1';
import { bytesOf, cpuMillis, parseQuantity } from '../lib/quantity';
import { ContainerConfigError, type PodRuntimeFacts } from './pod-inputs';

/**
 * A container's environment, pure: `env` and `envFrom` resolved against the pod's
 * ConfigMaps and Secrets, the downward API (fieldRef, resourceFieldRef) and the
 * service variables, with Kubernetes' `$(VAR)` expansion.
 */

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
