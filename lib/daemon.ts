import type { Logger } from './log';

/** The signals every Coxswain daemon stops on. */
const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** What `runUntilSignal` needs of `process` (injectable for tests). */
export interface SignalTarget {
  on(signal: string, listener: (signal: string) => void): unknown;
  off(signal: string, listener: (signal: string) => void): unknown;
  exit(code?: number): never | void;
}

export interface ShutdownOptions {
  /** Longest a clean stop may take before the process exits anyway (code 1). Default 20 s. */
  graceMs?: number;
  /**
   * After `stop` resolved the process should end as its event loop drains; if a
   * forgotten handle (socket, timer, gRPC channel) keeps it alive this long, it
   * exits (code 0) anyway. Default 2 s.
   */
  drainMs?: number;
  target?: SignalTarget;
}

/**
 * Resolves once the first SIGTERM or SIGINT has run `stop` to completion: the
 * tail of every daemon's `main`.
 *
 * Contract: `stop` runs exactly once. A second signal while it runs exits at
 * once with code 1 (a second Ctrl-C forces, as in most daemons), and so does a
 * stop that outlives `graceMs` or rejects. `coxswain up` starts its children in
 * their own process group, so a terminal's Ctrl-C reaches them only once,
 * through the supervisor.
 */
export function runUntilSignal(log: Logger, stop: (signal: string) => Promise<void>, opts: ShutdownOptions = {}): Promise<void> {
  const target: SignalTarget = opts.target ?? (process as unknown as SignalTarget);
  const graceMs = opts.graceMs ?? 20_000;
  const drainMs = opts.drainMs ?? 2_000;
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: string) => {
      if (stopping) {
        log.warn({ signal }, 'second signal while stopping: exiting now');
        target.exit(1);
        return;
      }
      stopping = true;
      log.info({ signal }, 'shutting down');
      const forced = setTimeout(() => {
        log.error({ graceMs }, 'shutdown took too long: exiting now');
        target.exit(1);
      }, graceMs);
      forced.unref();
      stop(signal).then(
        () => {
          clearTimeout(forced);
          for (const s of SHUTDOWN_SIGNALS) target.off(s, onSignal);
          // Not a reason to stay alive, but a deadline for whatever still is.
          setTimeout(() => {
            log.warn('handles still open after shutdown: exiting');
            target.exit(0);
          }, drainMs).unref();
          resolve();
        },
        (err: unknown) => {
          clearTimeout(forced);
          log.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed');
          target.exit(1);
        },
      );
    };
    for (const s of SHUTDOWN_SIGNALS) target.on(s, onSignal);
  });
}
