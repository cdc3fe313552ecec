/**
 * The catalogue of API errors: each is a metav1.Status with its HTTP code and reason.
 * Handlers throw `ApiError`; the app's error handler serialises it. Callers branch on
 * `reason`, never on message text.
 */

export interface StatusCause { reason?: string; field?: string; message: string }
export interface StatusDetails { name?: string; group?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number; uid?: string }

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export type Reason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'MethodNotAllowed' | 'NotAcceptable'
  | 'AlreadyExists' | 'Conflict' | 'Gone' | 'Expired' | 'RequestEntityTooLarge' | 'UnsupportedMediaType'
  | 'Invalid' | 'TooManyRequests' | 'InternalError' | 'ServiceUnavailable' | 'Timeout';

const CODES: Record<Reason, number> = {
  BadRequest: 400, Unauthorized: 401, Forbidden: 403, NotFound: 404, MethodNotAllowed: 405, NotAcceptable: 406,
  AlreadyExists: 409, Conflict: 409, Gone: 410, Expired: 410, RequestEntityTooLarge: 413, UnsupportedMediaType: 415,
  Invalid: 422, TooManyRequests: 429, InternalError: 500, ServiceUnavailable: 503, Timeout: 504,
};

export class ApiError extends Error {
  readonly code: number;
  constructor(readonly reason: Reason, message: string, readonly details?: StatusDetails) {
    super(message);
    this.code = CODES[reason];
  }

  toStatus(): Status {
    const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) s.details = this.details;
    return s;
  }
}

/** "deployments.apps" / "pods" — how Kubernetes names a resource in messages. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const errors = {
  notFound: (resource: string, group: string, name: string) =>
    new ApiError('NotFound', `${qualified(resource, group)} "${name}" not found`, { name, group, kind: resource }),
  alreadyExists: (resource: string, group: string, name: string) =>
    new ApiError('AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, { name, group, kind: resource }),
  conflict: (resource: string, group: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
    new ApiError('Conflict', `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, { name, group, kind: resource }),
  invalid: (kind: string, group: string, name: string, causes: StatusCause[]) =>
    new ApiError('Invalid', `${kind}${group ? '.' + group : ''} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
      { name, group, kind, causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field })) }),
  badRequest: (message: string) => new ApiError('BadRequest', message),
  methodNotAllowed: (verb: string, what: string) => new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource (${verb} ${what})`),
  unsupportedMediaType: (type: string) => new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (not yet supported: ${type})`),
  expired: (message: string) => new ApiError('Expired', message),
  gone: (message: string) => new ApiError('Gone', message),
  unauthorized: () => new ApiError('Unauthorized', 'Unauthorized'),
  forbidden: (message: string, details?: StatusDetails) => new ApiError('Forbidden', message, details),
  internal: (message: string) => new ApiError('InternalError', `Internal error occurred: ${message}`),
  unavailable: (message: string) => new ApiError('ServiceUnavailable', message),
  tooLarge: () => new ApiError('RequestEntityTooLarge', 'the request body is too large (limit 3 MiB)'),
  /** A read at a resourceVersion this server has not seen yet (after waiting for it): 504 as Kubernetes' storage.NewTooLargeResourceVersionError. */
  tooLargeResourceVersion: (rv: number, current: number) => new ApiError('Timeout', `Too large resource version: ${rv}, current: ${current}`,
    { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 }),
  pathNotFound: () => new ApiError('NotFound', 'the server could not find the requested resource'),
};
