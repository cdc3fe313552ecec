import type { Container, LimitRange, LimitRangeItem, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import type { AdmissionPlugin } from './admission';
import type { ResourceDef } from './groups/types';
import { errors } from './errors';
import type { ResourceStorage } from './resources';
import type { Registry } from './registry';
import { amountOf } from '../lib/quota';
import { defaultLimitRangeItem } from './groups/core/limitrange';

/**
 * Kubernetes' LimitRanger admission, for creates of pods and PersistentVolumeClaims. For
 * each LimitRange of the namespace: containers (and init containers) get the `Container`
 * item's `defaultRequest`/`default` for every resource they do not set (noted in the
 * `kubernetes.io/limit-ranger` annotation); then `min`, `max` and `maxLimitRequestRatio`
 * are checked per Container, per Pod (sums over containers) and per PersistentVolumeClaim
 * (`storage`). A violation is a 403 whose message is Kubernetes'.
 */

export const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';

type List = Record<string, string>;

/** Milli-precision for comparisons, as Kubernetes compares (MilliValue). */
const milli = (q: unknown): number => (amountOf('cpu', q) ?? 0);

function minCheck(type: string, res: string, enforced: string, req: List, lim: List): string | undefined {
  if (req[res] === undefined) return `minimum ${res} usage per ${type} is ${enforced}.  No request is specified`;
  if (milli(req[res]) < milli(enforced)) return `minimum ${res} usage per ${type} is ${enforced}, but request is ${req[res]}`;
  if (lim[res] !== undefined && milli(lim[res]) < milli(enforced)) return `minimum ${res} usage per ${type} is ${enforced}, but limit is ${lim[res]}`;
  return undefined;
}

function maxCheck(type: string, res: string, enforced: string, req: List, lim: List): string | undefined {
  if (lim[res] === undefined) return `maximum ${res} usage per ${type} is ${enforced}.  No limit is specified`;
  if (milli(lim[res]) > milli(enforced)) return `maximum ${res} usage per ${type} is ${enforced}, but limit is ${lim[res]}`;
  if (req[res] !== undefined && milli(req[res]) > milli(enforced)) return `maximum ${res} usage per ${type} is ${enforced}, but request is ${req[res]}`;
  return undefined;
}

function ratioCheck(type: string, res: string, enforced: string, req: List, lim: List): string | undefined {
  const r = req[res] === undefined ? 0 : milli(req[res]);
  const l = lim[res] === undefined ? 0 : milli(lim[res]);
  if (r === 0) return `${res} max limit to request ratio per ${type} is ${enforced}, but no request is specified or request is 0`;
  if (l === 0) return `${res} max limit to request ratio per ${type} is ${enforced}, but no limit is specified or limit is 0`;
  const ratio = l / r;
  if (ratio * 1000 > milli(enforced)) return `${res} max limit to request ratio per ${type} is ${enforced}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
}

function checkItem(item: LimitRangeItem, req: List, lim: List, errs: string[]): void {
  const type = item.type;
  for (const [k, v] of Object.entries(item.min ?? {})) { const e = minCheck(type, k, v, req, lim); if (e) errs.push(e); }
  for (const [k, v] of Object.entries(item.max ?? {})) { const e = maxCheck(type, k, v, req, lim); if (e) errs.push(e); }
  for (const [k, v] of Object.entries(item.maxLimitRequestRatio ?? {})) { const e = ratioCheck(type, k, v, req, lim); if (e) errs.push(e); }
}

/** Pod-level requests or limits: the containers' sum, or a larger init container (a resource any container lacks is left out). */
function podTotals(pod: Pod, kind: 'requests' | 'limits'): List {
  const cs = pod.spec?.containers ?? [];
  const out: List = {};
  const names = new Set(cs.flatMap((c) => Object.keys(c.resources?.[kind] ?? {})));
  for (const n of names) {
    if (!cs.every((c) => c.resources?.[kind]?.[n] !== undefined)) continue;
    let total = cs.reduce((s, c) => s + milli(c.resources![kind]![n]), 0);
    for (const ic of pod.spec?.initContainers ?? []) total = Math.max(total, milli(ic.resources?.[kind]?.[n] ?? 0));
    out[n] = total % 1000 === 0 ? String(total / 1000) : `${total}m`;
  }
  return out;
}

/** Fills a container's unset requests and limits from the defaults; returns the annotation parts. */
function applyDefaults(c: Container, dreq: List, dlim: List, what: string): string[] {
  const setReq: string[] = [];
  const setLim: string[] = [];
  const res = { ...(c.resources ?? {}) };
  const limits: List = { ...(res.limits ?? {}) };
  const requests: List = { ...(res.requests ?? {}) };
  for (const [k, v] of Object.entries(dlim)) if (limits[k] === undefined) { limits[k] = v; setLim.push(k); }
  for (const [k, v] of Object.entries(dreq)) if (requests[k] === undefined) { requests[k] = v; setReq.push(k); }
  if (!setReq.length && !setLim.length) return [];
  if (Object.keys(limits).length) res.limits = limits;
  if (Object.keys(requests).length) res.requests = requests;
  c.resources = res;
  const out: string[] = [];
  if (setReq.length) out.push(`${setReq.sort().join(', ')} request for ${what} ${c.name}`);
  if (setLim.length) out.push(`${setLim.sort().join(', ')} limit for ${what} ${c.name}`);
  return out;
}

function itemsOf(lr: LimitRange): LimitRangeItem[] {
  return (lr.spec?.limits ?? []).map((i) => { const c = structuredClone(i); defaultLimitRangeItem(c); return c; });
}

/** Gives a pod being created the defaults of one LimitRange (mutating `pod`); call for every range before `checkPod`. */
export function defaultPod(lr: LimitRange, pod: Pod): void {
  const dreq: List = {};
  const dlim: List = {};
  for (const i of itemsOf(lr).filter((x) => x.type === 'Container')) {
    Object.assign(dreq, i.defaultRequest ?? {});
    Object.assign(dlim, i.default ?? {});
  }
  const notes: string[] = [];
  for (const c of pod.spec?.containers ?? []) notes.push(...applyDefaults(c, dreq, dlim, 'container'));
  for (const c of pod.spec?.initContainers ?? []) notes.push(...applyDefaults(c, dreq, dlim, 'init container'));
  if (notes.length) pod.metadata = { ...(pod.metadata ?? {}), annotations: { ...(pod.metadata?.annotations ?? {}), [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}` } };
}

/** Checks a pod against one LimitRange's Container and Pod items. Returns Kubernetes' messages. */
export function checkPod(lr: LimitRange, pod: Pod): string[] {
  const errs: string[] = [];
  for (const item of itemsOf(lr)) {
    if (item.type === 'Container') {
      for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) checkItem(item, c.resources?.requests ?? {}, c.resources?.limits ?? {}, errs);
    } else if (item.type === 'Pod') {
      checkItem(item, podTotals(pod, 'requests'), podTotals(pod, 'limits'), errs);
    }
  }
  return errs;
}

/** Applies one LimitRange's PersistentVolumeClaim items to a claim being created. */
export function limitClaim(lr: LimitRange, pvc: PersistentVolumeClaim): string[] {
  const errs: string[] = [];
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== 'PersistentVolumeClaim') continue;
    const req: List = pvc.spec?.resources?.requests ?? {};
    // A claim's limits are not user input here: min and max bound its request.
    for (const [k, v] of Object.entries(item.min ?? {})) { const e = minCheck(item.type, k, v, req, {}); if (e) errs.push(e); }
    for (const [k, v] of Object.entries(item.max ?? {})) {
      if (req[k] === undefined) errs.push(`maximum ${k} usage per ${item.type} is ${v}.  No request is specified`);
      else if (milli(req[k]) > milli(v)) errs.push(`maximum ${k} usage per ${item.type} is ${v}, but request is ${req[k]}`);
    }
  }
  return errs;
}

/** Kubernetes' aggregate of several errors: one as it is, several as `[a, b]`. */
function aggregate(errs: string[]): string {
  return errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`;
}

/** The admission plugin: LimitRanges read from the storage (watch cache, read-your-writes). */
export function limitRangerAdmission(storage: ResourceStorage, registry: Registry): AdmissionPlugin {
  const lrDef = registry.lookup('', 'v1', 'limitranges')!;
  const podDef = registry.lookup('', 'v1', 'pods');
  const pvcDef = registry.lookup('', 'v1', 'persistentvolumeclaims');
  return {
    async admit(def: ResourceDef, ns: string | undefined, obj: unknown): Promise<void> {
      if (!ns || (def !== podDef && def !== pvcDef)) return;
      const ranges = (await storage.list(lrDef, ns)).items.map((c) => c.obj as LimitRange)
        .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
      const meta = (obj as Pod).metadata;
      const name = meta?.name || meta?.generateName || '';
      if (def === podDef) for (const lr of ranges) defaultPod(lr, obj as Pod);
      for (const lr of ranges) {
        const errs = def === podDef ? checkPod(lr, obj as Pod) : limitClaim(lr, obj as PersistentVolumeClaim);
        if (errs.length) throw errors.forbidden(`${def.plural} "${name}" is forbidden: ${aggregate(errs)}`, { name, kind: def.plural });
      }
    },
  };
}
