/**
 * Narrowing helpers for request JSON: the apiserver receives objects of unknown shape and
 * validation checks them field by field.
 */

export type JsonObject = Record<string, unknown>;

/** A JSON object (not null, not an array). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` when it is an object, else an empty one (read optional nested fields without `?.`). */
export function objectOr(v: unknown): JsonObject {
  return isObject(v) ? v : {};
}

/** `v` when it is an array, else an empty one. */
export function arrayOr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export const isNonNegativeInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
