import type { ResourceQuota, ResourceQuotaStatus } from 'kubernetes-types/core/v1';
import { formatAmount, objectUsage, parseCountName, quotaMatches, type QuotaResource } from '../../lib/quota';
import { canonicalJson } from '../util/hash';

/**
 * The resourcequota controller's pure core: a quota's status recounted from the objects
 * of its namespace. `status.hard` is `spec.hard`; `status.used` has one entry per hard
 * name, the sum of what every object the quota applies to uses of it ("0" for none).
 */

/** The resource whose objects a hard name counts (undefined for a name nothing here counts). */
export function resourceFor(name: string): QuotaResource | undefined {
  const counted = parseCountName(name);
  if (counted) return counted;
  if (/^(pods|cpu|memory|ephemeral-storage)$/.test(name) || (/^(requests|limits)\./.test(name) && name !== 'requests.storage')) return { resource: 'pods', group: '' };
  if (/^services(\.nodeports|\.loadbalancers)?$/.test(name)) return { resource: 'services', group: '' };
  if (/^(configmaps|secrets|replicationcontrollers|resourcequotas)$/.test(name)) return { resource: name, group: '' };
  if (name === 'persistentvolumeclaims' || name === 'requests.storage' || /\.storageclass\.storage\.k8s\.io\/(requests\.storage|persistentvolumeclaims)$/.test(name)) {
    return { resource: 'persistentvolumeclaims', group: '' };
  }
  return undefined;
}

/** `resource.group` (or `resource` for core): the key `objects` is read by. */
export function resourceKey(r: QuotaResource): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

/** The resources a quota's hard names need listed. */
export function resourcesNeeded(q: ResourceQuota): QuotaResource[] {
  const out = new Map<string, QuotaResource>();
  for (const n of Object.keys(q.spec?.hard ?? {})) {
    const r = resourceFor(n);
    if (r) out.set(resourceKey(r), r);
  }
  return [...out.values()];
}

/**
 * The status `q` should have, given the objects of its namespace per resource
 * (`objects(r)`: undefined when that resource could not be listed; its names are then
 * left as they were).
 */
export function quotaStatus(q: ResourceQuota, objects: (r: QuotaResource) => unknown[] | undefined): ResourceQuotaStatus {
  const hard: Record<string, string> = { ...(q.spec?.hard ?? {}) };
  const used: Record<string, string> = {};
  const totals = new Map<string, Map<string, number>>();
  for (const name of Object.keys(hard).sort()) {
    const r = resourceFor(name);
    const list = r ? objects(r) : undefined;
    if (!r || !list) {
      used[name] = q.status?.used?.[name] ?? '0';
      continue;
    }
    const key = resourceKey(r);
    let sums = totals.get(key);
    if (!sums) {
      sums = new Map();
      for (const o of list) {
        if (!quotaMatches(q, r, o)) continue;
        for (const [k, v] of objectUsage(r, o)) sums.set(k, (sums.get(k) ?? 0) + v);
      }
      totals.set(key, sums);
    }
    used[name] = formatAmount(name, sums.get(name) ?? 0);
  }
  return { hard, used };
}

/** Whether two statuses say the same (key order aside). */
export function quotaStatusEqual(a: ResourceQuotaStatus | undefined, b: ResourceQuotaStatus): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b);
}
