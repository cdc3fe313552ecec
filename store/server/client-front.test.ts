import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { frontStats, listenClientFront } from './client-front';

// A one-method gRPC service on raw bytes: Echo returns the request body.
const echoService: grpc.ServiceDefinition = {
  Echo: {
    path: '/test.T/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};

/** gRPC length-prefixed message. */
const frame = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 0, b.length]), b]);

/** One unary call over a plain Node HTTP/2 session, with the given :authority. */
function rawCall(session: http2.ClientHttp2Session, authority: string, body: string): Promise<{ status: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': '/test.T/Echo', ':authority': authority, 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('trailers', (t) => resolve({ status: String(t['grpc-status']), body: Buffer.concat(chunks).subarray(5).toString() }));
    req.on('error', reject);
    req.end(frame(Buffer.from(body)));
  });
}

test('client front: plain gRPC connections are handed to the native HTTP/2 server, http:// authorities go through the rewriter, idle ones are handed over after the sniff window', async () => {
  const server = new grpc.Server();
  server.addService(echoService, { Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) });
  const front = await listenClientFront(server, '127.0.0.1:0', undefined, 'sniff');
  const before = { ...frontStats };
  const addr = `127.0.0.1:${front.port}`;
  const Client = grpc.makeGenericClientConstructor(echoService, 'T');
  const client = new Client(addr, grpc.credentials.createInsecure()) as unknown as grpc.Client & { Echo(b: Buffer, cb: (e: Error | null, r?: Buffer) => void): void };
  const echo = (b: string): Promise<string> => new Promise((res, rej) => client.Echo(Buffer.from(b), (e, r) => (e ? rej(e) : res(r!.toString()))));
  const sessions: http2.ClientHttp2Session[] = [];
  try {
    // grpc-js: several calls on one connection, served natively.
    assert.deepEqual(await Promise.all(['a', 'b', 'c'].map(echo)), ['a', 'b', 'c']);
    assert.equal(await echo('d'), 'd');
    assert.equal(frontStats.native - before.native, 1);
    // A client sending `:authority: http://host:port` (etcdctl endpoint status): rewritten, and the
    // connection keeps working for later calls with either form.
    const bad = http2.connect(`http://${addr}`);
    sessions.push(bad);
    assert.deepEqual(await rawCall(bad, `http://${addr}`, 'x'), { status: '0', body: 'x' });
    assert.deepEqual(await rawCall(bad, addr, 'y'), { status: '0', body: 'y' });
    assert.deepEqual(await rawCall(bad, `http://${addr}`, 'z'), { status: '0', body: 'z' });
    assert.equal(frontStats.rewriting - before.rewriting, 1);
    // A client that connects and stays quiet: handed over natively after the sniff window, then served.
    const quiet = http2.connect(`http://${addr}`);
    sessions.push(quiet);
    await new Promise<void>((r) => quiet.once('remoteSettings', () => r()));
    const deadline = Date.now() + 10_000;
    while (frontStats.native - before.native < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(frontStats.native - before.native, 2);
    assert.deepEqual(await rawCall(quiet, addr, 'q'), { status: '0', body: 'q' });
    assert.equal(frontStats.closed - before.closed, 0);
  } finally {
    client.close();
    for (const s of sessions) s.destroy();
    server.forceShutdown();
    await front.close();
  }
});

test('client front: a client flooding control frames before its ACK is closed at the cap; close() ends connections still being sniffed', async () => {
  const net = await import('node:net');
  const server = new grpc.Server();
  server.addService(echoService, { Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) });
  const front = await listenClientFront(server, '127.0.0.1:0', undefined, 'sniff');
  const before = { ...frontStats };
  const connect = (): Promise<import('node:net').Socket> => new Promise((resolve, reject) => {
    const s = net.connect(front.port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
  const closed = (s: import('node:net').Socket): Promise<void> => new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));
  try {
    // The client preface and an empty SETTINGS, never an ACK, then PING frames without end.
    const flood = await connect();
    flood.on('error', () => undefined);
    flood.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0])]));
    const ping = Buffer.from([0, 0, 8, 0x6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const burst = Buffer.concat(Array.from({ length: 4096 }, () => ping)); // 68 KiB
    let sent = 0;
    const gone = closed(flood);
    while (!flood.destroyed && sent < 16 * 1024 * 1024) {
      if (!flood.write(burst)) await Promise.race([new Promise((r) => flood.once('drain', r)), gone]);
      sent += burst.length;
    }
    await gone;
    assert.ok(sent < 4 * 1024 * 1024, `closed after ${sent} bytes`);
    assert.equal(frontStats.closed - before.closed, 1);
    // A connection that has sent nothing yet is closed by close(), not left to its sniff deadline.
    const idle = await connect();
    idle.on('error', () => undefined);
    await new Promise((r) => idle.once('data', r)); // the front's SETTINGS: it is being sniffed
    server.forceShutdown();
    await front.close();
    await closed(idle);
  } finally {
    server.forceShutdown();
    await front.close();
  }
});
