import { errors } from '../errors';
import { requestBody } from './body';
import type { NamedRequest } from './context';
import { isDryRun } from './options';
import { sendJson } from './respond';

/** POST pods/<name>/binding: the scheduler's placement; answered with a Success Status. */
export async function handleBinding(r: NamedRequest): Promise<unknown> {
  if (r.verb !== 'create') throw errors.methodNotAllowed(r.req.method, 'pods/binding');
  const binding = requestBody(r.req);
  await r.ctx.storage.bind(r.def, r.path.namespace!, r.path.name, binding, { dryRun: isDryRun(r.query) });
  return sendJson(r.reply, 201, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }));
}
