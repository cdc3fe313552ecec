/**
 * Resolves after `ms`, or at once when `signal` aborts (never rejects). The
 * abort listener is removed when the timer fires, so a retry loop that sleeps
 * on one long-lived signal does not pile up listeners on it.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
