/**
 * The client→server half of an HTTP/2 connection, rewritten so that Node's
 * HTTP/2 server accepts `:authority` values with a scheme or a path.
 *
 * Why: etcdctl 3.4's `endpoint status|health` dial `passthrough:///http://host:port`
 * and send `:authority: http://host:port`. nghttp2 (inside Node) checks
 * `:authority` against RFC 3986's authority characters (no `/`) and resets the
 * stream with PROTOCOL_ERROR before grpc-js sees it; Node has no option to turn
 * that check off. So the client port is fronted (client-front.ts) and this code
 * fixes the header before nghttp2 decodes it.
 *
 * What it does (RFC 7540 §4, §6.2, §6.10; RFC 7541):
 *  - checks the 24-byte client preface and splits the rest into frames;
 *  - every frame except HEADERS/CONTINUATION passes through untouched (as
 *    slices of the input, no copy);
 *  - every header block (HEADERS + CONTINUATION... up to END_HEADERS) is HPACK-
 *    decoded with a decoder that mirrors the server's, so its dynamic table
 *    stays in sync with the client's encoder;
 *  - while no block needed a fix, blocks are forwarded byte for byte. The first
 *    block whose `:authority` needs a fix switches the connection to rewriting:
 *    from then on EVERY block is re-encoded from its decoded header list as
 *    literals without indexing (never-indexed fields stay never-indexed), which
 *    never touch the server's dynamic table. That is needed because the
 *    client's later blocks may reference entries that the client's table got
 *    from a rewritten block (e.g. the bad `:authority` itself), which the
 *    server's table does not have. Dynamic table size updates at the start of
 *    a block are re-emitted. Padding is dropped; PRIORITY data is kept.
 *
 * Malformed input throws H2FrontError; the caller closes the connection.
 */

export class H2FrontError extends Error {}

export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

const FRAME_HEADERS = 0x1;
const FRAME_PUSH_PROMISE = 0x5;
const FRAME_CONTINUATION = 0x9;
const FRAME_SETTINGS = 0x4;
const FLAG_ACK = 0x1;
const FLAG_END_STREAM = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
/** Every HTTP/2 peer accepts frames of this size (SETTINGS_MAX_FRAME_SIZE's floor). */
const MIN_MAX_FRAME_SIZE = 16384;

/** A header field; strings are latin1 so any octet survives. */
export interface HeaderField {
  name: string;
  value: string;
  /** Literal Header Field Never Indexed (RFC 7541 §6.2.3). */
  neverIndexed?: boolean;
}

// ---------------------------------------------------------------- HPACK

/** RFC 7541 Appendix A. */
const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];
const STATIC_NAME_INDEX = new Map<string, number>();
STATIC_TABLE.forEach(([name], i) => {
  if (!STATIC_NAME_INDEX.has(name)) STATIC_NAME_INDEX.set(name, i + 1);
});

/**
 * RFC 7541 Appendix B: code lengths of symbols 0..255 and EOS (256). The code is
 * canonical (codes are assigned in order of length, then symbol), so the lengths
 * determine it; the unit test checks a few codes against the RFC.
 */
// prettier-ignore
const HUFFMAN_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];
const EOS = 256;

/** Canonical decoding tables: per code length, the first code, how many codes, and where their symbols start. */
const HUFF = (() => {
  const symbols = Array.from({ length: 257 }, (_, i) => i).sort((a, b) => HUFFMAN_LENGTHS[a] - HUFFMAN_LENGTHS[b] || a - b);
  const firstCode = new Array<number>(31).fill(0);
  const count = new Array<number>(31).fill(0);
  const offset = new Array<number>(31).fill(0);
  const codes = new Array<number>(257);
  let code = 0;
  let len = HUFFMAN_LENGTHS[symbols[0]];
  symbols.forEach((s, i) => {
    const l = HUFFMAN_LENGTHS[s];
    code *= 2 ** (l - len);
    len = l;
    if (count[l] === 0) {
      firstCode[l] = code;
      offset[l] = i;
    }
    count[l]++;
    codes[s] = code;
    code++;
  });
  return { symbols, firstCode, count, offset, codes };
})();

/** The Huffman code of `symbol` (0..256) and its length in bits; for tests. */
export function huffmanCode(symbol: number): { code: number; bits: number } {
  return { code: HUFF.codes[symbol], bits: HUFFMAN_LENGTHS[symbol] };
}

/** RFC 7541 §5.2: decode a Huffman-coded string (padding: < 8 bits, all ones; EOS is an error). */
export function huffmanDecode(buf: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(Math.floor(((end - start) * 8) / 5) + 1);
  let o = 0;
  let code = 0;
  let len = 0;
  let allOnes = true;
  for (let i = start; i < end; i++) {
    const byte = buf[i];
    for (let b = 7; b >= 0; b--) {
      const bit = (byte >> b) & 1;
      code = code * 2 + bit;
      len++;
      allOnes = allOnes && bit === 1;
      const k = code - HUFF.firstCode[len];
      if (HUFF.count[len] > 0 && k >= 0 && k < HUFF.count[len]) {
        const sym = HUFF.symbols[HUFF.offset[len] + k];
        if (sym === EOS) throw new H2FrontError('hpack: EOS in a Huffman string');
        out[o++] = sym;
        code = 0;
        len = 0;
        allOnes = true;
      } else if (len >= 30) {
        throw new H2FrontError('hpack: invalid Huffman code');
      }
    }
  }
  if (len > 7 || !allOnes) throw new H2FrontError('hpack: invalid Huffman padding');
  return out.subarray(0, o);
}

/** RFC 7541 §5.1 integer with an N-bit prefix; returns [value, next offset]. */
function readInt(buf: Buffer, pos: number, end: number, prefixBits: number): [number, number] {
  const max = (1 << prefixBits) - 1;
  let v = buf[pos++] & max;
  if (v < max) return [v, pos];
  let m = 0;
  for (;;) {
    if (pos >= end) throw new H2FrontError('hpack: truncated integer');
    const b = buf[pos++];
    v += (b & 0x7f) * 2 ** m;
    m += 7;
    if (v > 0x7fffffff) throw new H2FrontError('hpack: integer too large');
    if ((b & 0x80) === 0) return [v, pos];
  }
}

function readString(buf: Buffer, pos: number, end: number): [string, number] {
  if (pos >= end) throw new H2FrontError('hpack: truncated string');
  const huffman = (buf[pos] & 0x80) !== 0;
  const [len, p] = readInt(buf, pos, end, 7);
  if (p + len > end) throw new H2FrontError('hpack: truncated string');
  const s = huffman ? huffmanDecode(buf, p, p + len).toString('latin1') : buf.toString('latin1', p, p + len);
  return [s, p + len];
}

/** The decoder side of one HPACK context (RFC 7541 §2.3, §4, §6). */
export class HpackDecoder {
  /** Dynamic table, oldest first (index 62 = the last element). */
  private readonly dynamic: HeaderField[] = [];
  private size = 0;
  private maxSize: number;

  /** `limit` bounds dynamic table size updates (the server advertises at most this). */
  constructor(initialMaxSize = 4096, private readonly limit = 1 << 20) {
    this.maxSize = initialMaxSize;
  }

  get tableSize(): number {
    return this.size;
  }

  get tableLength(): number {
    return this.dynamic.length;
  }

  private entry(index: number): HeaderField {
    if (index === 0) throw new H2FrontError('hpack: index 0');
    if (index <= STATIC_TABLE.length) {
      const [name, value] = STATIC_TABLE[index - 1];
      return { name, value };
    }
    const d = index - STATIC_TABLE.length;
    if (d > this.dynamic.length) throw new H2FrontError(`hpack: index ${index} out of range`);
    return this.dynamic[this.dynamic.length - d];
  }

  private evictTo(max: number): void {
    while (this.size > max) {
      const e = this.dynamic.shift()!;
      this.size -= e.name.length + e.value.length + 32;
    }
  }

  private insert(f: HeaderField): void {
    const n = f.name.length + f.value.length + 32;
    if (n > this.maxSize) {
      this.dynamic.length = 0;
      this.size = 0;
      return;
    }
    this.evictTo(this.maxSize - n);
    this.dynamic.push({ name: f.name, value: f.value });
    this.size += n;
  }

  /** Decode one complete header block; updates the dynamic table. */
  decode(block: Buffer): { fields: HeaderField[]; sizeUpdates: number[] } {
    const fields: HeaderField[] = [];
    const sizeUpdates: number[] = [];
    const end = block.length;
    let pos = 0;
    while (pos < end) {
      const b = block[pos];
      if (b & 0x80) {
        // §6.1 indexed header field
        const [i, p] = readInt(block, pos, end, 7);
        pos = p;
        const e = this.entry(i);
        fields.push({ name: e.name, value: e.value });
      } else if ((b & 0xe0) === 0x20) {
        // §6.3 dynamic table size update: only at the start of a block
        if (fields.length > 0) throw new H2FrontError('hpack: table size update after a header field');
        const [size, p] = readInt(block, pos, end, 5);
        pos = p;
        if (size > this.limit) throw new H2FrontError(`hpack: table size ${size} too large`);
        this.maxSize = size;
        this.evictTo(size);
        sizeUpdates.push(size);
      } else {
        // §6.2 literals: with incremental indexing (01), without (0000), never indexed (0001)
        const indexing = (b & 0xc0) === 0x40;
        const neverIndexed = !indexing && (b & 0xf0) === 0x10;
        const [nameIndex, p] = readInt(block, pos, end, indexing ? 6 : 4);
        pos = p;
        let name: string;
        if (nameIndex === 0) [name, pos] = readString(block, pos, end);
        else name = this.entry(nameIndex).name;
        let value: string;
        [value, pos] = readString(block, pos, end);
        const f: HeaderField = neverIndexed ? { name, value, neverIndexed } : { name, value };
        fields.push(f);
        if (indexing) this.insert(f);
      }
    }
    return { fields, sizeUpdates };
  }
}

function writeInt(out: number[], value: number, prefixBits: number, firstByteFlags: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(firstByteFlags | value);
    return;
  }
  out.push(firstByteFlags | max);
  value -= max;
  while (value >= 128) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

function writeRawString(out: number[], s: string): void {
  writeInt(out, s.length, 7, 0);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
}

/**
 * Encode a header list without touching the decoder's dynamic table: size
 * updates first, then every field as a literal without indexing (or never
 * indexed), the name by static table index where there is one, no Huffman.
 */
export function encodeLiteralBlock(fields: readonly HeaderField[], sizeUpdates: readonly number[] = []): Buffer {
  const out: number[] = [];
  for (const s of sizeUpdates) writeInt(out, s, 5, 0x20);
  for (const f of fields) {
    const idx = STATIC_NAME_INDEX.get(f.name) ?? 0;
    writeInt(out, idx, 4, f.neverIndexed ? 0x10 : 0x00);
    if (idx === 0) writeRawString(out, f.name);
    writeRawString(out, f.value);
  }
  return Buffer.from(out);
}

// ---------------------------------------------------------------- :authority

/** nghttp2's check_authority: RFC 3986 authority characters (unreserved, sub-delims, ":", "@", "[", "]", "%"). */
const AUTHORITY_OK = /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]*$/;

function isValidAuthority(v: string): boolean {
  return AUTHORITY_OK.test(v);
}

/**
 * The authority part of an `:authority` value that nghttp2 would refuse
 * ("http://host:port", "host:port/path"), or undefined if it needs no fix or
 * cannot be fixed.
 */
export function fixAuthority(v: string): string | undefined {
  if (isValidAuthority(v)) return undefined;
  let a = v;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(a);
  if (scheme) a = a.slice(scheme[0].length);
  const cut = a.search(/[/?#]/);
  if (cut >= 0) a = a.slice(0, cut);
  return a !== '' && isValidAuthority(a) ? a : undefined;
}

// ---------------------------------------------------------------- frames

/** A slice list that merges contiguous slices of the same buffer. */
class Out {
  private readonly parts: Buffer[] = [];
  private buf: Buffer | undefined;
  private start = 0;
  private end = 0;

  slice(buf: Buffer, start: number, end: number): void {
    if (start === end) return;
    if (this.buf === buf && this.end === start) {
      this.end = end;
      return;
    }
    this.flush();
    this.buf = buf;
    this.start = start;
    this.end = end;
  }

  add(b: Buffer): void {
    this.flush();
    if (b.length > 0) this.parts.push(b);
  }

  private flush(): void {
    if (this.buf) {
      this.parts.push(this.start === 0 && this.end === this.buf.length ? this.buf : this.buf.subarray(this.start, this.end));
      this.buf = undefined;
    }
  }

  result(): Buffer[] {
    this.flush();
    return this.parts;
  }
}

const enum State {
  Preface,
  FrameHeader,
  Pass,
  Hold,
}

interface HeldBlock {
  streamId: number;
  /** Flags of the HEADERS frame. */
  flags: number;
  /** The HEADERS frame's priority fields (5 bytes) if PRIORITY was set. */
  priority?: Buffer;
  /** The frames as received (header + payload each), forwarded as they are when no rewrite is needed. */
  raw: Buffer[];
  fragments: Buffer[];
  bytes: number;
}

export interface RewriterOptions {
  /** Bound on a header block being collected (all its frames, bytes). */
  maxHeaderBlockBytes?: number;
  /**
   * Drop the client's first SETTINGS ACK: the front sent a SETTINGS frame of its own
   * (client-front.ts, so that clients that wait for the server's preface send their
   * first request), which the server behind it never sent and must not see acked.
   */
  dropFirstSettingsAck?: boolean;
}

/**
 * Rewrites the client→server byte stream of one HTTP/2 connection. Feed it the
 * bytes in order with `push`; it returns the bytes to hand to the server.
 */
export class AuthorityRewriter {
  private state = State.Preface;
  private got = 0;
  private readonly hdr = Buffer.alloc(9);
  private need = 0;
  private frame: Buffer | undefined;
  private block: HeldBlock | undefined;
  private readonly decoder = new HpackDecoder();
  private readonly maxBlock: number;
  /** True once a block needed a fix: from then on every block is re-encoded. */
  rewriting = false;
  /** Header blocks seen / re-encoded (for tests and logs). */
  blocks = 0;
  rewritten = 0;

  private readonly dropFirstSettingsAck: boolean;
  /** With `dropFirstSettingsAck`: the ACK has been seen and dropped. */
  settingsAckDropped = false;

  constructor(opts: RewriterOptions = {}) {
    this.maxBlock = opts.maxHeaderBlockBytes ?? 1 << 20;
    this.dropFirstSettingsAck = opts.dropFirstSettingsAck ?? false;
  }

  /** True while bytes already pushed are held back (a frame header, a header frame or block not yet complete). */
  get holding(): boolean {
    return this.state === State.Hold || (this.state === State.FrameHeader && this.got > 0) || this.block !== undefined;
  }

  push(chunk: Buffer): Buffer[] {
    const out = new Out();
    const n = chunk.length;
    let p = 0;
    while (p < n) {
      switch (this.state) {
        case State.Preface: {
          const take = Math.min(CLIENT_PREFACE.length - this.got, n - p);
          if (chunk.compare(CLIENT_PREFACE, this.got, this.got + take, p, p + take) !== 0) throw new H2FrontError('h2: bad client preface');
          out.slice(chunk, p, p + take);
          this.got += take;
          p += take;
          if (this.got === CLIENT_PREFACE.length) {
            this.state = State.FrameHeader;
            this.got = 0;
          }
          break;
        }
        case State.FrameHeader: {
          let h: Buffer;
          let hs: number;
          if (this.got === 0 && n - p >= 9) {
            h = chunk;
            hs = p;
            p += 9;
          } else {
            const take = Math.min(9 - this.got, n - p);
            chunk.copy(this.hdr, this.got, p, p + take);
            this.got += take;
            p += take;
            if (this.got < 9) break;
            this.got = 0;
            h = this.hdr;
            hs = 0;
          }
          const len = (h[hs] << 16) | (h[hs + 1] << 8) | h[hs + 2];
          const type = h[hs + 3];
          const streamId = h.readUInt32BE(hs + 5) & 0x7fffffff;
          if (this.block && (type !== FRAME_CONTINUATION || streamId !== this.block.streamId)) {
            throw new H2FrontError('h2: expected CONTINUATION');
          }
          if (type === FRAME_HEADERS || type === FRAME_CONTINUATION) {
            if (type === FRAME_CONTINUATION && !this.block) throw new H2FrontError('h2: CONTINUATION without HEADERS');
            if (streamId === 0) throw new H2FrontError('h2: header block on stream 0');
            if ((this.block?.bytes ?? 0) + len + 9 > this.maxBlock) throw new H2FrontError('h2: header block too large');
            this.frame = Buffer.allocUnsafe(9 + len);
            h.copy(this.frame, 0, hs, hs + 9);
            this.need = len;
            this.state = State.Hold;
            if (len === 0) this.onHeaderFrame(out);
          } else if (type === FRAME_PUSH_PROMISE) {
            throw new H2FrontError('h2: PUSH_PROMISE from a client');
          } else if (type === FRAME_SETTINGS && (h[hs + 4] & FLAG_ACK) !== 0 && this.dropFirstSettingsAck && !this.settingsAckDropped) {
            // The ACK of the front's own SETTINGS (client-front.ts): the server never sent it.
            if (len !== 0 || streamId !== 0) throw new H2FrontError('h2: bad SETTINGS ACK');
            this.settingsAckDropped = true;
          } else {
            if (h === chunk) out.slice(chunk, hs, hs + 9);
            else out.add(Buffer.from(this.hdr));
            this.need = len;
            this.state = len > 0 ? State.Pass : State.FrameHeader;
          }
          break;
        }
        case State.Pass: {
          const take = Math.min(this.need, n - p);
          out.slice(chunk, p, p + take);
          this.need -= take;
          p += take;
          if (this.need === 0) this.state = State.FrameHeader;
          break;
        }
        case State.Hold: {
          const take = Math.min(this.need, n - p);
          const f = this.frame!;
          chunk.copy(f, f.length - this.need, p, p + take);
          this.need -= take;
          p += take;
          if (this.need === 0) this.onHeaderFrame(out);
          break;
        }
      }
    }
    return out.result();
  }

  /** A whole HEADERS or CONTINUATION frame is in this.frame. */
  private onHeaderFrame(out: Out): void {
    const f = this.frame!;
    this.frame = undefined;
    this.state = State.FrameHeader;
    const type = f[3];
    const flags = f[4];
    const len = f.length - 9;
    let off = 9;
    let end = f.length;
    let priority: Buffer | undefined;
    if (type === FRAME_HEADERS) {
      if (flags & FLAG_PADDED) {
        if (len < 1) throw new H2FrontError('h2: bad padding');
        const pad = f[9];
        off++;
        end -= pad;
      }
      if (flags & FLAG_PRIORITY) {
        priority = f.subarray(off, off + 5);
        off += 5;
      }
      if (off > end) throw new H2FrontError('h2: bad HEADERS padding/priority');
      this.block = { streamId: f.readUInt32BE(5) & 0x7fffffff, flags, priority, raw: [], fragments: [], bytes: 0 };
    }
    const b = this.block!;
    b.raw.push(f);
    b.fragments.push(f.subarray(off, end));
    b.bytes += f.length;
    if ((flags & FLAG_END_HEADERS) === 0) return;
    this.block = undefined;
    this.blocks++;
    const { fields, sizeUpdates } = this.decoder.decode(b.fragments.length === 1 ? b.fragments[0] : Buffer.concat(b.fragments));
    let fixed = false;
    for (const h of fields) {
      if (h.name !== ':authority') continue;
      const a = fixAuthority(h.value);
      if (a !== undefined) {
        h.value = a;
        fixed = true;
      }
    }
    if (fixed) this.rewriting = true;
    if (!this.rewriting) {
      for (const r of b.raw) out.add(r);
      return;
    }
    this.rewritten++;
    for (const r of encodeHeaderFrames(b.streamId, b.flags, b.priority, encodeLiteralBlock(fields, sizeUpdates))) out.add(r);
  }
}

/** HEADERS (+ CONTINUATION) frames carrying `block`, no padding, each at most 16384 bytes of payload. */
function encodeHeaderFrames(streamId: number, headersFlags: number, priority: Buffer | undefined, block: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  const pri = priority ?? Buffer.alloc(0);
  let pos = 0;
  let first = true;
  do {
    const room = MIN_MAX_FRAME_SIZE - (first ? pri.length : 0);
    const part = block.subarray(pos, pos + room);
    pos += part.length;
    const last = pos >= block.length;
    const prefix = first ? pri : Buffer.alloc(0);
    const fr = Buffer.allocUnsafe(9 + prefix.length + part.length);
    const len = prefix.length + part.length;
    fr[0] = len >> 16;
    fr[1] = (len >> 8) & 0xff;
    fr[2] = len & 0xff;
    fr[3] = first ? FRAME_HEADERS : FRAME_CONTINUATION;
    fr[4] = (first ? headersFlags & (FLAG_END_STREAM | FLAG_PRIORITY) : 0) | (last ? FLAG_END_HEADERS : 0);
    fr.writeUInt32BE(streamId, 5);
    prefix.copy(fr, 9);
    part.copy(fr, 9 + prefix.length);
    frames.push(fr);
    first = false;
  } while (pos < block.length);
  return frames;
}
