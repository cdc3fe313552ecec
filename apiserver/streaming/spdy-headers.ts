import * as zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy-dictionary';
import { type HeaderList, decodeHeaderBlock, encodeHeaderBlock, headerBlockLength, SpdyProtocolError } from './spdy-frames';

/**
 * SPDY/3 header compression: each direction of a session is ONE zlib stream primed with the
 * SPDY/3 dictionary; every header block is a sync-flushed piece of it. So blocks must be
 * compressed and decompressed one at a time, in frame order: both classes queue calls.
 */

const SYNC_MARKER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Compresses the header blocks one end sends, in call order. */
export class HeaderCompressor {
  private readonly deflate = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY, level: zlib.constants.Z_BEST_COMPRESSION });
  private tail: Promise<unknown> = Promise.resolve();

  constructor() {
    this.deflate.on('error', () => undefined);
  }

  compress(headers: HeaderList): Promise<Buffer> {
    const block = encodeHeaderBlock(headers);
    const run = () => new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let flushed = false;
      // The flush's output ends with the sync marker; 'data' may come before or after the
      // flush callback, so finish when both are seen.
      const check = () => {
        if (!flushed) return;
        const out = Buffer.concat(chunks);
        if (out.length >= 4 && out.subarray(-4).equals(SYNC_MARKER)) {
          this.deflate.off('data', onData);
          this.deflate.off('error', onError);
          resolve(out);
        }
      };
      const onData = (c: Buffer) => {
        chunks.push(c);
        check();
      };
      const onError = (e: Error) => reject(e);
      this.deflate.on('data', onData);
      this.deflate.on('error', onError);
      this.deflate.write(block);
      this.deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        flushed = true;
        check();
      });
    });
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.deflate.destroy();
  }
}

/** Decompresses the header blocks one end receives, in call order. */
export class HeaderDecompressor {
  private readonly inflate = zlib.createInflate({ dictionary: SPDY3_DICTIONARY });
  private tail: Promise<unknown> = Promise.resolve();
  /** Decompressed bytes not yet claimed by a block (none, for a well-behaved peer). */
  private pending: Buffer = Buffer.alloc(0);

  constructor() {
    this.inflate.on('error', () => undefined);
  }

  decompress(compressed: Buffer): Promise<Map<string, string[]>> {
    const run = () => new Promise<Map<string, string[]>>((resolve, reject) => {
      let flushed = false;
      const finish = (err?: Error) => {
        this.inflate.off('data', onData);
        this.inflate.off('error', onError);
        if (err) return reject(err);
        const len = headerBlockLength(this.pending)!;
        const block = this.pending.subarray(0, len);
        this.pending = this.pending.subarray(len);
        try {
          resolve(decodeHeaderBlock(block));
        } catch (e) {
          reject(e);
        }
      };
      const check = () => {
        if (headerBlockLength(this.pending) !== undefined) finish();
        else if (flushed) finish(new SpdyProtocolError('compressed header block does not hold a whole name/value block'));
      };
      const onData = (c: Buffer) => {
        this.pending = this.pending.length ? Buffer.concat([this.pending, c]) : c;
        if (headerBlockLength(this.pending) !== undefined) finish();
      };
      const onError = (e: Error) => finish(new SpdyProtocolError(`header block does not decompress: ${e.message}`));
      if (headerBlockLength(this.pending) !== undefined) return finish();
      this.inflate.on('data', onData);
      this.inflate.on('error', onError);
      this.inflate.write(compressed);
      this.inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        flushed = true;
        // Output of this flush may still be on its way as 'data': look once more after it.
        setImmediate(() => {
          if (this.inflate.listeners('data').includes(onData)) check();
        });
      });
    });
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.inflate.destroy();
  }
}
