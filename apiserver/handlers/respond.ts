import type { FastifyReply } from 'fastify';
import { toTable } from '../tables';
import { JSON_TYPE, type ResourceRequest } from './context';
import { includeObject } from './options';
import type { ApiObject } from '../api-object';

/** The Accept header asks for a meta.k8s.io Table. */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => {
    const params = part.split(';').map((s) => s.trim());
    return params.includes('as=Table') && (params.includes('g=meta.k8s.io') || !params.some((x) => x.startsWith('g=')));
  });
}

/** A stored object as the request's version shows it (autoscaling/v1 over v2 storage). */
export function toServed(r: ResourceRequest, obj: ApiObject): ApiObject {
  const view = r.served.storageVersion;
  return view ? view.fromStorage(obj) : obj;
}

/** A body in the request's version as stored. */
export function toStored(r: ResourceRequest, obj: unknown): unknown {
  const view = r.served.storageVersion;
  return view && obj && typeof obj === 'object' ? view.toStorage(obj) : obj;
}

export function sendJson(reply: FastifyReply, code: number, json: string): FastifyReply {
  return reply.code(code).type(JSON_TYPE).send(json);
}

function resourceVersionOf(obj: unknown): string | undefined {
  return (obj as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
}

/**
 * The answer of a get, create, update or patch: the object in the request's version (a
 * Scale as it is), or its Table when asked for one (main resource only).
 */
export function sendObject(r: ResourceRequest, code: number, stored: ApiObject): FastifyReply {
  const obj = r.path.subresource === 'scale' ? stored : toServed(r, stored);
  if (r.table && !r.path.subresource) {
    return sendJson(r.reply, code, JSON.stringify(toTable(r.def.plural, [obj], { includeObject: includeObject(r.query), resourceVersion: resourceVersionOf(obj) })));
  }
  return sendJson(r.reply, code, JSON.stringify(obj));
}
