import path from 'node:path';
import { Supervisor, type ChildSpec } from '../../lib/supervisor';

/**
 * Starts `plan` under a Supervisor, reports children that exit and are
 * restarted, and stops them all (then exits) on SIGINT, SIGTERM or SIGHUP.
 * Shared by `coxswain up`, `server` and `agent`. `beforeStop` runs first on a
 * signal (e.g. closing a listener of the parent process).
 */
export function superviseUntilSignal(plan: ChildSpec[], o: { home: string; beforeStop?: () => Promise<void> }): { sup: Supervisor; stopping: () => boolean } {
  const sup = new Supervisor();
  let stopping = false;
  sup.on('exit', (name: string, code: number | null, signal: string | null, restartInMs?: number) => {
    if (restartInMs !== undefined) {
      process.stdout.write(`coxswain: ${name} exited (${signal ?? `code ${code}`}); restarting in ${(restartInMs / 1000).toFixed(1)}s (log: ${path.join(o.home, 'logs', `${name}.log`)})\n`);
    }
  });
  const shutdown = (sig: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`coxswain: ${sig}: stopping...\n`);
    void (async () => {
      await o.beforeStop?.().catch(() => undefined);
      await sup.stop();
      process.stdout.write('coxswain: stopped\n');
      process.exit(0);
    })();
  };
  // The children are in process groups of their own (see Supervisor): every way
  // this process is asked to end must stop them, or they outlive it.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => shutdown(sig));
  for (const spec of plan) sup.start(spec);
  return { sup, stopping: () => stopping };
}

/** Polls `probe` every 250 ms until it gives a value or `deadline` passes (then throws, with the last error). */
export async function waitFor<T>(what: string, deadline: number, probe: () => Promise<T | undefined>): Promise<T> {
  let last = '';
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
}
