import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { StoreCluster, waitFor, etcdctl, ETCDCTL, type EtcdctlResult } from './lib/store-cluster';
import { PROTO_DIR } from '../store/proto';

// Cross-process: a 3-replica store driven with the real etcdctl 3.4 (issue 3,
// acceptance 3), membership changes while writes continue (Raft dissertation
// §4.1, single-server changes), a new member catching up from a snapshot (§7),
// leader transfer (§3.10), SIGKILL during sustained writes, and bad input.
//
// --snapshot-count is tiny so snapshots and log compaction happen all the time.

let c: StoreCluster;

before(async () => {
  c = await StoreCluster.start({ size: 3, extraArgs: ['--snapshot-count', '25'] });
});

after(async () => {
  await c?.stop();
});

function ok(r: EtcdctlResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);
  return r.stdout;
}

test('etcdctl: put, get --prefix/--rev/--keys-only/-w json, del, interactive txn', async () => {
  ok(await c.etcdctl('s1', ['put', '/e/a', '1']), 'put');
  const first = JSON.parse(ok(await c.etcdctl('s2', ['put', '/e/a', '2', '-w', 'json']), 'put json')) as { header: { revision: number } };
  ok(await c.etcdctl('s3', ['put', '/e/b', '3']), 'put');
  assert.equal(ok(await c.etcdctl('s1', ['get', '--prefix', '/e/']), 'get --prefix'), '/e/a\n2\n/e/b\n3\n');
  assert.equal(ok(await c.etcdctl('s2', ['get', '--prefix', '/e/', '--keys-only']), 'keys-only'), '/e/a\n\n/e/b\n\n');
  assert.equal(ok(await c.etcdctl('s3', ['get', '/e/a', `--rev=${first.header.revision - 1}`, '--print-value-only']), 'get --rev'), '1\n');
  const j = JSON.parse(ok(await c.etcdctl('s1', ['get', '/e/a', '-w', 'json']), 'get json')) as { kvs: { key: string; value: string; version: number }[]; count: number };
  assert.equal(j.count, 1);
  assert.equal(Buffer.from(j.kvs[0].key, 'base64').toString(), '/e/a');
  assert.equal(j.kvs[0].version, 2);
  const txn = ok(await c.etcdctl('s2', ['txn'], { input: 'value("/e/a") = "2"\n\nput /e/a 4\nput /e/c 5\n\nget /e/a\n\n' }), 'txn');
  assert.match(txn, /^SUCCESS\n\nOK\n\nOK\n/);
  assert.equal(ok(await c.etcdctl('s3', ['del', '--prefix', '/e/']), 'del'), '3\n');
});

test('etcdctl watch --prefix and --rev replays history then follows live writes', async () => {
  const start = JSON.parse(ok(await c.etcdctl('s1', ['put', '/wr/x', '1', '-w', 'json']), 'put')) as { header: { revision: number } };
  ok(await c.etcdctl('s2', ['put', '/wr/y', '2']), 'put');
  const w = spawn(ETCDCTL, [`--endpoints=${c.endpoint('s3')}`, 'watch', '--prefix', '/wr/', `--rev=${start.header.revision}`], { env: { ...process.env, ETCDCTL_API: '3' } });
  let out = '';
  w.stdout.on('data', (d) => (out += d));
  try {
    await waitFor('history', async () => out.includes('PUT\n/wr/x\n1\nPUT\n/wr/y\n2\n'), 10000);
    ok(await c.etcdctl('s1', ['put', '/wr/z', '3']), 'put');
    await waitFor('live event', async () => out.includes('PUT\n/wr/z\n3\n'), 10000);
  } finally {
    w.kill('SIGKILL');
  }
});

test('etcdctl lease grant / put --lease / timetolive --keys / keep-alive --once / revoke', async () => {
  const grant = ok(await c.etcdctl('s1', ['lease', 'grant', '60']), 'grant');
  const id = /lease ([0-9a-f]+) granted with TTL\(60s\)/.exec(grant)?.[1];
  assert.ok(id, grant);
  ok(await c.etcdctl('s2', ['put', '/lease/k', 'v', `--lease=${id}`]), 'put --lease');
  const ttl = ok(await c.etcdctl('s3', ['lease', 'timetolive', id, '--keys']), 'timetolive');
  assert.match(ttl, new RegExp(`lease ${id} granted with TTL\\(60s\\), remaining\\(\\d+s\\), attached keys\\(\\[/lease/k\\]\\)`));
  assert.match(ok(await c.etcdctl('s2', ['lease', 'keep-alive', '--once', id]), 'keep-alive'), new RegExp(`lease ${id} keepalived with TTL\\(60\\)`));
  assert.match(ok(await c.etcdctl('s1', ['lease', 'revoke', id]), 'revoke'), new RegExp(`lease ${id} revoked`));
  assert.equal(ok(await c.etcdctl('s3', ['get', '/lease/k']), 'get'), '', 'revoking deletes attached keys');
});

test('etcdctl compaction: older revisions become ErrCompacted', async () => {
  const r = JSON.parse(ok(await c.etcdctl('s1', ['put', '/cmp', '1', '-w', 'json']), 'put')) as { header: { revision: number } };
  ok(await c.etcdctl('s1', ['put', '/cmp', '2']), 'put');
  assert.match(ok(await c.etcdctl('s2', ['compaction', String(r.header.revision + 1)]), 'compaction'), /compacted revision/);
  const old = await c.etcdctl('s3', ['get', '/cmp', `--rev=${r.header.revision}`]);
  assert.notEqual(old.code, 0);
  assert.match(old.stderr, /required revision has been compacted/);
});

test('etcdctl endpoint status / health (with and without http://) and member list', async () => {
  // etcdctl 3.4 `endpoint status|health` dial an http:// endpoint as "passthrough:///http://host:port"
  // and send `:authority: http://host:port`; the client port's front (store/server/client-front.ts)
  // rewrites it so Node's HTTP/2 does not reset the stream. See store/README.md.
  const ids = new Set<string>();
  for (const m of c.alive()) {
    for (const ep of [c.endpoint(m.name), `http://${c.endpoint(m.name)}`]) {
      const st = ok(await etcdctl(ep, ['endpoint', 'status']), `endpoint status ${ep}`);
      const esc = ep.replace(/[.]/g, '\\.');
      const row = new RegExp(`^${esc}, ([0-9a-f]+), 3\\.4\\.23, [^,]+, (true|false), false, \\d+, \\d+, \\d+, \\n$`).exec(st);
      assert.ok(row, `endpoint status ${ep}: ${st}`);
      ids.add(`${m.name}=${row[1]}`);
      const js = JSON.parse(ok(await etcdctl(ep, ['endpoint', 'status', '-w', 'json']), `endpoint status -w json ${ep}`)) as { Endpoint: string; Status: { version: string } }[];
      assert.equal(js[0].Endpoint, ep);
      assert.equal(js[0].Status.version, '3.4.23');
      const h = await etcdctl(ep, ['endpoint', 'health']);
      ok(h, `endpoint health ${ep}`);
      // etcdctl 3.4 prints the health line on stderr.
      assert.match(h.stderr, new RegExp(`^${esc} is healthy: successfully committed proposal: took = `), `endpoint health ${ep}`);
    }
  }
  assert.equal(ids.size, c.alive().length, `each member reports one id under both endpoint forms: ${[...ids].join(' ')}`);
  // Several http:// endpoints at once, as an operator would type them.
  const all = c.alive().map((m) => `http://${c.endpoint(m.name)}`).join(',');
  const st = ok(await etcdctl(all, ['endpoint', 'status']), 'endpoint status (all)');
  assert.equal(st.trim().split('\n').length, c.alive().length);
  assert.equal((st.match(/, true, false, /g) ?? []).length, 1, `exactly one leader: ${st}`);
  const list = ok(await c.etcdctl('s1', ['member', 'list', '-w', 'json']), 'member list');
  assert.equal((JSON.parse(list) as { members: unknown[] }).members.length, 3);
});

test('bad input gets errors, never a crash: >1.5 MiB values, unknown methods, malformed requests, garbage on the peer port', async () => {
  const big = await c.etcdctl('s1', ['put', '/big'], { input: 'x'.repeat(1.5 * 1024 * 1024 + 10) }); // the value from stdin
  assert.notEqual(big.code, 0);
  assert.match(big.stderr, /etcdserver: request is too large/);
  // Raw gRPC: an unknown method, and a KV.Range whose bytes are not a RangeRequest.
  const client = new grpc.Client(c.endpoint('s2'), grpc.credentials.createInsecure());
  const call = (method: string, body: Buffer): Promise<grpc.ServiceError | null> =>
    new Promise((resolve) => {
      client.makeUnaryRequest(method, (b: Buffer) => b, (b: Buffer) => b, body, (err) => resolve(err));
    });
  assert.equal((await call('/etcdserverpb.KV/NoSuchMethod', Buffer.alloc(0)))?.code, grpc.status.UNIMPLEMENTED);
  assert.equal((await call('/nosuch.Service/X', Buffer.from('zz')))?.code, grpc.status.UNIMPLEMENTED);
  const garbled = await call('/etcdserverpb.KV/Range', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]));
  assert.ok(garbled && garbled.code !== grpc.status.OK, 'a malformed RangeRequest fails');
  const emptyKey = await call('/etcdserverpb.KV/Put', Buffer.alloc(0));
  assert.equal(emptyKey?.details, 'etcdserver: key is not provided');
  // The peer port: a malformed Raft message batch, a Snapshot stream without a Snap message, and raw garbage.
  const peerDef = protoLoader.loadSync(path.join(PROTO_DIR, 'peer.proto'), { keepCase: true, longs: Number, enums: String, bytes: Buffer, defaults: true });
  const Peer = (grpc.loadPackageDefinition(peerDef) as any).coxswain.store.peer.Peer as grpc.ServiceClientConstructor;
  const peer = new Peer(`127.0.0.1:${c.member('s2').peerPort}`, grpc.credentials.createInsecure()) as any;
  const wrongCluster = await new Promise<grpc.ServiceError | null>((resolve) => peer.Send({ cluster: 'nope', messages: [] }, (e: grpc.ServiceError | null) => resolve(e)));
  assert.equal(wrongCluster?.code, grpc.status.FAILED_PRECONDITION);
  const snapErr = await new Promise<grpc.ServiceError | null>((resolve) => {
    const s = peer.Snapshot((e: grpc.ServiceError | null) => resolve(e));
    s.write({ cluster: 'nope', data: Buffer.from('junk') });
    s.end();
  });
  assert.ok(snapErr, 'a bogus snapshot stream is refused');
  await new Promise<void>((resolve) => {
    const s = net.connect(c.member('s2').peerPort, '127.0.0.1', () => {
      s.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x04\x01\x00\x00\x00\x00\x01garbage'));
      s.write(Buffer.alloc(4096, 0xff));
      setTimeout(() => s.destroy(), 200);
    });
    s.on('error', () => {});
    s.on('close', () => resolve());
  });
  peer.close();
  client.close();
  assert.equal(c.alive().length, 3);
  ok(await c.etcdctl('s2', ['put', '/after-bad-input', 'ok']), 'put after bad input');
});

test('diss. §4.1 membership while writes continue: member add + start with state existing (catches up from a snapshot, §7), move-leader (§3.10), member remove stops the member', async () => {
  let stop = false;
  const acked: string[] = [];
  let n = 0;
  const writer = async (): Promise<void> => {
    while (!stop) {
      const key = `/mem/k${String(n++).padStart(5, '0')}`;
      const alive = c.alive().filter((m) => m.name !== 's4');
      const r = await c.etcdctl(alive[n % alive.length].name, ['put', key, 'v'], { timeoutMs: 8000 });
      if (r.code === 0) acked.push(key);
    }
  };
  const writers = Promise.all([writer(), writer()]);
  try {
    // Enough writes that the log is compacted past the start (snapshot count 25).
    await waitFor('writes before the add', async () => acked.length >= 60, 60000, 200);
    const out = await c.addMember('s4', 's1');
    // etcdctl prints the id with %16x: an id under 2^60 is padded with spaces.
    assert.match(out, /Member +[0-9a-f]+ added to cluster +[0-9a-f]+/);
    await waitFor('s4 serves the data', async () => {
      const r = await c.etcdctl('s4', ['get', '--prefix', '/mem/', '--keys-only', '--consistency=s']);
      if (r.code !== 0) return false;
      const have = new Set(r.stdout.split('\n').filter(Boolean));
      return acked.slice(0, 60).every((k) => have.has(k));
    }, 30000, 300);
    assert.match(c.logs('s4'), /installed snapshot from the leader/, 's4 caught up from a snapshot');
    const list = ok(await c.etcdctl('s4', ['member', 'list']), 'member list');
    assert.match(list, /started, s4, /);
    assert.equal(list.trim().split('\n').length, 4);

    // Leader transfer to the new member.
    const ids = new Map<string, string>();
    for (const line of list.trim().split('\n')) {
      const [id, , name] = line.split(', ');
      ids.set(name, id);
    }
    const eps = c.alive().map((m) => c.endpoint(m.name)).join(',');
    const moved = await new Promise<EtcdctlResult>((resolve) => {
      const p = spawn(ETCDCTL, [`--endpoints=${eps}`, 'move-leader', ids.get('s4')!], { env: { ...process.env, ETCDCTL_API: '3' } });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /Leadership transferred from [0-9a-f]+ to [0-9a-f]+/);
    assert.equal(await c.waitForLeader(10000), 's4');

    // Remove an original member: it stops by itself; the other three carry on.
    ok(await c.etcdctl('s4', ['member', 'remove', ids.get('s3')!]), 'member remove');
    const s3 = c.member('s3').proc!;
    await waitFor('s3 exits', async () => s3.exitCode !== null || s3.signalCode !== null, 15000, 200);
    assert.equal(s3.exitCode, 0);
    assert.equal(ok(await c.etcdctl('s1', ['member', 'list']), 'member list').trim().split('\n').length, 3);
    const before = acked.length;
    await waitFor('writes continue', async () => acked.length >= before + 20, 30000, 200);
  } finally {
    stop = true;
    await writers;
  }
  const keys = new Set(ok(await c.etcdctl('s1', ['get', '--prefix', '/mem/', '--keys-only']), 'get').split('\n').filter(Boolean));
  for (const k of acked) assert.ok(keys.has(k), `acknowledged ${k} is missing`);
});

test('SIGKILL of every member during sustained writes: after restart every acknowledged write is there and the data dirs open cleanly', async () => {
  const acked: string[] = [];
  let stop = false;
  let n = 0;
  const writer = async (): Promise<void> => {
    while (!stop) {
      const alive = c.alive();
      if (alive.length === 0) return;
      const key = `/crash/k${String(n++).padStart(5, '0')}`;
      const r = await c.etcdctl(alive[n % alive.length].name, ['put', key, 'v'], { timeoutMs: 5000 });
      if (r.code === 0) acked.push(key);
    }
  };
  const writers = Promise.all([writer(), writer(), writer()]);
  await waitFor('sustained writes', async () => acked.length >= 40, 60000, 100);
  const names = c.alive().map((m) => m.name);
  await Promise.all(names.map((name) => c.kill(name, 'SIGKILL')));
  stop = true;
  await writers;
  for (const name of names) c.restart(name);
  await c.waitForLeader(20000);
  for (const name of names) {
    assert.doesNotMatch(c.logs(name), /unreadable|CorruptDataError|cannot continue/, `${name} restarted cleanly`);
  }
  const keys = new Set(ok(await c.etcdctl(names[0], ['get', '--prefix', '/crash/', '--keys-only']), 'get').split('\n').filter(Boolean));
  for (const k of acked) assert.ok(keys.has(k), `acknowledged ${k} lost after SIGKILL`);
});

test('etcdctl check perf --load=s passes against a 3-replica cluster (default snapshot count)', { timeout: 150000 }, async () => {
  await c.stop();
  c = await StoreCluster.start({ size: 3 });
  const eps = c.alive().map((m) => c.endpoint(m.name)).join(',');
  const r = await new Promise<EtcdctlResult>((resolve) => {
    const p = spawn(ETCDCTL, [`--endpoints=${eps}`, 'check', 'perf', '--load=s'], { env: { ...process.env, ETCDCTL_API: '3' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(r.code, 0, r.stdout.slice(-300) + r.stderr.slice(-2000));
  assert.match(r.stdout, /PASS: Throughput is \d+ writes\/s/);
  assert.match(r.stdout, /\nPASS\n?$/);
});
