import type { Clock } from './clock';

/**
 * Resolves after `ms`, or at once when `signal` aborts (never rejects). The
 * abort listener is removed when the timer fires, so a retry loop that sleeps
 * on one long-lived signal does not pile up listeners on it. With a `clock`
 * the timer is that clock's (a FakeClock in tests); without, a plain timer.
 */
export function sleep(ms: number, signal?: AbortSignal, clock?: Clock): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      if (clock) clock.clearTimeout(t);
      else clearTimeout(t as NodeJS.Timeout);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t: unknown = clock ? clock.setTimeout(done, ms) : setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
