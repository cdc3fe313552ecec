import { randomInt } from 'node:crypto';

/**
 * Kubernetes' "safe" alphabet (utilrand): no vowels and no 0, 1 or 3, so a
 * generated name never spells a word or reads ambiguously.
 */
export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * `n` random characters of the safe alphabet, as utilrand.String: the suffix of
 * `generateName`, ReplicaSet pod names and `kube-api-access-xxxxx` volumes.
 * `rand` (a uniform [0, 1) source) is for tests; the default is crypto-random.
 */
export function randomSuffix(n = 5, rand?: () => number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = rand ? Math.floor(rand() * SAFE_ALPHABET.length) : randomInt(SAFE_ALPHABET.length);
    s += SAFE_ALPHABET[k];
  }
  return s;
}

/**
 * A name as the apiserver makes one from `generateName`: the prefix cut to 58
 * characters, then 5 random characters (63 in all, a DNS label). Controllers
 * pick their pods' names this way themselves, so a retried create keeps it.
 */
export function generatedName(generateName: string, rand?: () => number): string {
  return `${generateName.slice(0, 58)}${randomSuffix(5, rand)}`;
}
