import { ApiError } from '../../lib/client';
import { UnknownResourceError } from './discovery';
import { ManifestError } from './manifests';

/** A user-facing failure: the message is printed as is (after `error: ` unless `raw`). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly raw = false,
  ) {
    super(message);
  }
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

interface StatusDetails {
  name?: string;
  kind?: string;
  causes?: { field?: string; message?: string; reason?: string }[];
}

/**
 * kubectl's wording for an API error:
 * `Error from server (NotFound): pods "nope" not found`,
 * `The Pod "x" is invalid: spec.containers[0].image: Required value`,
 * `error: You must be logged in to the server (Unauthorized)`.
 * `context` (e.g. `error when applying "f.yaml"`) goes between the reason and the message.
 */
export function formatApiError(err: ApiError, context?: string): string {
  if (err.code === 401) return 'error: You must be logged in to the server (Unauthorized)';
  const reason = err.reason || REASONS[err.code] || 'Unknown';
  const details = (err.status?.details ?? {}) as StatusDetails;
  if (reason === 'Invalid' && details.causes?.length) {
    const kind = details.kind ? details.kind.charAt(0).toUpperCase() + details.kind.slice(1) : 'object';
    const causes = details.causes.map((c) => (c.field ? `${c.field}: ${c.message ?? c.reason ?? ''}` : (c.message ?? ''))).join(', ');
    return `The ${kind} "${details.name ?? ''}" is invalid: ${causes}`;
  }
  const message = err.status ? err.message : err.code === 404 ? 'the server could not find the requested resource' : `an error on the server (${JSON.stringify(err.message)}) has prevented the request from succeeding`;
  return `Error from server (${reason}): ${context ? `${context}: ` : ''}${message}`;
}

/** Connection-level failures in kubectl's words; undefined when `err` is not one. */
function formatConnectionError(err: unknown, server: string): string | undefined {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code;
  let host = server;
  try {
    host = new URL(server).host;
  } catch {
    // keep as is
  }
  if (code === 'ECONNREFUSED') return `The connection to the server ${host} was refused - did you specify the right host or port?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `Unable to connect to the server: dial tcp: lookup ${host}: no such host`;
  if (code === 'ETIMEDOUT' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EPIPE')
    return `Unable to connect to the server: ${e.message}`;
  if (typeof code === 'string' && (code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN'))
    return `Unable to connect to the server: tls: ${e.message}`;
  if (e instanceof Error && /timed out after/.test(e.message)) return `Unable to connect to the server: ${e.message}`;
  return undefined;
}

/** The one line printed for any failure of a command. */
export function formatError(err: unknown, server = ''): string {
  if (err instanceof ApiError) return formatApiError(err);
  if (err instanceof CliError) return err.raw ? err.message : `error: ${err.message}`;
  if (err instanceof UnknownResourceError || err instanceof ManifestError) return `error: ${err.message}`;
  const conn = formatConnectionError(err, server);
  if (conn) return conn;
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}
