/** Passes at most `limit` bytes in total (0 = no limit); `done` turns true once the limit is reached. */
export class ByteLimiter {
  private sent = 0;
  constructor(private readonly limit: number) {}

  take(chunk: Buffer): Buffer {
    if (!this.limit) return chunk;
    const left = this.limit - this.sent;
    if (left <= 0) return Buffer.alloc(0);
    const out = chunk.length > left ? chunk.subarray(0, left) : chunk;
    this.sent += out.length;
    return out;
  }

  get done(): boolean {
    return this.limit > 0 && this.sent >= this.limit;
  }
}
