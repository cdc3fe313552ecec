import { errors } from './errors';

/**
 * Query parameters, read one way for every handler. fastify hands a parameter over as a
 * string, or as an array of strings when it is repeated.
 */

/** A request's parsed query string: each name maps to one value or to several. */
export type Query = Readonly<Record<string, unknown>>;

/** The single value of a parameter (the last when repeated); undefined when absent. */
export function param(query: Query, name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) return v.length ? String(v[v.length - 1]) : undefined;
  return v === undefined ? undefined : String(v);
}

/** Every value of a repeated parameter (`command=a&command=b`). */
export function params(query: Query, name: string): string[] {
  const v = query[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * A boolean as Go's strconv.ParseBool reads it (how Kubernetes reads boolean parameters):
 * 1, t, T, TRUE, true, True and the false forms 0, f, F, FALSE, false, False. Anything
 * else is a 400 naming the parameter.
 */
export function parseBool(name: string, value: string): boolean {
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw errors.badRequest(`${name}: Invalid value: ${JSON.stringify(value)}: must be a boolean (true or false)`);
}

/** A boolean parameter; absent or empty gives `dflt`. The one place boolean parameters are read. */
export function boolParam(query: Query, name: string, dflt = false): boolean {
  const v = param(query, name);
  return v === undefined || v === '' ? dflt : parseBool(name, v);
}
