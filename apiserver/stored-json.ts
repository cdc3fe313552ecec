/**
 * The JSON of a stored object as served: the stored text (resources.ts `encode`, which leaves
 * metadata.resourceVersion out) with `"resourceVersion":"<rv>"` added as metadata's last member,
 * which is what JSON.stringify gives for the parsed object once its resourceVersion is set.
 * Splicing the text skips re-serialising every object the watch cache receives (that was about
 * a third of the cache's decoding; it runs for every write). undefined when the text's
 * top-level `metadata` is not an object: the caller serialises instead.
 */
export function withResourceVersion(text: string, rv: string): string | undefined {
  const end = metadataEnd(text);
  if (end < 0) return undefined;
  let before = end - 1;
  while (before > 0 && text.charCodeAt(before) <= 32) before--;
  const empty = text.charCodeAt(before) === OPEN_BRACE;
  return `${text.slice(0, end)}${empty ? '' : ','}"resourceVersion":${JSON.stringify(rv)}${text.slice(end)}`;
}

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/** The index of the closing quote of the string starting at `i`. */
function stringEnd(s: string, i: number): number {
  for (i++; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i;
  }
  return s.length;
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && s.charCodeAt(i) <= 32) i++;
  return i;
}

/** The index of the `}` that closes the top-level "metadata" object of JSON text `s`, or -1. */
function metadataEnd(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      i = stringEnd(s, i);
      if (depth !== 1 || i - start !== 9 || !s.startsWith('"metadata"', start)) continue;
      let j = skipSpace(s, i + 1);
      if (s.charCodeAt(j) !== COLON) continue; // a value "metadata", not the key
      j = skipSpace(s, j + 1);
      if (s.charCodeAt(j) !== OPEN_BRACE) return -1;
      for (let d = 0; j < s.length; j++) {
        const e = s.charCodeAt(j);
        if (e === QUOTE) j = stringEnd(s, j);
        else if (e === OPEN_BRACE || e === OPEN_BRACKET) d++;
        else if ((e === CLOSE_BRACE || e === CLOSE_BRACKET) && --d === 0) return j;
      }
      return -1;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return -1;
}
