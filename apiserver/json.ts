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
