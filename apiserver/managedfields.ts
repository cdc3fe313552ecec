import { PRIMITIVE_MERGE, mergeKeyFor } from './patch';
import { isObject } from './json';

/**
 * Server-side apply field ownership (metadata.managedFields, FieldsV1), after
 * sigs.k8s.io/structured-merge-diff, simplified: an object's fields are a set of paths
 * whose elements are `f:<field>`, `k:{"<mergeKey>":<value>}` (an item of a keyed list),
 * `v:<value>` (an item of a set-like primitive list) and `.` (the list item itself).
 * Keyed lists use patch.ts's merge keys; other lists are atomic (one leaf). Pure.
 *
 * - Update operations (create, update, patch) give their manager the fields whose value
 *   they changed, taking them from every other manager.
 * - Apply gives its manager exactly the applied fields; a field another manager owns with a
 *   different value is a conflict unless forced (then ownership moves); fields the manager
 *   applied before, no longer applies, and nobody else owns are removed from the object.
 */

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface ManagerInfo { manager: string; apiVersion: string; time: string; subresource?: string }
export interface Conflict { manager: string; apiVersion: string; path: string[] }

type Obj = Record<string, unknown>;
/** A path's map key. */
const pk = (p: string[]) => JSON.stringify(p);
const STRUCTURAL = '';

const META_TRACKED = ['labels', 'annotations', 'finalizers', 'ownerReferences'];

/** Every tracked field of `obj` (path key → JSON of the leaf value; '' for `.` members). */
export function fieldsOf(obj: unknown, subresource?: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!isObject(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if ((subresource === 'status' || subresource === 'approval') !== (k === 'status')) continue;
    if (k === 'metadata') {
      if (!isObject(v)) continue;
      for (const mk of META_TRACKED) if (v[mk] !== undefined) walk(v[mk], `[${el('f:metadata')},${el(`f:${mk}`)}`, mk, out);
      continue;
    }
    walk(v, `[${el(`f:${k}`)}`, k, out);
  }
  return out;
}

/** One path element as JSON. */
const el = (e: string) => JSON.stringify(e);

/**
 * The fields under `v`, whose path key so far is `open` (`pk(path)` without its closing `]`):
 * keys are built by appending to a string rather than by serialising a path array per leaf
 * (this walk runs over every object written with a field manager).
 */
function walk(v: unknown, open: string, field: string, out: Map<string, string>): void {
  if (isObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 0) { out.set(`${open}]`, '{}'); return; }
    for (const k of keys) walk(v[k], `${open},${el(`f:${k}`)}`, k, out);
    return;
  }
  if (Array.isArray(v)) {
    const key = field === 'ownerReferences' ? 'uid' : mergeKeyFor(field, v, undefined);
    if (key && v.length > 0 && v.every((it) => isObject(it) && it[key] !== undefined)) {
      for (const it of v) {
        const item = `${open},${el(`k:${JSON.stringify({ [key]: it[key] })}`)}`;
        out.set(`${item},${el('.')}]`, STRUCTURAL);
        for (const k of Object.keys(it)) walk(it[k], `${item},${el(`f:${k}`)}`, k, out);
      }
      return;
    }
    if (PRIMITIVE_MERGE.has(field) && v.every((it) => !isObject(it) && !Array.isArray(it))) {
      for (const it of v) out.set(`${open},${el(`v:${JSON.stringify(it)}`)}]`, STRUCTURAL);
      return;
    }
  }
  out.set(`${open}]`, JSON.stringify(v ?? null));
}

/** A set of paths → FieldsV1 (nested objects, keys sorted). */
export function toFieldsV1(paths: Iterable<string>): Record<string, unknown> {
  interface Tree { [el: string]: Tree }
  const root: Tree = {};
  for (const key of paths) {
    let cur = root;
    for (const el of JSON.parse(key) as string[]) cur = (cur[el] ??= {});
  }
  const sort = (o: Tree): Tree => Object.fromEntries(Object.keys(o).sort().map((k) => [k, sort(o[k])]));
  return sort(root);
}

/** FieldsV1 → the set of path keys it holds. */
export function fromFieldsV1(f: unknown, prefix: string[] = [], out = new Set<string>()): Set<string> {
  if (!isObject(f)) return out;
  for (const [k, child] of Object.entries(f)) {
    const p = [...prefix, k];
    if (k === '.' || !isObject(child) || Object.keys(child).length === 0) out.add(pk(p));
    else fromFieldsV1(child, p, out);
  }
  return out;
}

const sameEntry = (e: ManagedFieldsEntry, manager: string, op: string, sub?: string) => e.manager === manager && e.operation === op && (e.subresource ?? '') === (sub ?? '');

function setEntry(entries: ManagedFieldsEntry[], info: ManagerInfo, op: 'Apply' | 'Update', set: Set<string>): ManagedFieldsEntry[] {
  const out: ManagedFieldsEntry[] = [];
  let placed = false;
  for (const e of entries) {
    if (!sameEntry(e, info.manager, op, info.subresource)) { out.push(e); continue; }
    placed = true;
    if (set.size === 0) continue;
    const fieldsV1 = toFieldsV1(set);
    const unchanged = JSON.stringify(fieldsV1) === JSON.stringify(e.fieldsV1) && e.apiVersion === info.apiVersion;
    out.push(unchanged ? e : { ...e, apiVersion: info.apiVersion, time: info.time, fieldsV1 });
  }
  if (!placed && set.size) {
    out.push({ manager: info.manager, operation: op, apiVersion: info.apiVersion, time: info.time, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(set), ...(info.subresource ? { subresource: info.subresource } : {}) });
  }
  return out;
}

/** Take `paths` away from every entry but the one `keep` selects; drop emptied entries. */
function disown(entries: ManagedFieldsEntry[], paths: Set<string>, keep: (e: ManagedFieldsEntry) => boolean): ManagedFieldsEntry[] {
  if (paths.size === 0) return entries;
  const out: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (keep(e)) { out.push(e); continue; }
    const set = fromFieldsV1(e.fieldsV1);
    let changed = false;
    for (const p of paths) if (set.delete(p)) changed = true;
    if (!changed) out.push(e);
    else if (set.size) out.push({ ...e, fieldsV1: toFieldsV1(set) });
  }
  return out;
}

/** Ownership after an Update-type write (create, update, patch) that turned `old` into `next`. */
export function updateManagedFields(entries: ManagedFieldsEntry[] | undefined, old: unknown, next: unknown, info: ManagerInfo): ManagedFieldsEntry[] {
  const list = Array.isArray(entries) ? entries : [];
  const before = fieldsOf(old, info.subresource);
  const after = fieldsOf(next, info.subresource);
  const touched = new Set<string>();
  for (const [k, val] of after) if (before.get(k) !== val) touched.add(k);
  for (const k of before.keys()) if (!after.has(k)) touched.add(k);
  if (touched.size === 0) return list;
  const mine = list.find((e) => sameEntry(e, info.manager, 'Update', info.subresource));
  const set = mine ? fromFieldsV1(mine.fieldsV1) : new Set<string>();
  for (const k of touched) (after.has(k) ? set.add(k) : set.delete(k));
  const rest = disown(list, touched, (e) => sameEntry(e, info.manager, 'Update', info.subresource));
  return setEntry(rest, info, 'Update', set);
}

export interface ApplyResult { entries: ManagedFieldsEntry[]; conflicts: Conflict[]; remove: string[][] }

/**
 * Ownership for an Apply of `applied` (the manager's configuration) over `live`.
 * `conflicts` is non-empty only when !force; `remove` lists paths to delete from the merge.
 */
export function applyManagedFields(entries: ManagedFieldsEntry[] | undefined, live: unknown, applied: unknown, info: ManagerInfo, force: boolean): ApplyResult {
  const list = Array.isArray(entries) ? entries : [];
  const want = fieldsOf(applied, info.subresource);
  const have = fieldsOf(live, info.subresource);
  const differing = new Set<string>();
  for (const [k, val] of want) if (val !== STRUCTURAL && have.has(k) && have.get(k) !== val) differing.add(k);
  const isMine = (e: ManagedFieldsEntry) => sameEntry(e, info.manager, 'Apply', info.subresource);
  const conflicts: Conflict[] = [];
  if (!force) {
    for (const e of list) {
      if (isMine(e) || e.manager === info.manager || (e.subresource ?? '') !== (info.subresource ?? '')) continue;
      for (const k of fromFieldsV1(e.fieldsV1)) if (differing.has(k)) conflicts.push({ manager: e.manager, apiVersion: e.apiVersion, path: JSON.parse(k) });
    }
    if (conflicts.length) return { entries: list, conflicts, remove: [] };
  }
  const prev = list.find(isMine);
  const others = new Set<string>();
  for (const e of list) if (!isMine(e)) for (const k of fromFieldsV1(e.fieldsV1)) others.add(k);
  const remove: string[][] = [];
  if (prev) for (const k of fromFieldsV1(prev.fieldsV1)) if (!want.has(k) && !others.has(k)) remove.push(JSON.parse(k));
  const rest = disown(list, differing, isMine);
  return { entries: setEntry(rest, info, 'Apply', new Set(want.keys())), conflicts: [], remove };
}

/** `.spec.containers[name="web"].image` — how Kubernetes prints a field path in conflicts. */
export function formatPath(path: string[]): string {
  let s = '';
  for (const el of path) {
    if (el === '.') continue;
    if (el.startsWith('f:')) s += `.${el.slice(2)}`;
    else if (el.startsWith('k:')) s += `[${Object.entries(JSON.parse(el.slice(2))).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    else if (el.startsWith('v:')) s += `[=${el.slice(2)}]`;
  }
  return s;
}

/** Delete one path (leaf, keyed item or set value) from `obj` in place; missing paths are ignored. */
export function removePath(obj: unknown, path: string[]): void {
  const els = path[path.length - 1] === '.' ? path.slice(0, -1) : path;
  let parent: unknown = obj;
  for (let i = 0; i < els.length - 1; i++) {
    parent = step(parent, els[i]);
    if (parent === undefined || parent === null) return;
  }
  const last = els[els.length - 1];
  if (last === undefined) return;
  if (last.startsWith('f:') && isObject(parent)) { delete parent[last.slice(2)]; return; }
  if (Array.isArray(parent)) {
    const idx = parent.findIndex((it) => matchesEl(it, last));
    if (idx >= 0) parent.splice(idx, 1);
  }
}

function matchesEl(it: unknown, el: string): boolean {
  if (el.startsWith('k:')) return isObject(it) && Object.entries(JSON.parse(el.slice(2))).every(([k, v]) => it[k] === v);
  if (el.startsWith('v:')) return JSON.stringify(it) === el.slice(2);
  return false;
}

function step(cur: unknown, el: string): unknown {
  if (el.startsWith('f:')) return isObject(cur) ? cur[el.slice(2)] : undefined;
  if (Array.isArray(cur)) return cur.find((it) => matchesEl(it, el));
  return undefined;
}
