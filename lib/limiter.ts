/**
 * Runs at most `limit` async tasks at once; the rest wait in arrival order. `run` resolves to
 * the task's result; `spawn` starts one without waiting for it. `room` and `drain` let whoever
 * hands out tasks wait for a free slot (back-pressure) or for all of them to end.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private idle: (() => void)[] = [];
  private roomWaiters: (() => void)[] = [];

  constructor(readonly limit = 16) {}

  /** Tasks running now. */
  get inFlight(): number {
    return this.active;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Runs `task` without waiting for it; it reports its own failures (a rejection is dropped). */
  spawn(task: () => Promise<void>): void {
    this.run(task).catch(() => undefined);
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next task; `active` stays the same.
    if (next) next();
    else this.active--;
    if (this.waiting.length === 0) for (const r of this.roomWaiters.splice(0)) r();
    if (this.active === 0) for (const r of this.idle.splice(0)) r();
  }

  /** Resolves once no task waits for a free slot. */
  room(): Promise<void> {
    if (this.waiting.length === 0) return Promise.resolve();
    return new Promise((r) => this.roomWaiters.push(r));
  }

  /** Resolves once nothing runs or waits. */
  drain(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }
}
