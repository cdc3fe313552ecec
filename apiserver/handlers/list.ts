import { errors } from '../errors';
import type { ResourceDef } from '../groups/types';
import { apiVersionOf, keyPrefix } from '../registry';
import { CompactedError } from '../storage/types';
import { toTable } from '../tables';
import { type CachedObject, decodeKv } from '../watchcache';
import type { ResourceRequest, RestContext } from './context';
import { type Filter, buildFilter, matches } from './filter';
import { type ListParams, includeObject, listParams } from './options';
import { sendJson, toServed } from './respond';

/** A list `continue` token: the list's revision and the key to resume from. */
function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString());
    if (t.v === 'meta.k8s.io/v1' && Number.isInteger(t.rv) && t.rv > 0 && typeof t.start === 'string') return { rv: t.rv, start: t.start };
  } catch { /* fall through */ }
  throw errors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

/** GET of a collection: a page of matching objects as a List or a Table. */
export async function handleList(r: ResourceRequest): Promise<unknown> {
  const f = buildFilter(r.def, r.path, r.query);
  const page = await listPage(r.ctx, r.def, r.path.namespace, listParams(r.query), f);
  if (r.table) {
    const t = toTable(r.def.plural, page.items.map((c) => toServed(r, c.obj)), { includeObject: includeObject(r.query), resourceVersion: String(page.revision) });
    if (page.continue) t.metadata.continue = page.continue;
    return sendJson(r.reply, 200, JSON.stringify(t));
  }
  const meta = { resourceVersion: String(page.revision), ...(page.continue ? { continue: page.continue } : {}), ...(page.remaining !== undefined ? { remainingItemCount: page.remaining } : {}) };
  const items = page.items.map((c) => (r.served.storageVersion ? JSON.stringify(toServed(r, c.obj)) : c.json));
  return sendJson(r.reply, 200, `{"kind":"${r.served.listKind}","apiVersion":"${apiVersionOf(r.served)}","metadata":${JSON.stringify(meta)},"items":[${items.join(',')}]}`);
}

interface Page { items: CachedObject[]; revision: number; continue?: string; remaining?: number }

/**
 * One page of a list: `limit` matching objects from the watch cache (first page) or from the
 * store at the token's revision (later pages, 410 once that revision is compacted).
 */
async function listPage(ctx: RestContext, def: ResourceDef, ns: string | undefined, opts: ListParams, f: Filter): Promise<Page> {
  let items: CachedObject[];
  let revision: number;
  if (opts.continue) {
    const t = decodeContinue(opts.continue);
    items = (await readAt(ctx, def, f.prefix ?? keyPrefix(def), t.rv)).filter((c) => c.key >= t.start);
    revision = t.rv;
  } else {
    ({ items, revision } = await ctx.storage.list(def, ns, opts.resourceVersion));
  }
  const selected = items.filter((c) => matches(f, c.obj));
  const limit = opts.limit;
  if (!limit || selected.length <= limit) return { items: selected, revision };
  const page = selected.slice(0, limit);
  const unfiltered = f.labels.length === 0 && f.fields.length === 0;
  return { items: page, revision, continue: encodeContinue(revision, `${page[page.length - 1].key}\0`), remaining: unfiltered ? selected.length - limit : undefined };
}

/** Every object under `prefix` at revision `rv`: from the watch cache when it is there, else from the store. */
async function readAt(ctx: RestContext, def: ResourceDef, prefix: string, rv: number): Promise<CachedObject[]> {
  const cache = ctx.storage.cache(def);
  if (cache.isLoaded && cache.revision === rv) return cache.list(prefix);
  try {
    const r = await ctx.storage.store.list(prefix, { revision: rv });
    return r.kvs.map((kv) => decodeKv(kv));
  } catch (e) {
    if (e instanceof CompactedError) {
      throw errors.expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
    }
    throw e;
  }
}
