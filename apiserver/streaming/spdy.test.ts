import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Duplex } from 'node:stream';
import {
  FLAG_FIN, FrameParser, RST, SpdyProtocolError, type Frame, dataFrame, decodeHeaderBlock, encodeHeaderBlock, goawayFrame,
  headerBlockLength, pingFrame, rstStreamFrame, settingsFrame, synReplyFrame, synStreamFrame, windowUpdateFrame, headersFrame,
} from './spdy-frames';
import { HeaderCompressor, HeaderDecompressor } from './spdy-headers';
import { SPDY3_DICTIONARY } from './spdy-dictionary';
import { SpdyServerSession, type SpdyStream } from './spdy-session';
import { type ForwardCall, pairKey, parsePortHeader, servePortForwardSession } from './portforward-spdy';
import { EventEmitter } from 'node:events';
import { acceptsStreamProtocol, switchingToSpdy } from './spdy-upgrade';

describe('SPDY/3 frames', () => {
  test('every frame type round-trips through the parser', () => {
    const frames = Buffer.concat([
      synStreamFrame(1, Buffer.from('hdr'), { flags: FLAG_FIN, associatedId: 0, priority: 3 }),
      synReplyFrame(1, Buffer.from('rep')),
      headersFrame(3, Buffer.from('more'), true),
      dataFrame(1, Buffer.from('hello')),
      dataFrame(1, Buffer.alloc(0), true),
      rstStreamFrame(5, RST.CANCEL),
      settingsFrame([{ id: 7, value: 65536 }, { flags: 1, id: 4, value: 100 }]),
      pingFrame(9),
      goawayFrame(7, 1),
      windowUpdateFrame(1, 4096),
    ]);
    const got = new FrameParser().push(frames);
    assert.deepEqual(got, [
      { type: 'syn_stream', streamId: 1, associatedId: 0, priority: 3, slot: 0, flags: FLAG_FIN, headerBlock: Buffer.from('hdr') },
      { type: 'syn_reply', streamId: 1, flags: 0, headerBlock: Buffer.from('rep') },
      { type: 'headers', streamId: 3, flags: FLAG_FIN, headerBlock: Buffer.from('more') },
      { type: 'data', streamId: 1, flags: 0, data: Buffer.from('hello') },
      { type: 'data', streamId: 1, flags: FLAG_FIN, data: Buffer.alloc(0) },
      { type: 'rst_stream', streamId: 5, status: RST.CANCEL },
      { type: 'settings', flags: 0, entries: [{ flags: 0, id: 7, value: 65536 }, { flags: 1, id: 4, value: 100 }] },
      { type: 'ping', id: 9 },
      { type: 'goaway', lastGoodStreamId: 7, status: 1 },
      { type: 'window_update', streamId: 1, delta: 4096 },
    ] satisfies Frame[]);
  });

  test('the wire layout of a control and a data frame', () => {
    // control bit + version 3, type 6, no flags, length 4, then the id
    assert.equal(pingFrame(1).toString('hex'), '80030006000000040000000' + '1');
    // stream id 3, FIN, length 2
    assert.equal(dataFrame(3, Buffer.from('hi'), true).toString('hex'), '00000003010000026869');
  });

  test('frames split at every byte boundary come out whole and in order', () => {
    const wire = Buffer.concat([dataFrame(1, Buffer.from('abc')), pingFrame(3), dataFrame(1, Buffer.from('def'), true)]);
    const p = new FrameParser();
    const out: Frame[] = [];
    for (const b of wire) out.push(...p.push(Buffer.from([b])));
    assert.deepEqual(out.map((f) => f.type), ['data', 'ping', 'data']);
    assert.equal(out.filter((f) => f.type === 'data').map((f) => (f as { data: Buffer }).data.toString()).join(''), 'abcdef');
  });

  test('large frames in uneven chunks: every frame whole, every byte in place', () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 40; i++) frames.push(i % 3 === 0 ? pingFrame(2 * i + 1) : dataFrame(1, Buffer.alloc((i * 7919) % 70_000, i)));
    const wire = Buffer.concat(frames);
    const p = new FrameParser();
    const out: Frame[] = [];
    // chunk sizes that cut headers, payloads and frame boundaries alike
    for (let off = 0, i = 0; off < wire.length; i++) {
      const n = [1, 7, 8, 9, 4093, 65_536, 100_003][i % 7];
      out.push(...p.push(wire.subarray(off, off + n)));
      off += n;
    }
    const again = Buffer.concat(out.map((f) => (f.type === 'data' ? dataFrame(f.streamId, f.data, (f.flags & FLAG_FIN) !== 0) : pingFrame((f as { id: number }).id))));
    assert.equal(out.length, 40);
    assert.ok(again.equals(wire));
  });

  test('a control frame of another version is a protocol error; an unknown type is passed on', () => {
    const v2 = pingFrame(1);
    v2.writeUInt16BE(0x8002, 0);
    assert.throws(() => new FrameParser().push(v2), SpdyProtocolError);
    const odd = pingFrame(1);
    odd.writeUInt16BE(42, 2);
    assert.deepEqual(new FrameParser().push(odd), [{ type: 'unknown', frameType: 42, flags: 0 }]);
  });

  test('a control frame shorter than its type needs is a protocol error', () => {
    const short = Buffer.from('8003000300000002' + '0000', 'hex'); // RST_STREAM with 2 bytes
    assert.throws(() => new FrameParser().push(short), /RST_STREAM frame: payload of 2 bytes/);
  });

  test('header blocks: names lower-cased, multiple values NUL-joined, completeness', () => {
    const block = encodeHeaderBlock([['streamType', 'data'], ['port', '80'], ['x', 'a\0b']]);
    assert.equal(headerBlockLength(block), block.length);
    assert.equal(headerBlockLength(block.subarray(0, block.length - 1)), undefined);
    assert.deepEqual([...decodeHeaderBlock(block)], [['streamtype', ['data']], ['port', ['80']], ['x', ['a', 'b']]]);
    assert.throws(() => decodeHeaderBlock(block.subarray(0, 6)), SpdyProtocolError);
    assert.equal(encodeHeaderBlock([]).toString('hex'), '00000000');
  });
});

/** Adler-32 (RFC 1950), the checksum a zlib header names its preset dictionary by. */
function adler32(b: Buffer): number {
  let a = 1;
  let c = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    c = (c + a) % 65521;
  }
  return ((c << 16) | a) >>> 0;
}

describe('SPDY/3 header compression', () => {
  test('blocks compressed in one zlib stream decompress in order, primed with the dictionary', async () => {
    const c = new HeaderCompressor();
    const d = new HeaderDecompressor();
    const inputs: [string, string][][] = [
      [['streamtype', 'error'], ['port', '80'], ['requestid', '0']],
      [['streamtype', 'data'], ['port', '80'], ['requestid', '0']],
      [],
      [['streamtype', 'error'], ['port', '8080'], ['requestid', '1']],
    ];
    const blocks = await Promise.all(inputs.map((h) => c.compress(h)));
    // the first block opens a zlib stream that names a preset dictionary (FDICT)
    assert.equal(blocks[0][0], 0x78);
    assert.ok(blocks[0][1] & 0x20);
    assert.equal(blocks[0].readUInt32BE(2), adler32(SPDY3_DICTIONARY), 'the dictionary id is the Adler-32 of the SPDY/3 dictionary');
    // a later block repeats most of the first and so is much shorter
    assert.ok(blocks[1].length < blocks[0].length, `${blocks[1].length} < ${blocks[0].length}`);
    const out = await Promise.all(blocks.map((b) => d.decompress(b)));
    assert.deepEqual(out.map((m) => [...m].map(([k, v]) => [k, v[0]])), inputs);
    c.close();
    d.close();
  });

  test('bytes that are not a zlib stream are a protocol error', async () => {
    const d = new HeaderDecompressor();
    await assert.rejects(d.decompress(Buffer.from('not zlib at all')), SpdyProtocolError);
    d.close();
  });
});

/** The client end of a session, as kubectl's spdystream would drive it, over an in-memory pipe. */
class Client {
  readonly frames: Frame[] = [];
  private readonly parser = new FrameParser();
  private readonly c = new HeaderCompressor();
  readonly d = new HeaderDecompressor();
  constructor(readonly toServer: PassThrough, fromServer: PassThrough) {
    fromServer.on('data', (b: Buffer) => this.frames.push(...this.parser.push(b)));
  }
  async open(id: number, headers: [string, string][], fin = false): Promise<void> {
    this.toServer.write(synStreamFrame(id, await this.c.compress(headers), { flags: fin ? FLAG_FIN : 0 }));
  }
  send(b: Buffer): void {
    this.toServer.write(b);
  }
  of(id: number): Frame[] {
    return this.frames.filter((f) => 'streamId' in f && f.streamId === id);
  }
  dataOf(id: number): string {
    return this.of(id).filter((f) => f.type === 'data').map((f) => (f as { data: Buffer }).data.toString()).join('');
  }
  finned(id: number): boolean {
    return this.of(id).some((f) => f.type === 'data' && (f.flags & FLAG_FIN) !== 0);
  }
}

function pair(): { session: SpdyServerSession; client: Client; transport: Duplex } {
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  const transport = Duplex.from({ readable: toServer, writable: fromServer });
  const session = new SpdyServerSession(transport);
  return { session, client: new Client(toServer, fromServer), transport };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  // No clock: give the event loop turns until the condition holds (the pipes are in memory).
  for (let i = 0; i < 10_000; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`never happened: ${what}`);
}

describe('SPDY server session', () => {
  test('a client stream gets a SYN_REPLY, data both ways, WINDOW_UPDATE, FIN', async () => {
    const { session, client } = pair();
    const seen: SpdyStream[] = [];
    const got: string[] = [];
    session.on('stream', (s) => {
      seen.push(s);
      s.reply();
      s.on('data', (b) => got.push(b.toString()));
      s.on('end', () => {
        s.write(Buffer.from(`echo:${got.join('')}`));
        s.end();
      });
    });
    await client.open(1, [['streamType', 'data'], ['port', '80']]);
    client.send(dataFrame(1, Buffer.from('ping')));
    client.send(dataFrame(1, Buffer.alloc(0), true));
    await until('the server FINs stream 1', () => client.finned(1));
    assert.equal(seen[0].header('streamtype'), 'data');
    assert.equal(seen[0].header('Port'), '80');
    const types = client.of(1).map((f) => f.type);
    assert.equal(types[0], 'syn_reply', 'the reply comes before any data');
    assert.ok(types.includes('window_update'));
    assert.equal(client.dataOf(1), 'echo:ping');
    assert.equal(session.openStreams, 0, 'a stream both sides ended is forgotten');
  });

  test('pings from the client are echoed; stream ids that go backwards are refused', async () => {
    const { session, client } = pair();
    session.on('stream', (s) => s.reply());
    client.send(pingFrame(7));
    await client.open(5, [['a', 'b']]);
    await client.open(3, [['a', 'b']]);
    await until('ping echoed and stream 3 reset', () => client.frames.some((f) => f.type === 'ping') && client.of(3).length > 0);
    assert.deepEqual(client.frames.find((f) => f.type === 'ping'), { type: 'ping', id: 7 });
    assert.deepEqual(client.of(3), [{ type: 'rst_stream', streamId: 3, status: RST.PROTOCOL_ERROR }]);
    assert.equal(session.openStreams, 1);
  });

  test('a RST_STREAM from the client resets the stream; the transport ending resets the rest', async () => {
    const { session, client, transport } = pair();
    const resets: number[] = [];
    session.on('stream', (s) => {
      s.reply();
      s.on('reset', () => resets.push(s.id));
    });
    await client.open(1, [['a', 'b']]);
    await client.open(3, [['a', 'b']]);
    client.send(rstStreamFrame(1, RST.CANCEL));
    await until('stream 1 reset', () => resets.includes(1));
    let closed = false;
    session.on('close', () => (closed = true));
    transport.destroy();
    await until('session closed', () => closed);
    assert.deepEqual(resets, [1, 3]);
  });

  test('garbage on the wire: GOAWAY with a protocol error, then the session closes', async () => {
    const { session, client } = pair();
    const errors: Error[] = [];
    session.on('protocolError', (e) => errors.push(e));
    let closed = false;
    session.on('close', () => (closed = true));
    const bad = pingFrame(1);
    bad.writeUInt16BE(0x8002, 0);
    client.send(bad);
    await until('closed', () => closed);
    assert.match(errors[0].message, /unsupported SPDY version 2/);
  });
});

/** A stand-in for one kubelet PortForward call. */
class FakeCall extends EventEmitter implements ForwardCall {
  readonly written: Buffer[] = [];
  closedWrite = false;
  cancelled = false;
  write(msg: { data: Buffer } | { close_write: true }): boolean {
    if ('data' in msg) this.written.push(msg.data);
    else this.closedWrite = true;
    return true;
  }
  cancel(): void {
    this.cancelled = true;
  }
  pause(): void {}
  resume(): void {}
}

describe('port-forward over SPDY streams', () => {
  const streams = (port: string, requestID: string): [string, string][][] => [
    [['streamType', 'error'], ['port', port], ['requestID', requestID]],
    [['streamType', 'data'], ['port', port], ['requestID', requestID]],
  ];

  test('a stream pair is relayed to one call on its port; the pod side ending FINs both', async () => {
    const { session, client } = pair();
    const calls: { port: number; call: FakeCall }[] = [];
    servePortForwardSession(session, { dial: (port) => { const call = new FakeCall(); calls.push({ port, call }); return call; }, errorText: (e) => e.message });
    const [err, data] = streams('80', '0');
    await client.open(1, err);
    client.send(dataFrame(1, Buffer.alloc(0), true)); // kubectl closes its side of the error stream at once
    await client.open(3, data);
    await until('the call is dialled', () => calls.length === 1);
    assert.equal(calls[0].port, 80);
    client.send(dataFrame(3, Buffer.from('GET / HTTP/1.0\r\n\r\n')));
    client.send(dataFrame(3, Buffer.alloc(0), true));
    await until('request and half-close reach the call', () => calls[0].call.closedWrite);
    assert.equal(Buffer.concat(calls[0].call.written).toString(), 'GET / HTTP/1.0\r\n\r\n');
    calls[0].call.emit('data', { msg: 'connected' });
    calls[0].call.emit('data', { msg: 'data', data: Buffer.from('HTTP/1.0 200 OK\r\n\r\nhi') });
    calls[0].call.emit('end');
    await until('both streams FINned', () => client.finned(1) && client.finned(3));
    assert.equal(client.dataOf(3), 'HTTP/1.0 200 OK\r\n\r\nhi');
    assert.equal(client.dataOf(1), '');
  });

  test('a failed connection is written on the error stream as the kubelet words it', async () => {
    const { session, client } = pair();
    let call!: FakeCall;
    servePortForwardSession(session, { dial: () => (call = new FakeCall()), errorText: (e) => e.message });
    const [err, data] = streams('81', '4');
    await client.open(1, err);
    await client.open(3, data);
    await until('dialled', () => call !== undefined);
    call.emit('data', { msg: 'error', error: 'error forwarding port 81 to pod web: connect ECONNREFUSED 10.0.0.2:81' });
    call.emit('end');
    await until('both streams FINned', () => client.finned(1) && client.finned(3));
    assert.equal(client.dataOf(1), 'error forwarding port 81 to pod web: connect ECONNREFUSED 10.0.0.2:81');
  });

  test('a bad port header is answered on the error stream, nothing is dialled', async () => {
    const { session, client } = pair();
    let dialled = 0;
    servePortForwardSession(session, { dial: () => (dialled++, new FakeCall()), errorText: (e) => e.message });
    const [err, data] = streams('http', '0');
    await client.open(1, err);
    await client.open(3, data);
    await until('error stream FINned', () => client.finned(1));
    assert.equal(client.dataOf(1), 'invalid port "http": must be an integer between 1 and 65535');
    assert.equal(dialled, 0);
  });

  test('the client resetting the data stream cancels the call; the session closing cancels every call', async () => {
    const { session, client, transport } = pair();
    const calls: FakeCall[] = [];
    servePortForwardSession(session, { dial: () => { const c = new FakeCall(); calls.push(c); return c; }, errorText: (e) => e.message });
    for (const [i, id] of [[0, 1], [1, 5]]) {
      const [err, data] = streams('80', String(i));
      await client.open(id, err);
      await client.open(id + 2, data);
    }
    await until('two calls', () => calls.length === 2);
    client.send(rstStreamFrame(3, RST.CANCEL));
    await until('first call cancelled', () => calls[0].cancelled);
    assert.equal(calls[1].cancelled, false);
    transport.destroy();
    await until('second call cancelled', () => calls[1].cancelled);
  });

  test('pairing without requestID: the error stream id, and its data stream two ids later', () => {
    const s = (id: number, type: string) => ({ id, header: (n: string) => (n === 'streamtype' ? type : undefined) });
    assert.equal(pairKey(s(1, 'error')), pairKey(s(3, 'data')));
    assert.notEqual(pairKey(s(1, 'error')), pairKey(s(5, 'data')));
    assert.equal(pairKey({ id: 9, header: (n) => (n === 'requestid' ? '12' : 'data') }), '12');
  });

  test('port headers', () => {
    assert.equal(parsePortHeader('8080'), 8080);
    assert.equal(parsePortHeader(undefined), 'the port header is missing');
    assert.match(String(parsePortHeader('0')), /invalid port "0"/);
    assert.match(String(parsePortHeader('70000')), /invalid port "70000"/);
    assert.match(String(parsePortHeader('8o')), /invalid port "8o"/);
  });
});

describe('SPDY upgrade', () => {
  test('X-Stream-Protocol-Version: repeated, comma-separated, or absent', () => {
    assert.ok(acceptsStreamProtocol(['portforward.k8s.io'], 'portforward.k8s.io'));
    assert.ok(acceptsStreamProtocol('v2.portforward.k8s.io, portforward.k8s.io', 'portforward.k8s.io'));
    assert.ok(acceptsStreamProtocol(undefined, 'portforward.k8s.io'));
    assert.ok(!acceptsStreamProtocol('v4.channel.k8s.io', 'portforward.k8s.io'));
    assert.match(switchingToSpdy('portforward.k8s.io'), /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*Upgrade: SPDY\/3\.1\r\nX-Stream-Protocol-Version: portforward\.k8s\.io\r\n\r\n$/);
  });
});
