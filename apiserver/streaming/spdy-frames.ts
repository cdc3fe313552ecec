/**
 * SPDY/3 framing (what spdystream, under kubectl's port-forward, speaks; "SPDY/3.1" is the
 * name in the upgrade, the frames are version 3). Pure: bytes in, frames out, and back.
 *
 * A control frame: 1 bit set, 15 bits version (3), 16 bits type, 8 bits flags, 24 bits length.
 * A data frame: 1 bit clear, 31 bits stream id, 8 bits flags, 24 bits length.
 * Header blocks travel compressed (see spdy-headers.ts); here they are opaque bytes.
 */

export const SPDY_VERSION = 3;

export const SYN_STREAM = 1;
export const SYN_REPLY = 2;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const PING = 6;
export const GOAWAY = 7;
export const HEADERS = 8;
export const WINDOW_UPDATE = 9;

/** Last frame the sender sends on this stream (DATA, SYN_STREAM, SYN_REPLY, HEADERS). */
export const FLAG_FIN = 0x01;
/** SYN_STREAM: the receiver must not send on this stream. */
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RST = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
} as const;

/** GOAWAY status codes. */
export const GOAWAY_OK = 0;
export const GOAWAY_PROTOCOL_ERROR = 1;

/** SETTINGS id of the initial per-stream window. */
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;
/** The per-stream window a SPDY/3 peer starts with. */
export const DEFAULT_WINDOW = 64 * 1024;
/** The largest payload one frame carries (24-bit length). */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export type Frame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | { type: 'syn_stream'; streamId: number; associatedId: number; priority: number; slot: number; flags: number; headerBlock: Buffer }
  | { type: 'syn_reply'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'headers'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; flags: number; entries: { flags: number; id: number; value: number }[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'window_update'; streamId: number; delta: number }
  /** A control frame of a type SPDY/3 does not define: the receiver ignores it. */
  | { type: 'unknown'; frameType: number; flags: number };

/** A frame that breaks the protocol: the session answers with GOAWAY and closes. */
export class SpdyProtocolError extends Error {}

const ID_MASK = 0x7fffffff;

function need(payload: Buffer, n: number, what: string): void {
  if (payload.length < n) throw new SpdyProtocolError(`${what} frame: payload of ${payload.length} bytes is shorter than ${n}`);
}

function control(type: number, flags: number, payload: Buffer): Frame {
  switch (type) {
    case SYN_STREAM:
      need(payload, 10, 'SYN_STREAM');
      return {
        type: 'syn_stream',
        streamId: payload.readUInt32BE(0) & ID_MASK,
        associatedId: payload.readUInt32BE(4) & ID_MASK,
        priority: payload[8] >> 5,
        slot: payload[9],
        flags,
        headerBlock: payload.subarray(10),
      };
    case SYN_REPLY:
      need(payload, 4, 'SYN_REPLY');
      return { type: 'syn_reply', streamId: payload.readUInt32BE(0) & ID_MASK, flags, headerBlock: payload.subarray(4) };
    case HEADERS:
      need(payload, 4, 'HEADERS');
      return { type: 'headers', streamId: payload.readUInt32BE(0) & ID_MASK, flags, headerBlock: payload.subarray(4) };
    case RST_STREAM:
      need(payload, 8, 'RST_STREAM');
      return { type: 'rst_stream', streamId: payload.readUInt32BE(0) & ID_MASK, status: payload.readUInt32BE(4) };
    case SETTINGS: {
      need(payload, 4, 'SETTINGS');
      const n = payload.readUInt32BE(0);
      need(payload, 4 + 8 * n, 'SETTINGS');
      const entries = [];
      for (let i = 0; i < n; i++) {
        const off = 4 + 8 * i;
        entries.push({ flags: payload[off], id: payload.readUIntBE(off + 1, 3), value: payload.readUInt32BE(off + 4) });
      }
      return { type: 'settings', flags, entries };
    }
    case PING:
      need(payload, 4, 'PING');
      return { type: 'ping', id: payload.readUInt32BE(0) };
    case GOAWAY:
      need(payload, 4, 'GOAWAY');
      // SPDY/2 peers send no status; SPDY/3 ones do.
      return { type: 'goaway', lastGoodStreamId: payload.readUInt32BE(0) & ID_MASK, status: payload.length >= 8 ? payload.readUInt32BE(4) : GOAWAY_OK };
    case WINDOW_UPDATE:
      need(payload, 8, 'WINDOW_UPDATE');
      return { type: 'window_update', streamId: payload.readUInt32BE(0) & ID_MASK, delta: payload.readUInt32BE(4) & ID_MASK };
    default:
      return { type: 'unknown', frameType: type, flags };
  }
}

/**
 * Cuts a byte stream into frames. `push` may be given any slicing of the stream; it returns the
 * frames completed so far and keeps the remainder. Throws SpdyProtocolError on a control frame
 * of another version.
 */
export class FrameParser {
  /** bytes received and not yet cut, as they came (joined only once a whole frame is in) */
  private chunks: Buffer[] = [];
  private length = 0;
  /** bytes the frame at the head needs (8 until its header is in) */
  private needed = 8;

  push(chunk: Buffer): Frame[] {
    if (chunk.length) {
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    const out: Frame[] = [];
    while (this.length >= this.needed) {
      const buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
      let off = 0;
      while (buf.length - off >= 8) {
        const length = buf.readUIntBE(off + 5, 3);
        if (buf.length - off < 8 + length) {
          this.needed = 8 + length;
          break;
        }
        const flags = buf[off + 4];
        // Copy the payload: the caller may keep it while the chunk it came in is reused.
        const payload = Buffer.from(buf.subarray(off + 8, off + 8 + length));
        const first = buf.readUInt32BE(off);
        off += 8 + length;
        if (first & 0x80000000) {
          const version = (first >>> 16) & 0x7fff;
          if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
          out.push(control(first & 0xffff, flags, payload));
        } else {
          out.push({ type: 'data', streamId: first & ID_MASK, flags, data: payload });
        }
      }
      const rest = buf.subarray(off);
      this.chunks = rest.length ? [rest] : [];
      this.length = rest.length;
      if (rest.length < 8) this.needed = 8;
    }
    return out;
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new RangeError(`SPDY frame payload of ${payload.length} bytes is larger than ${MAX_FRAME_PAYLOAD}`);
  const out = Buffer.allocUnsafe(8 + payload.length);
  out.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  out.writeUInt16BE(type, 2);
  out[4] = flags;
  out.writeUIntBE(payload.length, 5, 3);
  payload.copy(out, 8);
  return out;
}

function words(...values: number[]): Buffer {
  const b = Buffer.allocUnsafe(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

/** A DATA frame; `data` must fit one frame (see MAX_FRAME_PAYLOAD). */
export function dataFrame(streamId: number, data: Buffer, fin = false): Buffer {
  if (data.length > MAX_FRAME_PAYLOAD) throw new RangeError(`SPDY frame payload of ${data.length} bytes is larger than ${MAX_FRAME_PAYLOAD}`);
  const out = Buffer.allocUnsafe(8 + data.length);
  out.writeUInt32BE(streamId & ID_MASK, 0);
  out[4] = fin ? FLAG_FIN : 0;
  out.writeUIntBE(data.length, 5, 3);
  data.copy(out, 8);
  return out;
}

export function synStreamFrame(streamId: number, headerBlock: Buffer, opts: { flags?: number; associatedId?: number; priority?: number } = {}): Buffer {
  const head = Buffer.alloc(10);
  head.writeUInt32BE(streamId & ID_MASK, 0);
  head.writeUInt32BE((opts.associatedId ?? 0) & ID_MASK, 4);
  head[8] = ((opts.priority ?? 0) & 7) << 5;
  return controlFrame(SYN_STREAM, opts.flags ?? 0, Buffer.concat([head, headerBlock]));
}

export function synReplyFrame(streamId: number, headerBlock: Buffer, fin = false): Buffer {
  return controlFrame(SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([words(streamId & ID_MASK), headerBlock]));
}

export function headersFrame(streamId: number, headerBlock: Buffer, fin = false): Buffer {
  return controlFrame(HEADERS, fin ? FLAG_FIN : 0, Buffer.concat([words(streamId & ID_MASK), headerBlock]));
}

export function rstStreamFrame(streamId: number, status: number): Buffer {
  return controlFrame(RST_STREAM, 0, words(streamId & ID_MASK, status));
}

export function settingsFrame(entries: { flags?: number; id: number; value: number }[]): Buffer {
  const payload = Buffer.alloc(4 + 8 * entries.length);
  payload.writeUInt32BE(entries.length, 0);
  entries.forEach((e, i) => {
    payload[4 + 8 * i] = e.flags ?? 0;
    payload.writeUIntBE(e.id, 5 + 8 * i, 3);
    payload.writeUInt32BE(e.value >>> 0, 8 + 8 * i);
  });
  return controlFrame(SETTINGS, 0, payload);
}

export function pingFrame(id: number): Buffer {
  return controlFrame(PING, 0, words(id));
}

export function goawayFrame(lastGoodStreamId: number, status = GOAWAY_OK): Buffer {
  return controlFrame(GOAWAY, 0, words(lastGoodStreamId & ID_MASK, status));
}

export function windowUpdateFrame(streamId: number, delta: number): Buffer {
  return controlFrame(WINDOW_UPDATE, 0, words(streamId & ID_MASK, delta & ID_MASK));
}

/** Name/value pairs of a header block; names are lower case, several values of a name are NUL-joined on the wire. */
export type HeaderList = [name: string, value: string][];

/** The uncompressed name/value block: a 32-bit count, then 32-bit-length-prefixed names and values. */
export function encodeHeaderBlock(headers: HeaderList): Buffer {
  const parts: Buffer[] = [words(headers.length)];
  for (const [name, value] of headers) {
    const n = Buffer.from(name.toLowerCase());
    const v = Buffer.from(value);
    parts.push(words(n.length), n, words(v.length), v);
  }
  return Buffer.concat(parts);
}

/**
 * How many bytes at the start of `buf` form one whole uncompressed header block, or undefined
 * while it is incomplete (a decompressor feeds bytes until this says the block is whole).
 */
export function headerBlockLength(buf: Buffer): number | undefined {
  if (buf.length < 4) return undefined;
  const count = buf.readUInt32BE(0);
  let off = 4;
  for (let i = 0; i < 2 * count; i++) {
    if (buf.length < off + 4) return undefined;
    off += 4 + buf.readUInt32BE(off);
  }
  return buf.length >= off ? off : undefined;
}

/** Decodes a whole uncompressed header block; throws SpdyProtocolError when it is cut short. */
export function decodeHeaderBlock(buf: Buffer): Map<string, string[]> {
  const len = headerBlockLength(buf);
  if (len === undefined) throw new SpdyProtocolError('header block is cut short');
  const out = new Map<string, string[]>();
  const count = buf.readUInt32BE(0);
  let off = 4;
  const read = () => {
    const n = buf.readUInt32BE(off);
    const s = buf.toString('utf8', off + 4, off + 4 + n);
    off += 4 + n;
    return s;
  };
  for (let i = 0; i < count; i++) {
    const name = read().toLowerCase();
    const values = read().split('\0');
    out.set(name, [...(out.get(name) ?? []), ...values]);
  }
  return out;
}
