import type { FastifyRequest } from 'fastify';
import * as YAML from 'yaml';
import { errors } from '../errors';
import { decodeProtobufObject } from '../protobuf';

/** The request's body, decoded by its Content-Type (decodeBody). */
export function requestBody(req: FastifyRequest): unknown {
  return decodeBody(req.headers['content-type'], req.body as Buffer | undefined);
}

/**
 * A request body decoded by its Content-Type (JSON, YAML, Kubernetes protobuf); undefined
 * when empty. Malformed bodies are 400s, unknown media types 415s.
 */
export function decodeBody(contentType: string | undefined, raw: Buffer | undefined): unknown {
  if (!raw || raw.length === 0) return undefined;
  const type = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (type === 'application/vnd.kubernetes.protobuf') return decodeProtobufObject(raw);
  if (type.includes('protobuf')) throw errors.unsupportedMediaType(type);
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml') {
    try {
      const docs = YAML.parseAllDocuments(raw.toString());
      if (docs.length !== 1 || docs[0].errors.length) throw new Error(docs[0]?.errors[0]?.message ?? 'expected exactly one YAML document');
      return docs[0].toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw errors.badRequest(`error decoding YAML: ${messageOf(e)}`);
    }
  }
  if (type === '' || type === '*/*' || type.endsWith('json') || type === 'text/plain') {
    try { return JSON.parse(raw.toString()); } catch (e) {
      throw errors.badRequest(`error decoding JSON: ${messageOf(e)}`);
    }
  }
  throw errors.unsupportedMediaType(type);
}

function messageOf(e: unknown): string {
  return String((e as { message?: unknown } | undefined)?.message ?? e);
}
