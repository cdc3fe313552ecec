import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import pino from 'pino';
import { ApiserverBalancer, tryOrder } from './apiserver-balancer';

test('try order: healthy upstreams first, round robin from `next`, the down ones last', () => {
  const ups = [{ failures: 0 }, { failures: 2 }, { failures: 0 }];
  assert.deepEqual(tryOrder(ups, 0, 2), [0, 2, 1]);
  assert.deepEqual(tryOrder(ups, 2, 2), [2, 0, 1]);
  assert.deepEqual(tryOrder([{ failures: 5 }], 0, 2), [0]);
});

/** A TCP server that answers each connection with its name, then keeps it open. */
async function namedServer(name: string): Promise<{ server: net.Server; address: string; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.write(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, sockets };
}

function ask(port: number): Promise<{ name: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('data', (d) => resolve({ name: d.toString(), socket: s }));
    s.on('error', reject);
  });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('connections are spread over the apiservers; one that stops answering is skipped and its connections closed', async () => {
  const a = await namedServer('a');
  const b = await namedServer('b');
  const lb = new ApiserverBalancer({ host: '127.0.0.1', port: 0, probeMs: 50, connectTimeoutMs: 200 }, [a.address, b.address], pino({ level: 'silent' }));
  // port 0: find the port the balancer got
  await lb.start();
  const port = { port: lb.port() };
  const first = await ask(port.port);
  const second = await ask(port.port);
  assert.deepEqual([first.name, second.name].sort(), ['a', 'b'], 'round robin over both');
  const onA = first.name === 'a' ? first : second;
  const closed = new Promise<void>((r) => onA.socket.once('close', () => r()));
  // a stops: its listener closes and its open connection is held (no reset), like a cut host
  a.server.close();
  await closed;
  for (let i = 0; i < 4; i++) {
    const c = await ask(port.port);
    assert.equal(c.name, 'b', 'new connections go to the live apiserver');
    c.socket.destroy();
  }
  lb.setUpstreams([]);
  assert.deepEqual(lb.addresses(), [a.address, b.address], 'an empty list is ignored');
  lb.setUpstreams([b.address]);
  assert.deepEqual(lb.addresses(), [b.address]);
  first.socket.destroy();
  second.socket.destroy();
  await lb.close();
  b.server.close();
  for (const s of b.sockets) s.destroy();
  await until('b closed', () => b.sockets.size === 0);
});
