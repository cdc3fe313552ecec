import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GrpcCallError, GrpcUnaryClient, type UnaryMethod } from './grpc-unary';

const PROTO_DIR = path.resolve(__dirname, '../../../store/proto');

/** A real grpc-js server with etcd's KV service: Range answers by key (`slow` never answers, `bad` fails). */
async function kvServer(): Promise<{ port: number; range: UnaryMethod; stop: () => Promise<void> }> {
  const def = protoLoader.loadSync(path.join(PROTO_DIR, 'etcd.proto'), { keepCase: true, longs: String, bytes: Buffer, defaults: true, oneofs: true, includeDirs: [PROTO_DIR] });
  const kv = (grpc.loadPackageDefinition(def) as unknown as { etcdserverpb: { KV: grpc.ServiceClientConstructor } }).etcdserverpb.KV;
  const server = new grpc.Server();
  server.addService(kv.service, {
    Range: (call: grpc.ServerUnaryCall<{ key: Buffer }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const key = call.request.key.toString();
      if (key === 'slow') return;
      if (key === 'bad') return cb({ code: grpc.status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision has been compacted' });
      cb(null, { header: { revision: '7' }, kvs: [{ key: Buffer.from(key), value: Buffer.from(`value of ${key}`), mod_revision: '5' }], count: '1' });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const m = (def['etcdserverpb.KV'] as Record<string, protoLoader.MethodDefinition<object, object>>).Range!;
  return { port, range: { path: m.path, serialize: m.requestSerialize, deserialize: m.responseDeserialize }, stop: () => new Promise((r) => server.tryShutdown(() => r())) };
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: GrpcCallError) => `${e.code} ${e.details}`);

test('unary calls against a grpc-js server: answers, the server\'s status, deadlines, refused connections', async () => {
  const s = await kvServer();
  const client = new GrpcUnaryClient(new URL(`http://127.0.0.1:${s.port}`));
  try {
    const r = await client.call(s.range, { key: Buffer.from('a') }, 2_000) as { header: { revision: string }; kvs: { value: Buffer; mod_revision: string }[] };
    assert.deepEqual([r.header.revision, r.kvs[0]!.value.toString(), r.kvs[0]!.mod_revision], ['7', 'value of a', '5']);
    // many at once on the one connection
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => client.call(s.range, { key: Buffer.from(`k${i}`) }, 2_000) as Promise<{ kvs: { value: Buffer }[] }>));
    assert.equal(many[49]!.kvs[0]!.value.toString(), 'value of k49');
    assert.equal(await codeOf(client.call(s.range, { key: Buffer.from('bad') }, 2_000)), '11 etcdserver: mvcc: required revision has been compacted');
    assert.equal(await codeOf(client.call(s.range, { key: Buffer.from('slow') }, 200)), '4 Deadline exceeded');
    // the connection answered the ping after the timeout: still usable
    assert.equal(await codeOf(client.call(s.range, { key: Buffer.from('b') }, 2_000)), 'ok');
  } finally {
    client.close();
    await s.stop();
  }
  const refused = new GrpcUnaryClient(new URL(`http://127.0.0.1:${s.port}`));
  assert.match(await codeOf(refused.call(s.range, { key: Buffer.from('a') }, 2_000)), /^14 connect failed: /);
  refused.close();
  assert.match(await codeOf(refused.call(s.range, { key: Buffer.from('a') }, 2_000)), /^14 client closed/);
});
