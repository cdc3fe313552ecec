import type { Registry } from 'prom-client';
import { startHealthServer } from './health';
import { AlwaysLeader, type LeaderElector } from './leader';
import type { Logger } from './log';

/**
 * The process shell shared by the scheduler and the controller manager: a
 * /healthz, /readyz and /metrics server, leader election, then "sync the
 * informers, start the loops". What differs between them is passed in.
 */
export interface ControlLoopsOptions {
  logger: Logger;
  bindAddress: string;
  port: number;
  registry: Registry;
  elector?: LeaderElector;
  /** Starts the informers; resolves once their caches synced, or once they were stopped. */
  sync(): Promise<void>;
  /** Starts the loops. Called once, after `sync`, and never after `stop()` began. */
  run(): void;
  /** Stops the loops and informers and releases clients. Called once, by `stop()`. */
  halt(): Promise<void>;
}

export interface RunningControlLoops {
  /** The health/metrics port actually bound (useful with port 0). */
  port: number;
  stop(): Promise<void>;
}

/**
 * Binds the health server (so a port clash fails the start), then runs the
 * loops while this process is leader. /readyz answers 503 until `run` was
 * called. The informers retry the apiserver forever, so this survives the
 * apiserver starting late or restarting; `stop()` returns even if they never
 * synced.
 */
export async function startControlLoops(o: ControlLoopsOptions): Promise<RunningControlLoops> {
  let running = false;
  const health = await startHealthServer({ host: o.bindAddress, port: o.port, registry: o.registry, ready: () => running });
  const stopper = new AbortController();
  let halted: Promise<void> | undefined;
  const halt = () => (halted ??= o.halt());
  const lead = async () => {
    await o.sync();
    if (stopper.signal.aborted) return;
    running = true;
    o.run();
  };
  const lost = () => {
    running = false;
    // as kube-controller-manager does: a process that lost its lease exits once its loops halted
    void halt().finally(() => process.exit(1));
  };
  const elected = (o.elector ?? new AlwaysLeader()).run(
    () => void lead().catch((err: Error) => o.logger.error({ err: err.message }, 'control loops failed to start')),
    lost,
    stopper.signal,
  );
  return {
    port: health.port,
    async stop() {
      stopper.abort();
      running = false;
      // The elector releases a held lease first, so a successor takes over at once.
      await elected.catch(() => undefined);
      await halt();
      await health.close();
    },
  };
}
