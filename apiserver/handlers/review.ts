import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../errors';
import type { ResourceDef } from '../groups/types';
import { requestBody } from './body';
import { isObject } from '../json';
import { type ApiPath, type RequestLabels, type RestContext, mastersOnlyAuthorizer } from './context';
import { sendJson } from './respond';

/** POST of a create-only virtual resource (SelfSubjectAccessReview): answered, never stored. */
export async function handleReview(ctx: RestContext, def: ResourceDef, req: FastifyRequest, reply: FastifyReply, p: ApiPath, labels: RequestLabels): Promise<unknown> {
  labels.resource = def.plural;
  labels.verb = 'create';
  if (req.method !== 'POST' || p.name || p.namespace) throw errors.methodNotAllowed(req.method, def.plural);
  const body = requestBody(req);
  if (!isObject(body)) throw errors.badRequest('the request body must be a JSON object');
  if (body.kind !== undefined && body.kind !== def.kind) throw errors.badRequest(`the kind of the object (${String(body.kind)}) does not match the expected kind (${def.kind})`);
  const spec = isObject(body.spec) ? body.spec : undefined;
  if (def.kind.endsWith('AccessReview') && !spec?.resourceAttributes && !spec?.nonResourceAttributes) {
    throw errors.invalid(def.kind, def.group, '', [{ field: 'spec.resourceAttributes', reason: 'FieldValueRequired', message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified' }]);
  }
  const result = await def.review!(body, { user: req.user, authorize: ctx.authorize ?? mastersOnlyAuthorizer, rulesFor: ctx.rulesFor });
  return sendJson(reply, 201, JSON.stringify(result));
}
