/**
 * Kubernetes resource.Quantity parsing: `<number><suffix>` where the suffix is
 * a binary SI (Ki Mi Gi Ti Pi Ei), decimal SI (n u m "" k M G T P E) or a
 * decimal exponent (e3, E-2). Returns undefined for malformed input.
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const RE = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** The quantity as a plain number (e.g. "1500m" → 1.5, "1Ki" → 1024). */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  if (typeof q !== 'string') return undefined;
  const m = RE.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[3] !== undefined) return n * Math.pow(10, Number(m[3]));
  const suffix = m[2] ?? '';
  return n * (BINARY[suffix] ?? DECIMAL[suffix]);
}

/** CPU in millicores, rounded up as Kubernetes' MilliValue does ("0.1" → 100, "250m" → 250, "1" → 1000). */
export function cpuMillis(q: string | number | undefined | null): number {
  const v = parseQuantity(q);
  return v === undefined ? 0 : Math.ceil(Math.round(v * 1000 * 1e6) / 1e6);
}

/** A byte quantity (memory, storage) as an integer, rounded up ("1Gi" → 1073741824, "1k" → 1000). */
export function bytesOf(q: string | number | undefined | null): number {
  const v = parseQuantity(q);
  return v === undefined ? 0 : Math.ceil(Math.round(v * 1e6) / 1e6);
}

/** An integer count quantity (e.g. allocatable pods "110"). */
export function countOf(q: string | number | undefined | null): number {
  const v = parseQuantity(q);
  return v === undefined ? 0 : Math.floor(v);
}
