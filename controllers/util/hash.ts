/**
 * Deterministic object hashing for controller-created names (pod-template-hash).
 * The hash is FNV-1a (32 bit) over a canonical JSON rendering (keys sorted,
 * undefined dropped), so it is the same in every process and across restarts,
 * encoded with Kubernetes' "safe" alphabet (no vowels, no 0/1/3) so it never
 * spells words, as `rand.SafeEncodeString` does.
 */

import { SAFE_ALPHABET } from '../../lib/names';

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
}

function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(s, 'utf8');
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function safeEncode(n: number): string {
  const digits = String(n >>> 0);
  let out = '';
  for (const ch of digits) out += SAFE_ALPHABET[ch.charCodeAt(0) % SAFE_ALPHABET.length];
  return out;
}

/** The pod-template-hash of a pod template (plus the deployment's collisionCount when set). */
export function computeHash(template: unknown, collisionCount?: number): string {
  let s = canonicalJson(template);
  if (collisionCount) s += `#${collisionCount}`;
  return safeEncode(fnv1a32(s));
}
