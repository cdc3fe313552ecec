import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { EventEmitter } from 'node:events';

/** One supervised child: a command line, its log file and its environment. */
export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr of the child are appended here. */
  logFile: string;
}

export interface RestartPolicy {
  /** First delay before a restart; doubles per consecutive failure up to maxDelayMs (systemd's RestartSec and a cap). */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A child that ran at least this long is considered healthy: its backoff resets. */
  resetAfterMs: number;
}

const DEFAULT_RESTART: RestartPolicy = { initialDelayMs: 500, maxDelayMs: 15_000, resetAfterMs: 30_000 };

/**
 * The delay before restarting a child that exited, given the previous delay and
 * how long it ran. Pure: the supervisor's only policy decision.
 */
function nextRestartDelay(policy: RestartPolicy, previousDelayMs: number | undefined, ranForMs: number): number {
  if (previousDelayMs === undefined || ranForMs >= policy.resetAfterMs) return policy.initialDelayMs;
  return Math.min(previousDelayMs * 2, policy.maxDelayMs);
}

interface ChildState {
  spec: ChildSpec;
  proc?: ChildProcess;
  startedAt: number;
  delayMs?: number;
  restarts: number;
  timer?: NodeJS.Timeout;
  log: WriteStream;
}

/**
 * Runs children and restarts each one that dies, with exponential backoff (as
 * systemd's Restart=always would). `stop()` sends SIGTERM to every child in
 * reverse start order, waits up to `graceMs`, then SIGKILLs what is left.
 * Children run in process groups of their own, so signals sent to the
 * supervisor's group (Ctrl-C) do not reach them: whoever runs a Supervisor must
 * call `stop()` on SIGINT, SIGTERM and SIGHUP.
 * Emits 'exit' (name, code, signal, restartInMs), 'start' (name, pid) and
 * 'log-error' (name, error).
 */
export class Supervisor extends EventEmitter {
  private readonly children = new Map<string, ChildState>();
  private stopping = false;

  constructor(private readonly policy: RestartPolicy = DEFAULT_RESTART) {
    super();
  }

  start(spec: ChildSpec): void {
    if (this.children.has(spec.name)) throw new Error(`child ${spec.name} already started`);
    const log = createWriteStream(spec.logFile, { flags: 'a' });
    // A failing log file must not take the supervisor (and so the cluster) down.
    log.on('error', (err) => this.emit('log-error', spec.name, err));
    const state: ChildState = { spec, startedAt: 0, restarts: 0, log };
    this.children.set(spec.name, state);
    this.launch(state);
  }

  pid(name: string): number | undefined {
    return this.children.get(name)?.proc?.pid;
  }

  restarts(name: string): number {
    return this.children.get(name)?.restarts ?? 0;
  }

  names(): string[] {
    return [...this.children.keys()];
  }

  private launch(state: ChildState): void {
    const { spec } = state;
    state.startedAt = Date.now();
    // A process group of its own: a terminal's Ctrl-C reaches the supervisor
    // only, which then stops the children once each, in order.
    const proc = spawn(spec.command, spec.args, { env: spec.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    state.proc = proc;
    proc.stdout?.pipe(state.log, { end: false });
    proc.stderr?.pipe(state.log, { end: false });
    proc.on('error', (err) => state.log.write(`supervisor: spawn failed: ${err.message}\n`));
    proc.on('exit', (code, signal) => {
      state.proc = undefined;
      if (this.stopping) {
        this.emit('exit', spec.name, code, signal, undefined);
        return;
      }
      const delay = nextRestartDelay(this.policy, state.delayMs, Date.now() - state.startedAt);
      state.delayMs = delay;
      state.restarts += 1;
      this.emit('exit', spec.name, code, signal, delay);
      state.timer = setTimeout(() => {
        state.timer = undefined;
        if (!this.stopping) this.launch(state);
      }, delay);
    });
    if (proc.pid !== undefined) this.emit('start', spec.name, proc.pid);
  }

  /** Stops every child: SIGTERM in reverse start order, SIGKILL after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const states = [...this.children.values()].reverse();
    for (const s of states) if (s.timer) clearTimeout(s.timer);
    const exits = states.map(
      (s) =>
        new Promise<void>((resolve) => {
          const p = s.proc;
          if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
          // 'close', not 'exit': the child's last output is still in its pipes at 'exit',
          // and the log must not be ended before it is written.
          p.once('close', () => resolve());
          p.kill('SIGTERM');
        }),
    );
    const killer = setTimeout(() => {
      for (const s of states) s.proc?.kill('SIGKILL');
    }, graceMs);
    await Promise.all(exits);
    clearTimeout(killer);
    await Promise.all(states.map((s) => new Promise<void>((resolve) => s.log.end(resolve))));
  }
}
