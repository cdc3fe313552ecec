import { errors } from './errors';

/**
 * Query parameters, read one way for every handler. fastify hands a parameter over as a
 * string, or as an array of strings when it is repeated.
 */

/** A request's parsed query string: each name maps to one value or to several. */
export type Query = Readonly<Record<string, unknown>>;

/**
 * The value of a parameter; undefined when absent. A repeated parameter counts by its
 * first value, as apimachinery's query-parameter conversion reads it.
 */
export function param(query: Query, name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) return v.length ? String(v[0]) : undefined;
  return v === undefined ? undefined : String(v);
}

/** Every value of a repeated parameter (`command=a&command=b`). */
export function params(query: Query, name: string): string[] {
  const v = query[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/**
 * A boolean query parameter as the Kubernetes apiserver reads it (apimachinery's
 * runtime.Convert_Slice_string_To_bool, used for every boolean of ListOptions,
 * DeleteOptions, PatchOptions, PodLogOptions and PodExecOptions): absent is false;
 * "0" and "false" in any case are false; any other value, the empty string included
 * (`?watch`), is true. So the Python client's `watch=True` is true, and nothing here
 * is a 400. This is the one place boolean parameters are read.
 */
export function boolParam(query: Query, name: string): boolean {
  const v = param(query, name);
  if (v === undefined) return false;
  return !(v === '0' || v.toLowerCase() === 'false');
}
