import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import pino from 'pino';
import { FakeClock } from '../lib/fake-clock';
import { RoundRobin } from './balancer';
import type { Backend } from './desired';
import { ProxyMetrics } from './metrics';
import { udpListener, UdpListener } from './udp';

/** Real sockets on loopback: UDP echo backends that prefix their name, and a UDP listener in front of them. */
const backends: { name: string; sock: dgram.Socket; b: Backend }[] = [];
let list: Backend[] = [];
const clock = new FakeClock();
const metrics = new ProxyMetrics();
let listener: UdpListener;

async function echo(name: string, ip: string) {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (m, r) => sock.send(Buffer.concat([Buffer.from(`${name}|`), m]), r.port, r.address));
  await new Promise<void>((r) => sock.bind(0, ip, r));
  backends.push({ name, sock, b: { ip, port: sock.address().port, ready: true, serving: true, terminating: false } });
}

function client() {
  const sock = dgram.createSocket('udp4');
  const inbox: { msg: string; from: string }[] = [];
  const waiters: (() => void)[] = [];
  sock.on('message', (m, r) => {
    inbox.push({ msg: m.toString(), from: `${r.address}:${r.port}` });
    waiters.splice(0).forEach((w) => w());
  });
  return {
    sock,
    async ask(text: string): Promise<{ msg: string; from: string }> {
      const n = inbox.length;
      sock.send(text, listener.spec.port, listener.spec.address);
      while (inbox.length <= n) await new Promise<void>((r) => waiters.push(r));
      return inbox[n]!;
    },
  };
}

before(async () => {
  await echo('a', '127.0.0.2');
  await echo('b', '127.0.0.3');
  list = backends.map((x) => x.b);
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
  const port = probe.address().port;
  probe.close();
  const factory = udpListener({ clock, idleTimeoutMs: 30_000, maxFlows: 3 });
  listener = factory(
    { key: `UDP/127.0.0.1:${port}`, protocol: 'UDP', address: '127.0.0.1', port, target: 'ns/echo:', kind: 'ClusterIP' },
    { backends: () => list, balancer: new RoundRobin(), metrics, logger: pino({ level: 'silent' }), dialTimeoutMs: 1000, maxDialAttempts: 1 },
  ) as UdpListener;
  await listener.listen();
});

after(async () => {
  await listener.close();
  for (const b of backends) b.sock.close();
});

test('a client is one flow to one backend; replies come from the Service address; another client port is another flow', async () => {
  const c1 = client();
  const first = await c1.ask('hi');
  assert.equal(first.from, `127.0.0.1:${listener.spec.port}`, 'reply from the Service address');
  const name = first.msg.split('|')[0];
  for (let i = 0; i < 5; i++) assert.equal((await c1.ask(`n${i}`)).msg, `${name}|n${i}`);
  const c2 = client();
  assert.notEqual((await c2.ask('x')).msg.split('|')[0], name, 'round robin for the next flow');
  assert.equal(listener.activeConnections, 2);
  c1.sock.close();
  c2.sock.close();
});

test('idle flows close after the timeout; a full table evicts the least recently active and counts it', async () => {
  clock.advance(30_000);
  assert.equal(listener.activeConnections, 0);
  const cs = [client(), client(), client(), client()];
  for (const c of cs) await c.ask('x');
  assert.equal(listener.activeConnections, 3);
  assert.match(await metrics.registry.metrics(), /coxswain_proxy_udp_flows_evicted_total 1/);
  for (const c of cs) c.sock.close();
});

test('a flow whose backend left the ready list moves to a ready one', async () => {
  const c = client();
  const name = (await c.ask('x')).msg.split('|')[0];
  list = backends.filter((x) => x.name !== name).map((x) => x.b);
  assert.notEqual((await c.ask('y')).msg.split('|')[0], name);
  list = backends.map((x) => x.b);
  c.sock.close();
});

test('NetworkPolicy: a flow opens only to a backend the policy admits for this client; none admitted drops the datagram', async () => {
  const admitted: string[] = [];
  const ctx = {
    backends: () => list,
    balancer: new RoundRobin(),
    metrics: new ProxyMetrics(),
    logger: pino({ level: 'silent' }),
    dialTimeoutMs: 1000,
    maxDialAttempts: 1,
    admits: (client: string, b: Backend, protocol: string) => {
      admitted.push(`${client}>${b.ip}/${protocol}`);
      return b.ip === '127.0.0.3';
    },
  };
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
  const port = probe.address().port;
  probe.close();
  const l = udpListener({ clock: new FakeClock() })({ key: `UDP/127.0.0.1:${port}`, protocol: 'UDP', address: '127.0.0.1', port, target: 'ns/p:', kind: 'ClusterIP' }, ctx) as UdpListener;
  await l.listen();
  const saved = listener;
  listener = l;
  try {
    const c = client();
    for (let i = 0; i < 3; i++) assert.equal((await c.ask(`p${i}`)).msg.split('|')[0], 'b', 'only the admitted backend');
    c.sock.close();
    assert.ok(admitted.includes('127.0.0.1>127.0.0.2/UDP'));
    ctx.admits = () => false;
    const d = client();
    d.sock.send('x', port, '127.0.0.1');
    await until(async () => /reason="policy_denied"\} 1/.test(await ctx.metrics.registry.metrics()));
    assert.equal(l.activeConnections, 1, 'no flow for the refused client');
    d.sock.close();
  } finally {
    listener = saved;
    await l.close();
  }
});

/** Polls a condition on the event loop (no fixed sleep decides the outcome). */
async function until(cond: () => Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((r) => setImmediate(r));
}
