import type { ResourceQuota } from 'kubernetes-types/core/v1';
import type { AdmissionPlugin } from './admission';
import type { ResourceDef } from './groups/types';
import { ApiError, errors } from './errors';
import type { ResourceStorage } from './resources';
import type { Registry } from './registry';
import { amountOf, chargedOnUpdate, formatAmount, objectUsage, usageIncrease, podConstraintError, prettyList, quotaMatches, trackedNames, type QuotaResource } from '../lib/quota';
import { objectName } from './api-object';

/**
 * Kubernetes' ResourceQuota admission, for creates and for the updates that add usage (a
 * Service that becomes NodePort or LoadBalancer, a claim whose storage request grows): an
 * object (or the increase) a quota of its namespace applies to is refused (403) when its usage would take the quota's `status.used` above
 * `status.hard`, and is otherwise charged to the quota before it is stored, by a write of
 * the quota's status that compares its resourceVersion; a lost race re-reads the quotas and
 * decides again for the quotas not charged yet, so two creates that do not both fit never
 * both pass and none is charged twice. What a charge adds for an object that then fails to
 * be stored is taken back by the resourcequota controller's next recount (as in Kubernetes).
 */

/** One quota's new `status.used`, or the refusal. */
export type QuotaDecision = { ok: true; charges: { quota: ResourceQuota; used: Record<string, string> }[] } | { ok: false; message: string };

/**
 * Pure: what creating `obj` (of resource `r`), or updating `old` to `obj`, does to `quotas`
 * (their status as stored). An update is charged what it adds (`usageIncrease`).
 * Messages are worded as Kubernetes' (without the `<kind> "<name>" is forbidden: ` prefix).
 */
export function decideQuotas(quotas: ResourceQuota[], r: QuotaResource, obj: unknown, old?: unknown): QuotaDecision {
  const usage = old === undefined ? objectUsage(r, obj) : usageIncrease(objectUsage(r, obj), objectUsage(r, old));
  const charges: { quota: ResourceQuota; used: Record<string, string> }[] = [];
  for (const q of [...quotas].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
    if (!quotaMatches(q, r, obj)) continue;
    const hard = q.status?.hard ?? {};
    const names = trackedNames(q, Object.keys(hard)).filter((n) => usage.has(n));
    if (old === undefined && r.group === '' && r.resource === 'pods' && usage.size) {
      const missing = podConstraintError(obj as never, trackedNames(q, Object.keys(hard)));
      if (missing) return { ok: false, message: `failed quota: ${q.metadata?.name}: ${missing}` };
    }
    if (!names.length) continue;
    const used = q.status?.used ?? {};
    const unknown = names.filter((n) => used[n] === undefined);
    if (unknown.length) return { ok: false, message: `status unknown for quota: ${q.metadata?.name}, resources: ${unknown.sort().join(',')}` };
    const requested = names.filter((n) => (usage.get(n) ?? 0) !== 0);
    if (!requested.length) continue;
    const next: Record<string, string> = { ...used };
    const exceeded: string[] = [];
    for (const n of requested) {
      const total = (amountOf(n, used[n]) ?? 0) + usage.get(n)!;
      next[n] = formatAmount(n, total);
      if (total > (amountOf(n, hard[n]) ?? 0)) exceeded.push(n);
    }
    if (exceeded.length) {
      return {
        ok: false,
        message: `exceeded quota: ${q.metadata?.name}, requested: ${prettyList(exceeded.map((n) => [n, formatAmount(n, usage.get(n)!)]))}, `
          + `used: ${prettyList(exceeded.map((n) => [n, used[n]]))}, limited: ${prettyList(exceeded.map((n) => [n, hard[n]]))}`,
      };
    }
    charges.push({ quota: q, used: next });
  }
  return { ok: true, charges };
}

const MAX_ATTEMPTS = 10;

/** The admission plugin over `decideQuotas`: quotas read from the storage, charges written to their status. */
export function resourceQuotaAdmission(storage: ResourceStorage, registry: Registry): AdmissionPlugin {
  const quotaDef = registry.lookup('', 'v1', 'resourcequotas')!;

  /** Charges `obj` (created, or updated from `old`) to the quotas of `ns`, or throws the 403. */
  async function charge(def: ResourceDef, ns: string, obj: unknown, old: unknown, opts?: { dryRun?: boolean }): Promise<void> {
    const r: QuotaResource = { resource: def.plural, group: def.group };
    const kind = def.group ? `${def.plural}.${def.group}` : def.plural;
    const name = objectName(obj as never) || ((obj as { metadata?: { generateName?: string } }).metadata?.generateName ?? '');
    let fromStore = false;
    /** Quotas this write was charged to already (a retry after a lost race on another one). */
    const charged = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      const quotas = fromStore
        ? await Promise.all((await storage.list(quotaDef, ns)).items.map(async (c) => (await storage.read(quotaDef, ns, c.obj.metadata.name!, { fromStore: true }))?.obj ?? c.obj))
        : (await storage.list(quotaDef, ns)).items.map((c) => c.obj);
      if (!quotas.length) return;
      const d = decideQuotas((quotas as ResourceQuota[]).filter((q) => !charged.has(q.metadata?.name ?? '')), r, obj, old);
      if (!d.ok) throw errors.forbidden(`${kind} "${name}" is forbidden: ${d.message}`, { name, group: def.group, kind: def.plural });
      if (opts?.dryRun) return;
      try {
        for (const c of d.charges) {
          const q = c.quota;
          await storage.update(quotaDef, ns, q.metadata!.name!, { ...q, status: { ...(q.status ?? {}), used: c.used } }, { subresource: 'status' });
          charged.add(q.metadata!.name!);
        }
        return;
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409) || attempt + 1 >= MAX_ATTEMPTS) throw err;
        fromStore = true;
      }
    }
  }

  return {
    async admit(def, ns, obj, opts) {
      if (!ns || !def.namespaced || def === quotaDef) return;
      await charge(def, ns, obj, undefined, opts);
    },
    /** Updates are charged what they add (Kubernetes charges the delta; a retried write may charge twice until the next recount). */
    async validateUpdate(def, ns, next, old, opts) {
      if (!ns || !chargedOnUpdate({ resource: def.plural, group: def.group })) return;
      await charge(def, ns, next, old, opts);
    },
  };
}
