import type { FastifyRequest } from 'fastify';
import { errors } from '../errors';
import { type FieldValidation, parseFieldValidation } from '../fieldvalidation';
import { type Query, boolParam, param, params } from '../query';
import type { DeleteOptions } from '../resources';
import { isObject } from '../json';

/**
 * The query parameters of each verb, parsed once into a typed object, as Kubernetes decodes
 * them into GetOptions, ListOptions, CreateOptions/UpdateOptions/PatchOptions and
 * DeleteOptions. Invalid values are 400s naming the parameter.
 */

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** `includeObject` of a Table: Metadata unless None or Object. */
export function includeObject(query: Query): IncludeObject {
  const v = param(query, 'includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

/** `dryRun=All` (the only value Kubernetes knows); anything else is a 400. */
export function isDryRun(query: Query): boolean {
  const list = params(query, 'dryRun');
  for (const d of list) if (d !== 'All') throw errors.badRequest(`unsupported dryRun value "${d}": only "All" is supported`);
  return list.length > 0;
}

/** Kubernetes' default field manager: the User-Agent up to its first '/'. */
function defaultFieldManager(userAgent: string | undefined): string {
  const m = (userAgent ?? '').split('/')[0].trim();
  return (m || 'unknown').slice(0, 128);
}

/** CreateOptions, UpdateOptions and PatchOptions. */
export interface RequestWriteOptions { dryRun: boolean; fieldManager: string; force: boolean; fieldValidation: FieldValidation }

export function writeOptions(req: FastifyRequest, query: Query): RequestWriteOptions {
  const fm = param(query, 'fieldManager');
  if (fm !== undefined && (fm.length > 128 || /[^\x20-\x7e]/.test(fm))) throw errors.badRequest(`fieldManager: Invalid value: ${JSON.stringify(fm)}: must be at most 128 printable characters`);
  return {
    dryRun: isDryRun(query),
    fieldManager: fm || defaultFieldManager(req.headers['user-agent']),
    force: boolParam(query, 'force'),
    fieldValidation: parseFieldValidation(param(query, 'fieldValidation')),
  };
}

const PROPAGATION_POLICIES = ['Background', 'Foreground', 'Orphan'];

/** DeleteOptions from the body (which wins) and the query. */
export function deleteOptions(body: unknown, query: Query): DeleteOptions {
  const b = body ?? {};
  if (!isObject(b)) throw errors.badRequest('DeleteOptions must be a JSON object');
  const graceParam = param(query, 'gracePeriodSeconds');
  const grace = b.gracePeriodSeconds ?? (graceParam !== undefined ? Number(graceParam) : undefined);
  if (grace !== undefined && !Number.isInteger(grace)) throw errors.badRequest('gracePeriodSeconds must be an integer');
  const policy = b.propagationPolicy ?? param(query, 'propagationPolicy');
  if (policy !== undefined && !PROPAGATION_POLICIES.includes(policy as string)) throw errors.badRequest(`invalid propagationPolicy "${String(policy)}"`);
  const dry = isDryRun(query) || (Array.isArray(b.dryRun) && b.dryRun.includes('All'));
  return {
    gracePeriodSeconds: grace as number | undefined,
    propagationPolicy: policy as DeleteOptions['propagationPolicy'],
    preconditions: b.preconditions as DeleteOptions['preconditions'],
    dryRun: dry,
  };
}

/** ListOptions of a list. */
export interface ListParams { limit: number; continue?: string; resourceVersion?: string }

export function listParams(query: Query): ListParams {
  const limitRaw = param(query, 'limit');
  const limit = limitRaw === undefined || limitRaw === '' ? 0 : /^\d{1,15}$/.test(limitRaw) ? Number(limitRaw) : NaN;
  if (!Number.isInteger(limit) || limit < 0) throw errors.badRequest(`invalid limit "${String(limitRaw).slice(0, 100)}"`);
  return { limit, continue: param(query, 'continue') || undefined, resourceVersion: param(query, 'resourceVersion') };
}

/** ListOptions of a watch. */
export interface WatchParams {
  /** '' when absent */
  resourceVersion: string;
  /** seconds; the server's default (randomised like Kubernetes') when absent or 0 */
  timeoutSeconds: number;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean;
  includeObject: IncludeObject;
}

export function watchParams(query: Query, minRequestTimeoutSeconds: number): WatchParams {
  const resourceVersion = param(query, 'resourceVersion') ?? '';
  if (resourceVersion !== '' && !/^\d+$/.test(resourceVersion)) throw errors.badRequest(`invalid resourceVersion "${resourceVersion}"`);
  const timeoutRaw = param(query, 'timeoutSeconds');
  if (timeoutRaw !== undefined && timeoutRaw !== '' && !/^\d{1,9}$/.test(timeoutRaw)) throw errors.badRequest(`invalid timeoutSeconds "${timeoutRaw}": must be a non-negative integer`);
  const timeoutSeconds = timeoutRaw !== undefined && timeoutRaw !== '' && Number(timeoutRaw) > 0 ? Number(timeoutRaw) : minRequestTimeoutSeconds * (1 + Math.random());
  return {
    resourceVersion, timeoutSeconds,
    allowWatchBookmarks: boolParam(query, 'allowWatchBookmarks'),
    sendInitialEvents: boolParam(query, 'sendInitialEvents'),
    includeObject: includeObject(query),
  };
}
