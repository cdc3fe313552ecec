import { ApiError } from '../errors';
import { apiVersionOf } from '../registry';
import { requestBody } from './body';
import type { NamedRequest, ResourceRequest } from './context';
import { buildFilter, matches } from './filter';
import { deleteOptions } from './options';
import { sendJson } from './respond';
import { objectName } from '../api-object';

/** DELETE of one object: the object as deleted (or as marked for deletion). */
export async function handleDelete(r: NamedRequest): Promise<unknown> {
  const opts = deleteOptions(requestBody(r.req), r.query);
  const obj = await r.ctx.storage.delete(r.def, r.path.namespace, r.path.name, opts);
  return sendJson(r.reply, 200, JSON.stringify(obj));
}

/** DELETE of a collection: every matching object, one by one; those already gone are skipped. */
export async function handleDeleteCollection(r: ResourceRequest): Promise<unknown> {
  const st = r.ctx.storage;
  const opts = deleteOptions(requestBody(r.req), r.query);
  const f = buildFilter(r.def, r.path, r.query);
  const { items } = await st.list(r.def, r.path.namespace, '');
  const deleted: unknown[] = [];
  for (const c of items.filter((c) => matches(f, c.obj))) {
    try { deleted.push(await st.delete(r.def, c.obj.metadata.namespace, objectName(c.obj), opts)); } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
    }
  }
  return sendJson(r.reply, 200, JSON.stringify({ kind: r.def.listKind, apiVersion: apiVersionOf(r.def), metadata: {}, items: deleted }));
}
