/**
 * Per-key exponential backoff (client-go's flowcontrol.Backoff): the DaemonSet
 * controller waits this long between replacing failed pods on one node, so a
 * pod a kubelet keeps rejecting is not recreated in a hot loop. The delay
 * starts at `initialMs`, doubles with every replacement up to `maxMs`, and is
 * forgotten after `2 * maxMs` of quiet.
 */
export class Backoff {
  private readonly entries = new Map<string, { delayMs: number; lastMs: number }>();

  constructor(private readonly initialMs = 1_000, private readonly maxMs = 15 * 60_000) {}

  /** Milliseconds still to wait before acting on `key` again; 0 when free to act. */
  remaining(key: string, nowMs: number): number {
    const e = this.entries.get(key);
    if (!e || nowMs - e.lastMs > 2 * this.maxMs) return 0;
    return Math.max(0, e.lastMs + e.delayMs - nowMs);
  }

  /** Records an action on `key` at `nowMs`, lengthening the next wait. */
  next(key: string, nowMs: number): void {
    const e = this.entries.get(key);
    const delayMs = !e || nowMs - e.lastMs > 2 * this.maxMs ? this.initialMs : Math.min(e.delayMs * 2, this.maxMs);
    this.entries.set(key, { delayMs, lastMs: nowMs });
  }

  /** Drops every key starting with `prefix` (a deleted DaemonSet's nodes). */
  forgetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
