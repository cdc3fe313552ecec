import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import {
  AuthorityRewriter,
  CLIENT_PREFACE,
  encodeLiteralBlock,
  fixAuthority,
  H2FrontError,
  HpackDecoder,
  huffmanCode,
  huffmanDecode,
  type HeaderField,
} from './h2-authority';
import { RewritingSocket } from './client-front';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const pairs = (fs: HeaderField[]): string[][] => fs.map((f) => [f.name, f.value]);

// ---------------------------------------------------------------- HPACK

test('Huffman: the canonical code built from the lengths matches RFC 7541 Appendix B', () => {
  assert.deepEqual(huffmanCode(0), { code: 0x1ff8, bits: 13 });
  assert.deepEqual(huffmanCode(' '.charCodeAt(0)), { code: 0x14, bits: 6 });
  assert.deepEqual(huffmanCode('0'.charCodeAt(0)), { code: 0x0, bits: 5 });
  assert.deepEqual(huffmanCode('a'.charCodeAt(0)), { code: 0x3, bits: 5 });
  assert.deepEqual(huffmanCode('/'.charCodeAt(0)), { code: 0x18, bits: 6 });
  assert.deepEqual(huffmanCode(':'.charCodeAt(0)), { code: 0x5c, bits: 7 });
  assert.deepEqual(huffmanCode(10), { code: 0x3ffffffc, bits: 30 });
  assert.deepEqual(huffmanCode(255), { code: 0x3ffffee, bits: 26 });
  assert.deepEqual(huffmanCode(256), { code: 0x3fffffff, bits: 30 }); // EOS
});

test('Huffman: padding longer than 7 bits, padding with a zero bit, and EOS are errors', () => {
  // "a" = 00011 + 111 padding = 0x1f: fine.
  assert.equal(huffmanDecode(hex('1f'), 0, 1).toString(), 'a');
  assert.throws(() => huffmanDecode(hex('1fff'), 0, 2), H2FrontError); // 11 bits of padding
  assert.throws(() => huffmanDecode(hex('1e'), 0, 1), H2FrontError); // padding 110
  assert.throws(() => huffmanDecode(hex('ffffffff'), 0, 4), H2FrontError); // EOS (30 ones)
});

test('HPACK: RFC 7541 C.4 (requests, Huffman, dynamic table across blocks)', () => {
  const d = new HpackDecoder();
  const base = [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']];
  assert.deepEqual(pairs(d.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff')).fields), base);
  assert.equal(d.tableSize, 57);
  assert.deepEqual(pairs(d.decode(hex('8286 84be 5886 a8eb 1064 9cbf')).fields), [...base, ['cache-control', 'no-cache']]);
  assert.equal(d.tableSize, 110);
  assert.deepEqual(pairs(d.decode(hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf')).fields), [
    [':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value'],
  ]);
  assert.equal(d.tableSize, 164);
  assert.equal(d.tableLength, 3);
});

test('HPACK: RFC 7541 C.6 (responses, Huffman, 256-byte table with evictions)', () => {
  const d = new HpackDecoder(256);
  const r1 = d.decode(hex(`4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
    2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`));
  assert.deepEqual(pairs(r1.fields), [[':status', '302'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']]);
  assert.equal(d.tableSize, 222);
  const r2 = d.decode(hex('4883 640e ffc1 c0bf'));
  assert.deepEqual(pairs(r2.fields)[0], [':status', '307']);
  assert.equal(d.tableSize, 222);
  const r3 = d.decode(hex(`88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
    77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`));
  assert.deepEqual(pairs(r3.fields), [
    [':status', '200'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'], ['location', 'https://www.example.com'],
    ['content-encoding', 'gzip'], ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
  ]);
  assert.equal(d.tableSize, 215);
  assert.equal(d.tableLength, 3);
});

test('HPACK: literal re-encoding round-trips and leaves the decoder table untouched; size updates first', () => {
  const fields: HeaderField[] = [
    { name: ':method', value: 'POST' },
    { name: ':authority', value: '127.0.0.1:2379' },
    { name: 'x-custom', value: 'v'.repeat(300) },
    { name: 'authorization', value: 'secret', neverIndexed: true },
  ];
  const block = encodeLiteralBlock(fields, [1024]);
  assert.equal(block[0], 0x3f); // size update 1024, 5-bit prefix
  const d = new HpackDecoder();
  const r = d.decode(block);
  assert.deepEqual(r.fields, fields);
  assert.deepEqual(r.sizeUpdates, [1024]);
  assert.equal(d.tableLength, 0);
  assert.throws(() => new HpackDecoder().decode(hex('82 3f e1 07')), H2FrontError); // size update after a field
  assert.throws(() => new HpackDecoder().decode(hex('be')), H2FrontError); // dynamic index into an empty table
  assert.throws(() => new HpackDecoder().decode(hex('80')), H2FrontError); // index 0
  assert.throws(() => new HpackDecoder().decode(hex('41 05 61')), H2FrontError); // truncated string
});

test('fixAuthority: scheme and path are removed; valid or unfixable values are left alone', () => {
  assert.equal(fixAuthority('http://127.0.0.1:2379'), '127.0.0.1:2379');
  assert.equal(fixAuthority('https://[::1]:2379/'), '[::1]:2379');
  assert.equal(fixAuthority('localhost:2379/x?y'), 'localhost:2379');
  assert.equal(fixAuthority('127.0.0.1:2379'), undefined);
  assert.equal(fixAuthority('user@host:1'), undefined);
  assert.equal(fixAuthority('http://'), undefined);
  assert.equal(fixAuthority('bad host'), undefined);
});

// ---------------------------------------------------------------- frames

/** One HTTP/2 frame. */
function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

/** Raw HPACK pieces (no Huffman). */
const str = (s: string): Buffer => Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'latin1')]);
const indexed = (i: number): Buffer => Buffer.from([0x80 | i]);
const incNameIdx = (nameIndex: number, value: string): Buffer => Buffer.concat([Buffer.from([0x40 | nameIndex]), str(value)]);
const incNewName = (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x40]), str(name), str(value)]);

/** Split the server-side byte stream into frames and decode every header block with a fresh decoder. */
function serverView(bytes: Buffer): { frames: { type: number; flags: number; stream: number; payload: Buffer }[]; blocks: string[][][]; decoder: HpackDecoder } {
  assert.ok(bytes.subarray(0, 24).equals(CLIENT_PREFACE));
  const frames = [];
  const blocks: string[][][] = [];
  const decoder = new HpackDecoder();
  let frag: Buffer[] = [];
  for (let p = 24; p < bytes.length; ) {
    const len = bytes.readUIntBE(p, 3);
    const f = { type: bytes[p + 3], flags: bytes[p + 4], stream: bytes.readUInt32BE(p + 5), payload: bytes.subarray(p + 9, p + 9 + len) };
    frames.push(f);
    if (f.type === 1 || f.type === 9) {
      let off = 0;
      let end = len;
      if (f.type === 1 && f.flags & 0x8) {
        end -= f.payload[0];
        off = 1;
      }
      if (f.type === 1 && f.flags & 0x20) off += 5;
      frag.push(f.payload.subarray(off, end));
      if (f.flags & 0x4) {
        blocks.push(pairs(decoder.decode(Buffer.concat(frag)).fields));
        frag = [];
      }
    }
    p += 9 + len;
  }
  return { frames, blocks, decoder };
}

function feed(rw: AuthorityRewriter, input: Buffer, chunk: number): Buffer {
  const out: Buffer[] = [];
  for (let p = 0; p < input.length; p += chunk) out.push(...rw.push(input.subarray(p, p + chunk)));
  return Buffer.concat(out);
}

// etcdctl 3.4 `--endpoints=http://127.0.0.1:23811 endpoint status`, client→server, captured on the wire:
// SETTINGS, WINDOW_UPDATE, SETTINGS ACK, HEADERS (Maintenance/Status, :authority Huffman-coded with
// incremental indexing), DATA, WINDOW_UPDATE, PING.
const ETCDCTL_STATUS = hex(
  '505249202a20485454502f322e300d0a0d0a534d0d0a0d0a0000000400000000000000000401000000000000770104000000018386459760a924882d9dcb6571afa066a925a87510ac6e48d36a3f41909d29aee30c044eae05c0b86e0997821f5f8b1d75d0620d263d4c4d65647a8b9acac8b4c7602bb2caecff40027465864d833505b11f40899acac8b24d494f6a7f8669f7dc0bcfdb408d25062d495875996ee5b1063d5f03332e3400000500010000000100000000000000040800000000000000003f00000806000000000002041010090e0707',
);

test('captured etcdctl endpoint status: :authority rewritten, every other frame byte-identical, any chunking', () => {
  const before = serverView(ETCDCTL_STATUS);
  assert.equal(before.blocks[0].find(([n]) => n === ':authority')?.[1], 'http://127.0.0.1:23811');
  for (const chunk of [ETCDCTL_STATUS.length, 1, 7, 64]) {
    const rw = new AuthorityRewriter();
    const out = feed(rw, ETCDCTL_STATUS, chunk);
    assert.equal(rw.rewriting, true);
    const after = serverView(out);
    assert.deepEqual(
      after.blocks[0],
      before.blocks[0].map(([n, v]) => [n, n === ':authority' ? '127.0.0.1:23811' : v]),
    );
    assert.equal(after.frames.length, before.frames.length);
    after.frames.forEach((f, i) => {
      const b = before.frames[i];
      assert.equal(f.type, b.type);
      assert.equal(f.stream, b.stream);
      if (f.type !== 1) assert.ok(f.payload.equals(b.payload) && f.flags === b.flags, `frame ${i} untouched`);
    });
    assert.equal(after.decoder.tableLength, 0, 'the rewritten block inserts nothing into the server table');
  }
});

test('constructed stream: untouched blocks pass byte for byte; after the first fix every block is re-encoded (CONTINUATION, padding, PRIORITY, dynamic table across blocks)', () => {
  const settings = frame(4, 0, 0, Buffer.alloc(0));
  // Block 1 (stream 1): good authority, inserts ':authority: h:1' and 'x-a: 1' into the client's table.
  const b1 = Buffer.concat([indexed(3), indexed(6), incNameIdx(4, '/svc/A'), incNameIdx(1, 'h:1'), incNewName('x-a', '1')]);
  const f1 = frame(1, 0x4, 1, b1);
  const data1 = frame(0, 0x1, 1, Buffer.from('hello'));
  // Block 2 (stream 3): bad authority with incremental indexing; HEADERS is PADDED+PRIORITY+END_STREAM and the
  // block continues in a CONTINUATION frame. Client table before: 62 x-a, 63 :authority h:1, 64 :path; the
  // insertion in the middle of the block moves x-a to 63.
  const b2 = Buffer.concat([indexed(3), indexed(6), indexed(64) /* :path /svc/A */, incNameIdx(1, 'http://h:1'), indexed(63) /* x-a: 1 */]);
  const pad = 4;
  const priority = hex('80000001 0f'); // exclusive, depends on stream 1, weight 16
  const f2 = frame(1, 0x1 | 0x8 | 0x20, 3, Buffer.concat([Buffer.from([pad]), priority, b2.subarray(0, 5), Buffer.alloc(pad)]));
  const f2c = frame(9, 0x4, 3, b2.subarray(5));
  // Block 3 (stream 5): only dynamic references, including the bad authority the client's table now holds (62).
  const b3 = Buffer.concat([indexed(3), indexed(6), indexed(65) /* :path */, indexed(62) /* http://h:1 */]);
  const f3 = frame(1, 0x4 | 0x1, 5, b3);
  const input = Buffer.concat([CLIENT_PREFACE, settings, f1, data1, f2, f2c, f3]);

  for (const chunk of [input.length, 1, 3, 10]) {
    const rw = new AuthorityRewriter();
    const out = feed(rw, input, chunk);
    assert.equal(rw.blocks, 3);
    assert.equal(rw.rewritten, 2);
    // Everything up to block 2 is identical.
    const untouched = Buffer.concat([CLIENT_PREFACE, settings, f1, data1]);
    assert.ok(out.subarray(0, untouched.length).equals(untouched));
    const v = serverView(out);
    assert.deepEqual(v.blocks, [
      [[':method', 'POST'], [':scheme', 'http'], [':path', '/svc/A'], [':authority', 'h:1'], ['x-a', '1']],
      [[':method', 'POST'], [':scheme', 'http'], [':path', '/svc/A'], [':authority', 'h:1'], ['x-a', '1']],
      [[':method', 'POST'], [':scheme', 'http'], [':path', '/svc/A'], [':authority', 'h:1']],
    ]);
    const h2 = v.frames.find((f) => f.type === 1 && f.stream === 3)!;
    assert.equal(h2.flags, 0x1 | 0x20 | 0x4, 'END_STREAM and PRIORITY kept, padding dropped, END_HEADERS');
    assert.ok(h2.payload.subarray(0, 5).equals(priority));
    assert.equal(v.frames.find((f) => f.type === 1 && f.stream === 5)!.flags, 0x4 | 0x1);
    // The server's table holds what block 1 inserted and nothing from the re-encoded blocks.
    assert.equal(v.decoder.tableLength, 3);
  }
});

test('a rewritten block larger than 16 KiB is split into HEADERS + CONTINUATION', () => {
  const big = 'v'.repeat(20000);
  const block = Buffer.concat([indexed(3), indexed(6), indexed(4), incNameIdx(1, 'http://h:1')]);
  // literal without indexing, new name "x-big", a 20000-byte value: length 127 + 19873 (7-bit prefix, RFC 7541 §5.1)
  const lenBytes = [0x7f, 0xa1, 0x9b, 0x01]; // 19873 = 33 + 27·128 + 1·16384
  const bigField = Buffer.concat([Buffer.from([0x00]), str('x-big'), Buffer.from(lenBytes), Buffer.from(big)]);
  const payload = Buffer.concat([block, bigField]);
  const input = Buffer.concat([CLIENT_PREFACE, frame(1, 0x0, 1, payload.subarray(0, 16000)), frame(9, 0x4, 1, payload.subarray(16000))]);
  const out = feed(new AuthorityRewriter(), input, 4096);
  const v = serverView(out);
  assert.deepEqual(v.frames.map((f) => [f.type, f.flags & 0x4]), [[1, 0], [9, 4]]);
  assert.ok(v.frames.every((f) => f.payload.length <= 16384));
  assert.deepEqual(v.blocks[0].slice(3), [[':authority', 'h:1'], ['x-big', big]]);
});

test('malformed input throws H2FrontError', () => {
  const bad = (bytes: Buffer) => assert.throws(() => new AuthorityRewriter().push(bytes), H2FrontError);
  bad(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  bad(Buffer.concat([CLIENT_PREFACE, frame(9, 0x4, 1, indexed(2))])); // CONTINUATION without HEADERS
  bad(Buffer.concat([CLIENT_PREFACE, frame(1, 0x0, 1, indexed(2)), frame(0, 0, 1, Buffer.from('x'))])); // DATA inside a header block
  bad(Buffer.concat([CLIENT_PREFACE, frame(1, 0x0, 1, indexed(2)), frame(9, 0x4, 3, indexed(2))])); // CONTINUATION on another stream
  bad(Buffer.concat([CLIENT_PREFACE, frame(1, 0x4 | 0x8, 1, Buffer.from([9, 0x82]))])); // padding longer than the frame
  bad(Buffer.concat([CLIENT_PREFACE, frame(1, 0x4, 1, indexed(70))])); // index beyond the tables
  bad(Buffer.concat([CLIENT_PREFACE, frame(1, 0x4, 0, indexed(2))])); // headers on stream 0
  assert.throws(
    () => new AuthorityRewriter({ maxHeaderBlockBytes: 100 }).push(Buffer.concat([CLIENT_PREFACE, frame(1, 0x0, 1, Buffer.alloc(60, 0x82)), frame(9, 0x0, 1, Buffer.alloc(60, 0x82))])),
    H2FrontError,
  );
});

// ---------------------------------------------------------------- live, with Node's own HTTP/2 (nghttp2 HPACK encoder)

test('live: Node HTTP/2 client with :authority http://host:port/… through RewritingSocket to a Node HTTP/2 server', async () => {
  const h2 = http2.createServer();
  const seen: string[] = [];
  h2.on('stream', (s, headers) => {
    seen.push(String(headers[':authority']));
    s.respond({ ':status': 200 });
    s.end(String(headers['x-n']));
  });
  const front = net.createServer((sock) => h2.emit('connection', new RewritingSocket(sock)));
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  const port = (front.address() as net.AddressInfo).port;
  // First without a fix needed (blocks pass through), then with one (the connection switches to rewriting).
  const client = http2.connect(`http://127.0.0.1:${port}`);
  const get = (authority: string, n: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = client.request({ ':path': '/p', ':authority': authority, 'x-n': String(n), 'x-long': 'z'.repeat(n * 10) });
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => resolve(body));
      req.on('error', reject);
      req.end();
    });
  try {
    assert.equal(await get(`127.0.0.1:${port}`, 0), '0');
    for (let i = 1; i <= 5; i++) assert.equal(await get(`http://127.0.0.1:${port}/x`, i), String(i));
    assert.deepEqual(await Promise.all([6, 7, 8].map((i) => get(`http://127.0.0.1:${port}`, i))), ['6', '7', '8']);
    assert.deepEqual(seen, Array.from({ length: 9 }, () => `127.0.0.1:${port}`));
  } finally {
    client.close();
    front.close();
    h2.close();
  }
});
