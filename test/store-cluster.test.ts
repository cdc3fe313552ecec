import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { StoreCluster, waitFor, ETCDCTL } from './lib/store-cluster';

// Cross-process: three store replicas as separate node processes, driven with the
// real etcdctl 3.4.

let c: StoreCluster;

before(async () => {
  c = await StoreCluster.start({ size: 3 });
});

after(async () => {
  await c?.stop();
});

function ok(r: { code: number | null; stdout: string; stderr: string }, what: string): string {
  assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);
  return r.stdout;
}

test('etcdctl put/get/del/txn work against every replica, leader or follower', async () => {
  const names = c.members.map((m) => m.name);
  for (const [i, n] of names.entries()) {
    ok(await c.etcdctl(n, ['put', `/t/k${i}`, `v${i}`]), `put via ${n}`);
  }
  // Linearizable reads from every replica see every write.
  for (const n of names) {
    const out = ok(await c.etcdctl(n, ['get', '--prefix', '/t/']), `get via ${n}`);
    assert.equal(out, '/t/k0\nv0\n/t/k1\nv1\n/t/k2\nv2\n');
  }
  const json = ok(await c.etcdctl(names[1], ['put', '/t/k0', 'v0b', '-w', 'json']), 'put json');
  const rev = Number(/"revision":(\d+)/.exec(json)![1]);
  const got = ok(await c.etcdctl(names[2], ['get', '/t/k0', '-w', 'json']), 'get json');
  assert.equal(Number(/"mod_revision":(\d+)/.exec(got)![1]), rev, 'Put header.revision is the new mod_revision');

  // Kubernetes-style CAS: compare mod_revision then put, else get.
  const txn = (n: string, mod: number): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    c.etcdctl(n, ['txn'], { input: `mod("/t/k0") = "${mod}"\n\nput /t/k0 cas\n\nget /t/k0\n\n` });
  assert.match(ok(await txn(names[2], rev - 1), 'stale txn'), /^FAILURE\n\n\/t\/k0\nv0b\n/);
  assert.match(ok(await txn(names[0], rev), 'txn'), /^SUCCESS\n\nOK\n/);
  assert.equal(ok(await c.etcdctl(names[1], ['get', '/t/k0', '--print-value-only']), 'get'), 'cas\n');

  assert.equal(ok(await c.etcdctl(names[2], ['del', '--prefix', '/t/']), 'del'), '3\n');
  assert.equal(ok(await c.etcdctl(names[0], ['get', '--prefix', '/t/']), 'get after del'), '');
});

test('etcdctl watch on one replica sees writes made through another, with prev_kv', async () => {
  const [a, b] = c.members.map((m) => m.name);
  const w = spawn(ETCDCTL, [`--endpoints=${c.endpoint(a)}`, 'watch', '--prefix', '/w/', '--prev-kv'], { env: { ...process.env, ETCDCTL_API: '3' } });
  let out = '';
  w.stdout.on('data', (d) => (out += d));
  try {
    // The watch is established once a write through it shows up; write until then.
    await waitFor('watch established', async () => {
      ok(await c.etcdctl(b, ['put', '/w/probe', 'x']), 'probe');
      return out.includes('/w/probe');
    }, 10000, 200);
    ok(await c.etcdctl(b, ['put', '/w/a', '1']), 'put');
    ok(await c.etcdctl(b, ['put', '/w/a', '2']), 'put');
    ok(await c.etcdctl(b, ['del', '/w/a']), 'del');
    await waitFor('events', async () => out.includes('DELETE\n/w/a\n2\n/w/a\n'), 10000);
    assert.match(out, /PUT\n\/w\/a\n1\n/);
    assert.match(out, /PUT\n\/w\/a\n1\n\/w\/a\n2\n/);
  } finally {
    w.kill('SIGKILL');
  }
});

test('endpoint status and member list report the cluster', async () => {
  const out = ok(await c.etcdctl('s1', ['member', 'list']), 'member list');
  for (const m of c.members) assert.match(out, new RegExp(`started, ${m.name}, http://127.0.0.1:${m.peerPort}, http://127.0.0.1:${m.clientPort}`));
  const st = ok(await c.etcdctl('s2', ['endpoint', 'status']), 'endpoint status');
  assert.match(st, /3\.4\.23/);
});

test('SIGKILL of the leader during writes: a new leader takes over within seconds and no acknowledged write is lost; the killed replica catches up', async () => {
  const leader = await c.waitForLeader();
  const acked: string[] = [];
  let stop = false;
  let killedAt = 0;
  let firstAckAfterKill = 0;
  // Three concurrent writers, each cycling over the live replicas; a write in
  // flight at the moment of the kill may legitimately time out.
  let i = 0;
  const writer = async (): Promise<void> => {
    while (!stop) {
      const alive = c.alive().map((m) => m.name);
      const n = i++;
      const target = alive[n % alive.length];
      const key = `/kill/k${String(n).padStart(5, '0')}`;
      const r = await c.etcdctl(target, ['put', key, 'v'], { timeoutMs: 8000 });
      if (r.code === 0) {
        acked.push(key);
        const now = Date.now();
        if (killedAt && !firstAckAfterKill) firstAckAfterKill = now;
      }
    }
  };
  const writers = Promise.all([writer(), writer(), writer()]);
  await waitFor('some writes', async () => acked.length >= 10, 20000);
  killedAt = Date.now();
  await c.kill(leader, 'SIGKILL');
  const newLeader = await c.waitForLeader(10000);
  assert.notEqual(newLeader, leader);
  await waitFor('writes after the kill', async () => firstAckAfterKill > 0 && acked.length >= 25, 20000);
  stop = true;
  await writers;
  assert.ok(firstAckAfterKill - killedAt < 5000, `writes resumed ${firstAckAfterKill - killedAt}ms after the kill`);

  // Every acknowledged write is there (linearizable read via a survivor).
  const survivor = c.alive()[0].name;
  const keys = new Set(ok(await c.etcdctl(survivor, ['get', '--prefix', '/kill/', '--keys-only']), 'get').split('\n').filter(Boolean));
  for (const k of acked) assert.ok(keys.has(k), `acknowledged ${k} is missing`);

  // The killed replica restarts from its data dir and catches up (serializable = its own state).
  c.restart(leader);
  await waitFor(`${leader} catches up`, async () => {
    const r = await c.etcdctl(leader, ['get', '--prefix', '/kill/', '--keys-only', '--consistency=s']);
    if (r.code !== 0) return false;
    const mine = new Set(r.stdout.split('\n').filter(Boolean));
    return acked.every((k) => mine.has(k));
  }, 20000, 300);
  await c.waitForLeader(10000);
});

test('garbage on the peer and client ports does not crash a member', async () => {
  const net = await import('node:net');
  for (const port of [c.members[0].peerPort, c.members[0].clientPort]) {
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x04\x01\x00\x00\x00\x00\x01garbage-garbage-garbage'));
        s.write(Buffer.alloc(4096, 0xff));
        setTimeout(() => s.destroy(), 200);
      });
      s.on('error', () => {});
      s.on('close', () => resolve());
    });
  }
  assert.equal(c.alive().length, 3);
  ok(await c.etcdctl('s1', ['put', '/after-garbage', 'ok']), 'put after garbage');
});
