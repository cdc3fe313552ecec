/**
 * Deep copy of a JSON-shaped value: request bodies and cached objects are parsed JSON, and for
 * them this is several times cheaper than `structuredClone` (measured on a ConfigMap: ~1 µs
 * against ~4 µs; the create path copied each object twice). Anything that is not a plain
 * object or array (a Buffer, a Date) is handed to `structuredClone`.
 */
export function cloneJson<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = cloneJson((v as Record<string, unknown>)[k]);
    // an own "__proto__" key (JSON.parse makes one) must stay a key, not become the prototype
    if (k === '__proto__') Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
    else out[k] = x;
  }
  return out as T;
}
