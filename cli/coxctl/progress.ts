/**
 * A one-line counter on stderr for long work (`apply -f` of many objects):
 * drawn only when the stream is a terminal, redrawn at most every
 * `intervalMs`, and cleared before any other output so lines never mix.
 */
export class Progress {
  private done = 0;
  private shown = false;
  private lastDraw = 0;
  private readonly active: boolean;

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly total: number,
    private readonly label: string,
    opts: { minTotal?: number; intervalMs?: number; now?: () => number } = {},
  ) {
    this.active = !!stream.isTTY && total >= (opts.minTotal ?? 5);
    this.intervalMs = opts.intervalMs ?? 100;
    this.now = opts.now ?? Date.now;
  }

  private readonly intervalMs: number;
  private readonly now: () => number;

  /** The counter's text, e.g. `applying 12/200 (6%)`. */
  text(): string {
    return `${this.label} ${this.done}/${this.total} (${Math.floor((this.done * 100) / Math.max(1, this.total))}%)`;
  }

  /** Erases the counter (call before writing anything else to the terminal). */
  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }

  /** Counts one finished item and redraws when due (always for the last one). */
  tick(): void {
    this.done++;
    if (!this.active) return;
    const t = this.now();
    if (this.done < this.total && t - this.lastDraw < this.intervalMs && this.shown) return;
    this.lastDraw = t;
    this.stream.write(`\r\x1b[K${this.text()}`);
    this.shown = true;
  }

  /** Removes the counter for good. */
  end(): void {
    this.clear();
  }
}
