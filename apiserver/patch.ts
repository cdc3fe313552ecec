import * as jsonpatch from 'fast-json-patch';
import { ApiError } from './errors';
import { isObject } from './json';
import { cloneJson as clone } from './clone';

/**
 * Patch application: JSON merge patch (RFC 7386), JSON patch (RFC 6902, fast-json-patch),
 * an approximation of Kubernetes strategic merge patch (list merge by well-known keys and
 * the `$patch`/`$setElementOrder`/`$retainKeys`/`$deleteFromPrimitiveList` directives), and
 * basic server-side apply (a strategic merge of the applied configuration). Pure: inputs are
 * never mutated.
 */

type Obj = Record<string, unknown>;

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Obj = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function jsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new ApiError('BadRequest', 'json patch must be a JSON array of operations');
  try {
    return jsonpatch.applyPatch(clone(target), patch as jsonpatch.Operation[], true, true, true).newDocument;
  } catch (e) {
    const err = e as { message?: unknown; name?: unknown } | undefined;
    const msg = String(err?.message ?? e).split('\n')[0];
    if (err?.name === 'TEST_OPERATION_FAILED') throw new ApiError('Invalid', `the server rejected our request due to an error in our request: ${msg}`);
    throw new ApiError('BadRequest', `the server rejected our request due to an error in our request: ${msg}`);
  }
}

/** Merge keys of Kubernetes' built-in list fields (patchMergeKey), by field name. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name', initContainers: 'name', ephemeralContainers: 'name', volumes: 'name', env: 'name',
  volumeMounts: 'mountPath', volumeDevices: 'devicePath', conditions: 'type', imagePullSecrets: 'name',
  hostAliases: 'ip', ownerReferences: 'uid', readinessGates: 'conditionType', topologySpreadConstraints: 'topologyKey',
  addresses: 'type', resourceClaims: 'name', containerStatuses: 'name', initContainerStatuses: 'name', podIPs: 'ip',
};
/** Primitive lists with patchStrategy=merge (union on patch). */
export const PRIMITIVE_MERGE = new Set(['finalizers']);

export function mergeKeyFor(field: string, items: unknown[], existing: unknown): string | undefined {
  if (field === 'ports') {
    // container ports merge on containerPort, service ports on port
    const sample = [...items, ...(Array.isArray(existing) ? existing : [])].find(isObject);
    if (!sample) return undefined;
    return 'containerPort' in sample ? 'containerPort' : 'port' in sample ? 'port' : undefined;
  }
  return MERGE_KEYS[field];
}

function mergeList(orig: unknown, patch: unknown[], key: string): unknown[] {
  if (patch.some((it) => isObject(it) && it.$patch === 'replace')) {
    return patch.filter((it) => !(isObject(it) && it.$patch === 'replace')).map((it) => strategicMerge(undefined, it));
  }
  const out: unknown[] = Array.isArray(orig) ? [...orig] : [];
  for (const item of patch) {
    if (!isObject(item)) { out.push(clone(item)); continue; }
    const idx = out.findIndex((x) => isObject(x) && x[key] === item[key]);
    if (item.$patch === 'delete') { if (idx >= 0) out.splice(idx, 1); continue; }
    if (idx >= 0) out[idx] = strategicMerge(out[idx], item);
    else out.push(strategicMerge(undefined, item));
  }
  return out;
}

function applyOrder(list: unknown, order: unknown[], key: string | undefined): unknown {
  if (!Array.isArray(list) || !Array.isArray(order)) return list;
  const id = (v: unknown) => (key && isObject(v) ? v[key] : v);
  const pos = new Map(order.map((o, i) => [id(o), i]));
  const ordered = list.filter((x) => pos.has(id(x))).sort((a, b) => pos.get(id(a))! - pos.get(id(b))!);
  return [...ordered, ...list.filter((x) => !pos.has(id(x)))];
}

/** Strategic merge patch (approximate; see module comment). */
export function strategicMerge(orig: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return strategicMerge(undefined, rest);
  }
  const out: Obj = isObject(orig) ? { ...orig } : {};
  const orders: [string, unknown[]][] = [];
  const deletions: [string, unknown[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if ((k.startsWith('$setElementOrder/') || k.startsWith('$deleteFromPrimitiveList/')) && !Array.isArray(v)) {
      throw new ApiError('BadRequest', `invalid patch: ${k.split('/')[0]} directive must have a list value, got ${JSON.stringify(v)?.slice(0, 100)}`);
    }
    if (k === '$patch' && typeof v === 'string' && !['replace', 'merge', 'delete'].includes(v)) throw new ApiError('BadRequest', `invalid patch: unknown $patch directive ${JSON.stringify(v.slice(0, 100))}`);
    if (k.startsWith('$setElementOrder/')) { orders.push([k.slice('$setElementOrder/'.length), v as unknown[]]); continue; }
    if (k.startsWith('$deleteFromPrimitiveList/')) { deletions.push([k.slice('$deleteFromPrimitiveList/'.length), v as unknown[]]); continue; }
    if (v === null) { delete out[k]; continue; }
    if (isObject(v) && v.$patch === 'delete') { delete out[k]; continue; }
    if (Array.isArray(v)) {
      const key = mergeKeyFor(k, v, out[k]);
      if (key) out[k] = mergeList(out[k], v, key);
      else if (PRIMITIVE_MERGE.has(k)) { const prev = out[k]; out[k] = [...new Set([...(Array.isArray(prev) ? prev : []), ...v])]; }
      else out[k] = v.map((it) => strategicMerge(undefined, it));
      continue;
    }
    out[k] = isObject(v) ? strategicMerge(out[k], v) : v;
  }
  for (const [field, values] of deletions) {
    const list = out[field];
    if (Array.isArray(list)) out[field] = list.filter((x: unknown) => !values.includes(x));
  }
  for (const [field, order] of orders) {
    out[field] = applyOrder(out[field], order, mergeKeyFor(field, order, out[field]));
  }
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set<unknown>(patch.$retainKeys);
    for (const k of Object.keys(out)) if (!keep.has(k) && !(k in patch)) delete out[k];
  }
  return out;
}

/** Basic server-side apply: the applied configuration merged into the live object. */
function applyConfiguration(live: unknown, applied: unknown): unknown {
  return strategicMerge(live, applied);
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const t = (contentType ?? '').split(';')[0].trim().toLowerCase();
  switch (t) {
    case 'application/merge-patch+json': return 'merge';
    case 'application/json-patch+json': return 'json';
    case 'application/strategic-merge-patch+json': return 'strategic';
    case 'application/apply-patch+yaml': case 'application/apply-patch+json': return 'apply';
    default: return undefined;
  }
}

/** The patched document (a new one; `target` is not mutated); the caller checks that it is an object. */
export function applyPatch(type: PatchType, target: unknown, patch: unknown): unknown {
  switch (type) {
    case 'merge': return mergePatch(target, patch);
    case 'json': return jsonPatch(target, patch);
    case 'strategic': return strategicMerge(target, patch);
    case 'apply': return applyConfiguration(target, patch);
  }
}
