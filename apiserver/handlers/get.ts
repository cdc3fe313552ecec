import { toTable } from '../tables';
import type { NamedRequest } from './context';
import { includeObject } from './options';
import { sendJson, toServed } from './respond';

/** GET of one object: its stored JSON as is, converted, or as a Table. */
export async function handleGet(r: NamedRequest): Promise<unknown> {
  const c = await r.ctx.storage.get(r.def, r.path.namespace, r.path.name);
  if (r.table) {
    return sendJson(r.reply, 200, JSON.stringify(toTable(r.def.plural, [toServed(r, c.obj)], { includeObject: includeObject(r.query), resourceVersion: String(c.rv) })));
  }
  return sendJson(r.reply, 200, r.served.storageVersion ? JSON.stringify(toServed(r, c.obj)) : c.json);
}
