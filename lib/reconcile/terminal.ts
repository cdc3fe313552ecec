import { ApiError } from '../client';

/**
 * A reconcile failure that retrying cannot fix (the object is invalid, a
 * referenced value can never be satisfied). A reconcile that throws it is not
 * requeued: the Controller records it (a Warning event with `reason` on the
 * object, when it can find the object; a log line; the `terminal` result of
 * the reconcile metric) and forgets the key until the next change enqueues it.
 */
export class TerminalError extends Error {
  constructor(message: string, readonly reason = 'ReconcileFailed', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/**
 * True for a TerminalError, and for the apiserver's answers that the same
 * request can never succeed: 400 BadRequest and 422 Invalid (client-go's
 * controllers likewise stop retrying an invalid write until the object changes).
 */
export function isTerminal(err: unknown): boolean {
  if (err instanceof TerminalError) return true;
  return err instanceof ApiError && (err.code === 400 || err.code === 422);
}

/** The event reason recorded for a terminal failure. */
export function terminalReason(err: unknown): string {
  if (err instanceof TerminalError) return err.reason;
  if (err instanceof ApiError && err.reason) return err.reason;
  return 'ReconcileFailed';
}
