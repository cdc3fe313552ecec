/**
 * The pure part of `coxctl edit`: the file the editor sees (kubectl's header,
 * then the object), comparing what came back, and the merge patch to send.
 */

/** Why the file is being reopened: a headline and its details (kubectl's `# * ...` lines). */
export interface EditReason {
  head: string;
  other: string[];
}

const commented = (s: string) => s.replace(/\n(?!#)/g, '\n# ');

/** kubectl's comment block at the top of the edited file, with the reasons of the last failed save. */
export function editHeader(reasons: EditReason[]): string {
  let s =
    "# Please edit the object below. Lines beginning with a '#' will be ignored,\n" +
    '# and an empty file will abort the edit. If an error occurs while saving this file will be\n' +
    '# reopened with the relevant failures.\n#\n';
  for (const r of reasons) {
    s += r.other.length ? `# ${commented(r.head)}:\n` : `# ${commented(r.head)}\n`;
    for (const o of r.other) s += `# * ${commented(o)}\n`;
    s += '#\n';
  }
  return s;
}

/** The text without its comment lines (`#` first after blanks; `#!` kept), as kubectl strips them. */
export function stripComments(text: string): string {
  return text
    .split('\n')
    .filter((line) => {
      const t = line.trim();
      return !(t.startsWith('#') && !t.startsWith('#!'));
    })
    .join('\n');
}

/** True when some line has content that is not a comment; an empty save cancels the edit. */
export function hasContent(text: string): boolean {
  return text.split('\n').some((line) => {
    const t = line.trim();
    return t.length > 0 && !t.startsWith('#');
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && equal(a[k], b[k]));
  }
  return false;
}

/**
 * An RFC 7386 JSON merge patch taking `from` to `to`: changed keys with their
 * new value, removed keys as null, lists replaced whole. `{}` when equal.
 */
export function createMergePatch(from: unknown, to: unknown): unknown {
  if (!isObject(from) || !isObject(to)) return to;
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  for (const [k, v] of Object.entries(to)) {
    if (!(k in from)) patch[k] = v;
    else if (!equal(from[k], v)) {
      const sub = isObject(from[k]) && isObject(v) ? createMergePatch(from[k], v) : v;
      patch[k] = sub;
    }
  }
  return patch;
}

/** Whether a merge patch changes nothing. */
export function isEmptyPatch(patch: unknown): boolean {
  return isObject(patch) && Object.keys(patch).length === 0;
}

/** kubectl refuses an edit that renames or retypes the object (apiVersion, kind, metadata.name). */
export function changesIdentity(patch: unknown): boolean {
  if (!isObject(patch)) return true;
  if ('apiVersion' in patch || 'kind' in patch) return true;
  const meta = patch.metadata;
  return isObject(meta) && 'name' in meta;
}

export { equal as jsonEqual };
