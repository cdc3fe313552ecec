import { isObject, objectOr } from './json';

/**
 * Whether two stored objects have the same content, ignoring metadata.resourceVersion, key
 * order and keys whose value is undefined: whether their JSON would be equal once keys are
 * sorted (a write of such an object is a no-op). Compared in place, stopping at the first
 * difference (serialising both objects with sorted keys cost a write ~1 % of the apiserver's CPU).
 */
export function sameObject(a: unknown, b: unknown): boolean {
  if (!isObject(a) || !isObject(b)) return sameJson(a, b);
  return sameEntries(a, b, (k) => k === 'metadata', (x, y) => sameEntries(objectOr(x), objectOr(y), (k) => k === 'resourceVersion', sameJson, true));
}

/** JSON equality with sorted keys: undefined members dropped, undefined array items as null. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  if (isObject(a) || isObject(b)) return isObject(a) && isObject(b) && sameEntries(a, b, () => false, sameJson);
  return JSON.stringify(a) === JSON.stringify(b); // NaN and null, say, are both `null`
}

/** The defined members of `a` and `b` pair up and are equal (`special` keys by `eq`, or left out with `skip`). */
function sameEntries(a: Record<string, unknown>, b: Record<string, unknown>, special: (k: string) => boolean,
  eq: (x: unknown, y: unknown) => boolean, skip = false): boolean {
  let n = 0;
  for (const k of Object.keys(a)) {
    const x = a[k];
    if (x === undefined || (skip && special(k))) continue;
    n++;
    const y = b[k];
    if (y === undefined || !(special(k) ? eq(x, y) : sameJson(x, y))) return false;
  }
  for (const k of Object.keys(b)) if (b[k] !== undefined && !(skip && special(k))) n--;
  return n === 0;
}
