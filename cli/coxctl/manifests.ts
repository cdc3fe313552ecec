import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { KubeObject } from '../../lib/client';

/** One object from a manifest, with where it came from (for messages). */
export interface ManifestObject {
  source: string;
  object: KubeObject;
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Thrown for unreadable files and malformed documents; the message names the source. */
export class ManifestError extends Error {}

/**
 * Parses one file's text: multi-document YAML (JSON is YAML too); empty
 * documents are skipped; `List` kinds (`kind: List` or any `*List` with items)
 * are expanded into their items, recursively.
 */
export function parseManifests(text: string, source: string): ManifestObject[] {
  const out: ManifestObject[] = [];
  const docs = YAML.parseAllDocuments(text);
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new ManifestError(`error parsing ${source}: ${doc.errors[0].message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new ManifestError(`error parsing ${source}: a document is not an object`);
    expand(value as KubeObject, source, out);
  }
  return out;
}

function expand(obj: KubeObject, source: string, out: ManifestObject[]): void {
  const items = (obj as { items?: unknown }).items;
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(items)) {
    for (const item of items) if (item && typeof item === 'object') expand(item as KubeObject, source, out);
    return;
  }
  if (typeof obj.apiVersion !== 'string' || !obj.apiVersion) throw new ManifestError(`error validating ${source}: apiVersion not set`);
  if (typeof obj.kind !== 'string' || !obj.kind) throw new ManifestError(`error validating ${source}: kind not set`);
  out.push({ source, object: obj });
}

/**
 * The files `-f` names: a file as is; a folder's .yaml/.yml/.json files in name
 * order (sub-folders only when `recursive`). `-` is stdin (read by the caller).
 */
export function manifestFiles(target: string, recursive: boolean): string[] {
  let st;
  try {
    st = statSync(target);
  } catch {
    throw new ManifestError(`the path "${target}" does not exist`);
  }
  if (!st.isDirectory()) return [target];
  const files: string[] = [];
  for (const entry of readdirSync(target, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(target, entry.name);
    if (entry.isDirectory()) {
      if (recursive) files.push(...manifestFiles(full, true));
    } else if (MANIFEST_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
      files.push(full);
    }
  }
  return files;
}

/** Reads every object the `-f` arguments name, in order. */
export async function readManifests(targets: string[], opts: { recursive: boolean; stdin: NodeJS.ReadableStream }): Promise<ManifestObject[]> {
  const out: ManifestObject[] = [];
  for (const t of targets) {
    if (t === '-') {
      const chunks: Buffer[] = [];
      for await (const c of opts.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
      out.push(...parseManifests(Buffer.concat(chunks).toString('utf8'), 'STDIN'));
      continue;
    }
    for (const f of manifestFiles(t, opts.recursive)) out.push(...parseManifests(readFileSync(f, 'utf8'), f));
  }
  return out;
}
