import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  type Frame, FLAG_FIN, FLAG_UNIDIRECTIONAL, FrameParser, GOAWAY_PROTOCOL_ERROR, MAX_FRAME_PAYLOAD, RST, SpdyProtocolError,
  dataFrame, goawayFrame, pingFrame, rstStreamFrame, synReplyFrame, windowUpdateFrame,
} from './spdy-frames';
import { HeaderCompressor, HeaderDecompressor } from './spdy-headers';

/**
 * The server end of a SPDY/3 session over any byte Duplex (a TLS socket after `Upgrade:
 * SPDY/3.1`, or a WebSocket tunnel). The client opens streams (odd ids); the server only
 * replies to them, sends data, and ends or resets them.
 *
 * Flow control: we grant the peer window back (WINDOW_UPDATE) as its data is handed on, so
 * a peer that counts windows never stalls. We do not hold our own sends to the peer's
 * window: spdystream (kubectl's SPDY) never sends WINDOW_UPDATE and ignores windows, so
 * counting them would stall every transfer past 64 KiB. Backpressure is the transport's
 * (`write` returning false, then 'drain'), as with spdystream.
 */

export interface SpdyStreamEvents {
  data: [Buffer];
  /** the peer sent FIN: no more data from it */
  end: [];
  /** the peer reset the stream, or the session ended before the stream finished */
  reset: [status: number];
}

export class SpdyStream extends EventEmitter<SpdyStreamEvents> {
  /** set once the peer sent FIN (or the stream was unidirectional from it) */
  remoteEnded = false;
  /** set once we sent FIN */
  localEnded = false;
  /** set once either side reset the stream or the session closed */
  wasReset = false;

  constructor(readonly id: number, readonly headers: Map<string, string[]>, private readonly session: SpdyServerSession) {
    super();
  }

  /** The first value of a header (names are lower case on the wire). */
  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  /** Sends SYN_REPLY with no headers (what the kubelet and apiserver answer). */
  reply(): void {
    this.session.sendReply(this);
  }

  /** Sends `data` on this stream; false when the transport asks the caller to wait for the session's 'drain'. */
  write(data: Buffer): boolean {
    if (this.localEnded || this.wasReset || data.length === 0) return true;
    let ok = true;
    for (let off = 0; off < data.length; off += MAX_FRAME_PAYLOAD) {
      ok = this.session.send(dataFrame(this.id, data.subarray(off, off + MAX_FRAME_PAYLOAD)));
    }
    return ok;
  }

  /** Sends FIN (an empty DATA frame with the FIN flag). */
  end(): void {
    if (this.localEnded || this.wasReset) return;
    this.localEnded = true;
    this.session.send(dataFrame(this.id, Buffer.alloc(0), true));
    this.session.settle(this);
  }

  /** Sends RST_STREAM (CANCEL unless told otherwise). */
  reset(status: number = RST.CANCEL): void {
    if (this.wasReset) return;
    this.wasReset = true;
    this.session.send(rstStreamFrame(this.id, status));
    this.session.settle(this);
  }
}

export interface SpdySessionEvents {
  stream: [SpdyStream];
  /** the transport can take more after a write returned false */
  drain: [];
  /** the transport ended; every open stream got 'reset' */
  close: [];
  /** a protocol error, answered with GOAWAY before the session closed */
  protocolError: [Error];
}

export class SpdyServerSession extends EventEmitter<SpdySessionEvents> {
  private readonly parser = new FrameParser();
  private readonly inflater = new HeaderDecompressor();
  private readonly deflater = new HeaderCompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private lastStreamId = 0;
  private goneAway = false;
  private closed = false;
  /** frames waiting for a header block to decompress, in arrival order */
  private readonly inbox: Frame[] = [];
  private busy = false;
  /** outgoing frames in order; a pending SYN_REPLY (compressing) holds back the frames after it */
  private readonly outbox: (Buffer | Promise<Buffer>)[] = [];
  private pauses = 0;

  constructor(private readonly transport: Duplex) {
    super();
    transport.on('data', (chunk: Buffer) => this.onBytes(chunk));
    transport.on('drain', () => this.emit('drain'));
    transport.on('end', () => this.shutdown());
    transport.on('close', () => this.shutdown());
    transport.on('error', () => this.shutdown());
  }

  /** Streams open now (for tests and logs). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Stops reading from the transport until as many resume() calls as pause() calls came. */
  pause(): void {
    if (this.pauses++ === 0) this.transport.pause();
  }

  resume(): void {
    if (this.pauses > 0 && --this.pauses === 0 && !this.closed) this.transport.resume();
  }

  /** Sends GOAWAY and ends the transport. */
  close(status = 0): void {
    if (this.closed) return;
    if (!this.goneAway) {
      this.goneAway = true;
      this.send(goawayFrame(this.lastStreamId, status));
    }
    this.flushThen(() => this.transport.end());
  }

  // ---------------------------------------------------------------- sending (used by SpdyStream)

  /** Queues a frame; false when the transport buffer is full. */
  send(frame: Buffer): boolean {
    if (this.closed) return true;
    if (this.outbox.length) {
      this.outbox.push(frame);
      return true;
    }
    return this.transport.write(frame);
  }

  sendReply(stream: SpdyStream): void {
    if (this.closed) return;
    this.outbox.push(this.deflater.compress([]).then((block) => synReplyFrame(stream.id, block)));
    if (this.outbox.length === 1) void this.pumpOut();
  }

  /** Forgets a stream both sides are done with. */
  settle(stream: SpdyStream): void {
    if (stream.wasReset || (stream.localEnded && stream.remoteEnded)) this.streams.delete(stream.id);
  }

  private async pumpOut(): Promise<void> {
    while (this.outbox.length) {
      const head = this.outbox[0];
      let frame: Buffer;
      try {
        frame = await head;
      } catch {
        this.shutdown();
        return;
      }
      this.outbox.shift();
      if (!this.closed) this.transport.write(frame);
    }
  }

  private flushThen(fn: () => void): void {
    if (!this.outbox.length) return fn();
    void Promise.allSettled(this.outbox).then(() => setImmediate(() => this.flushThen(fn)));
  }

  // ---------------------------------------------------------------- receiving

  private onBytes(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Frame[];
    try {
      frames = this.parser.push(chunk);
    } catch (e) {
      return this.fail(e as Error);
    }
    this.inbox.push(...frames);
    this.pumpIn();
  }

  /** Handles frames in order; a frame with a header block waits for its decompression. */
  private pumpIn(): void {
    while (!this.busy && this.inbox.length && !this.closed) {
      const f = this.inbox.shift()!;
      if (f.type === 'syn_stream' || f.type === 'syn_reply' || f.type === 'headers') {
        this.busy = true;
        this.inflater.decompress(f.headerBlock).then((headers) => {
          this.busy = false;
          if (f.type === 'syn_stream') this.onSynStream(f, headers);
          this.pumpIn();
        }, (e: Error) => {
          this.busy = false;
          this.fail(e);
        });
        return;
      }
      this.onFrame(f);
    }
  }

  private onSynStream(f: Extract<Frame, { type: 'syn_stream' }>, headers: Map<string, string[]>): void {
    if (this.goneAway) return void this.send(rstStreamFrame(f.streamId, RST.REFUSED_STREAM));
    if (f.streamId % 2 !== 1 || f.streamId <= this.lastStreamId) return void this.send(rstStreamFrame(f.streamId, RST.PROTOCOL_ERROR));
    this.lastStreamId = f.streamId;
    const stream = new SpdyStream(f.streamId, headers, this);
    stream.remoteEnded = (f.flags & FLAG_FIN) !== 0;
    stream.localEnded = (f.flags & FLAG_UNIDIRECTIONAL) !== 0;
    this.streams.set(f.streamId, stream);
    this.emit('stream', stream);
    if (stream.remoteEnded) stream.emit('end');
  }

  private onFrame(f: Frame): void {
    switch (f.type) {
      case 'data': {
        const s = this.streams.get(f.streamId);
        if (!s || s.remoteEnded) return; // late data for a stream already done: dropped, as spdystream does
        if (f.data.length) {
          s.emit('data', f.data);
          if (!s.wasReset && !(f.flags & FLAG_FIN)) this.send(windowUpdateFrame(f.streamId, f.data.length));
        }
        if (f.flags & FLAG_FIN) {
          s.remoteEnded = true;
          s.emit('end');
          this.settle(s);
        }
        return;
      }
      case 'rst_stream': {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        s.wasReset = true;
        this.streams.delete(f.streamId);
        s.emit('reset', f.status);
        return;
      }
      case 'ping':
        // Odd ids are the client's: echo them. Even ids would answer our own pings (we send none).
        if (f.id % 2 === 1) this.send(pingFrame(f.id));
        return;
      case 'goaway':
        this.goneAway = true;
        return;
      // SETTINGS and WINDOW_UPDATE: we do not hold sends to windows (see the file comment).
      default:
        return;
    }
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.emit('protocolError', err instanceof SpdyProtocolError ? err : new SpdyProtocolError(err.message));
    this.close(GOAWAY_PROTOCOL_ERROR);
    this.shutdown();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox.length = 0;
    for (const s of [...this.streams.values()]) {
      this.streams.delete(s.id);
      if (!s.wasReset && !(s.localEnded && s.remoteEnded)) {
        s.wasReset = true;
        s.emit('reset', RST.CANCEL);
      }
    }
    this.inflater.close();
    this.deflater.close();
    this.transport.destroy();
    this.emit('close');
  }
}
