/**
 * Time as an injected dependency: every loop that waits (work queues, probes,
 * backoff, leases) takes a Clock, and tests pass `FakeClock` (lib/fake-clock.ts)
 * to drive time by hand instead of sleeping.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Wall-clock time; its timers are unref'd, so a pending retry never keeps a process alive. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
