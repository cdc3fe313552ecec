import type { Container, PersistentVolumeClaim, Pod, ResourceQuota, Service } from 'kubernetes-types/core/v1';
import { cpuMillis, parseQuantity } from './quantity';

/**
 * What ResourceQuota counts, shared by the apiserver's quota admission (which charges a
 * create) and the controllers' resourcequota controller (which recounts a namespace):
 * the usage of one object, in the quota's resource names, and whether a quota's scopes
 * select it. Pure; quantities are integers: millicores for CPU names, bytes or a count
 * for everything else (as Kubernetes compares them).
 */

/** Resource name → amount (millicores for `*cpu`, else bytes or a count). */
export type Usage = Map<string, number>;

/** A resource as the quota names it: plural and group ("" for core). */
export interface QuotaResource {
  resource: string;
  group: string;
}

const isCpu = (name: string): boolean => name === 'cpu' || name.endsWith('.cpu');

/** A quantity string as an integer amount of `name`'s unit (undefined when malformed). */
export function amountOf(name: string, q: unknown): number | undefined {
  const v = parseQuantity(q);
  if (v === undefined) return undefined;
  return isCpu(name) ? cpuMillis(v) : Math.ceil(Math.round(v * 1e6) / 1e6);
}

const BINARY: [string, number][] = [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];
const DECIMAL: [string, number][] = [['E', 1e18], ['P', 1e15], ['T', 1e12], ['G', 1e9], ['M', 1e6], ['k', 1e3]];

/** An amount back as a quantity string: "500m"/"2" for CPU, "128Mi"/"5G"/"7" otherwise. */
export function formatAmount(name: string, n: number): string {
  if (isCpu(name)) return n % 1000 === 0 ? String(n / 1000) : `${n}m`;
  if (n === 0) return '0';
  for (const [s, f] of BINARY) if (n % f === 0) return `${n / f}${s}`;
  for (const [s, f] of DECIMAL) if (n % f === 0) return `${n / f}${s}`;
  return String(n);
}

/** The object-count name of a resource: `count/pods`, `count/deployments.apps`. */
export function countName(r: QuotaResource): string {
  return r.group ? `count/${r.resource}.${r.group}` : `count/${r.resource}`;
}

/** Parses `count/<resource>[.<group>]` (undefined for other names). */
export function parseCountName(name: string): QuotaResource | undefined {
  const m = /^count\/([a-z0-9-]+)(?:\.(.+))?$/.exec(name);
  return m ? { resource: m[1], group: m[2] ?? '' } : undefined;
}

/** Core kinds the quota also counts under their legacy names (`pods`, `services`, …). */
const LEGACY_COUNTS = new Set(['pods', 'services', 'configmaps', 'secrets', 'persistentvolumeclaims', 'replicationcontrollers', 'resourcequotas']);

function add(u: Usage, name: string, n: number): void {
  u.set(name, (u.get(name) ?? 0) + n);
}

/** Whether a pod still uses quota: not Succeeded or Failed (Kubernetes' QuotaV1Pod, without the deletion grace). */
export function podCountsForQuota(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/** The pod's effective requests or limits per resource: the larger of the containers' sum and any one init container. */
function podResources(pod: Pod, kind: 'requests' | 'limits'): Usage {
  const out: Usage = new Map();
  const list = (c: Container) => Object.entries(c?.resources?.[kind] ?? {});
  for (const c of pod.spec?.containers ?? []) for (const [k, v] of list(c)) add(out, k, amountOf(k, v) ?? 0);
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [k, v] of list(c)) {
      const n = amountOf(k, v) ?? 0;
      if (n > (out.get(k) ?? 0)) out.set(k, n);
    }
  }
  for (const [k, v] of Object.entries(pod.spec?.overhead ?? {})) if (out.has(k)) add(out, k, amountOf(k, v) ?? 0);
  return out;
}

/** A pod's usage: `pods`, `count/pods`, and `cpu`/`memory`/`ephemeral-storage` as `requests.*` (also bare) and `limits.*`. */
export function podUsage(pod: Pod): Usage {
  const u: Usage = new Map();
  if (!podCountsForQuota(pod)) return u;
  u.set('pods', 1);
  u.set('count/pods', 1);
  for (const [k, n] of podResources(pod, 'requests')) {
    u.set(`requests.${k}`, n);
    if (k === 'cpu' || k === 'memory' || k === 'ephemeral-storage') u.set(k, n);
  }
  for (const [k, n] of podResources(pod, 'limits')) u.set(`limits.${k}`, n);
  return u;
}

/** The usage one object of resource `r` adds: its counts, and what pods, services and claims add beyond them. */
export function objectUsage(r: QuotaResource, obj: unknown): Usage {
  if (r.group === '' && r.resource === 'pods') return podUsage(obj as Pod);
  const u: Usage = new Map([[countName(r), 1]]);
  if (r.group !== '') return u;
  if (LEGACY_COUNTS.has(r.resource)) u.set(r.resource, 1);
  if (r.resource === 'services') {
    const s = obj as Service;
    if (s.spec?.type === 'NodePort' || s.spec?.type === 'LoadBalancer') u.set('services.nodeports', (s.spec.ports ?? []).length);
    if (s.spec?.type === 'LoadBalancer') u.set('services.loadbalancers', 1);
  }
  if (r.resource === 'persistentvolumeclaims') {
    const c = obj as PersistentVolumeClaim;
    const storage = amountOf('storage', c.spec?.resources?.requests?.storage) ?? 0;
    u.set('requests.storage', storage);
    const cls = c.spec?.storageClassName;
    if (cls) {
      u.set(`${cls}.storageclass.storage.k8s.io/requests.storage`, storage);
      u.set(`${cls}.storageclass.storage.k8s.io/persistentvolumeclaims`, 1);
    }
  }
  return u;
}

/**
 * What an update adds to a quota: for each name, how much `next` uses beyond `prev` (names
 * whose usage stays or falls are left out; a fall is given back by the controller's recount).
 */
export function usageIncrease(next: Usage, prev: Usage): Usage {
  const out: Usage = new Map();
  for (const [n, v] of next) if (v > (prev.get(n) ?? 0)) out.set(n, v - (prev.get(n) ?? 0));
  return out;
}

/**
 * Resources whose updates the quota charges (Kubernetes' evaluators that handle UPDATE): a
 * Service that becomes NodePort or LoadBalancer, a claim whose storage request grows. A pod's
 * resources cannot change after create, and object counts do not change on update.
 */
export function chargedOnUpdate(r: QuotaResource): boolean {
  return r.group === '' && (r.resource === 'services' || r.resource === 'persistentvolumeclaims');
}

/** Pod-related names a scoped quota may limit (everything else is ignored by a quota with scopes). */
const POD_NAMES = /^(pods|count\/pods|cpu|memory|ephemeral-storage|requests\.(cpu|memory|ephemeral-storage)|limits\.(cpu|memory|ephemeral-storage))$/;

/** Whether the pod is BestEffort for quota: no container requests or limits cpu or memory. */
function bestEffort(pod: Pod): boolean {
  const cs = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  return cs.every((c) => ['requests', 'limits'].every((k) => {
    const l: Record<string, unknown> = (k === 'requests' ? c?.resources?.requests : c?.resources?.limits) ?? {};
    return l.cpu === undefined && l.memory === undefined;
  }));
}

/** The quota's scopes (spec.scopes and the Exists/In/NotIn of spec.scopeSelector that name scopes without values). */
function scopesOf(q: ResourceQuota): string[] {
  const out = [...(q.spec?.scopes ?? [])];
  for (const e of q.spec?.scopeSelector?.matchExpressions ?? []) if (e.operator === 'Exists') out.push(e.scopeName);
  return out;
}

/**
 * Whether quota `q` applies to an object of `r`: a quota without scopes applies to all; a
 * scoped one only to pods that match every scope (Terminating: activeDeadlineSeconds set;
 * NotTerminating; BestEffort; NotBestEffort).
 */
export function quotaMatches(q: ResourceQuota, r: QuotaResource, obj: unknown): boolean {
  const scopes = scopesOf(q);
  if (!scopes.length) return true;
  if (r.group !== '' || r.resource !== 'pods') return false;
  const pod = obj as Pod;
  return scopes.every((s) => {
    switch (s) {
      case 'Terminating': return pod.spec?.activeDeadlineSeconds !== undefined && pod.spec.activeDeadlineSeconds !== null;
      case 'NotTerminating': return pod.spec?.activeDeadlineSeconds === undefined || pod.spec.activeDeadlineSeconds === null;
      case 'BestEffort': return bestEffort(pod);
      case 'NotBestEffort': return !bestEffort(pod);
      default: return false;
    }
  });
}

/** Which of the quota's hard names it tracks for objects of `r` (a scoped quota: pod-related names only). */
export function trackedNames(q: ResourceQuota, hard: string[]): string[] {
  return scopesOf(q).length ? hard.filter((n) => POD_NAMES.test(n)) : hard;
}

/** The hard names a pod must state requests or limits for, and the message when it does not (Kubernetes' pod evaluator Constraints). */
export function podConstraintError(pod: Pod, hard: string[]): string | undefined {
  const need = hard.filter((n) => /^(requests\.|limits\.)?(cpu|memory)$/.test(n));
  if (!need.length) return undefined;
  const missing = new Map<string, Set<string>>();
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    const req: Record<string, unknown> = c?.resources?.requests ?? {};
    const lim: Record<string, unknown> = c?.resources?.limits ?? {};
    for (const n of need) {
      const res = n.replace(/^(requests|limits)\./, '');
      const has = n.startsWith('limits.') ? lim[res] !== undefined : req[res] !== undefined;
      if (!has) missing.set(n, (missing.get(n) ?? new Set()).add(c.name));
    }
  }
  if (!missing.size) return undefined;
  const parts = [...missing.keys()].sort().map((n) => `${n} for: ${[...missing.get(n)!].sort().join(',')}`);
  return `must specify ${parts.join('; ')}`;
}

/** `a=1,b=2`, sorted by name, from the given quantity strings. */
export function prettyList(entries: [string, string][]): string {
  return [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join(',');
}
