import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient, FencedWriteError } from './client';

/** A loopback server that records what reached it and answers {}. */
async function recorder(): Promise<{ seen: string[]; url: string; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers['user-agent']}`);
    req.resume();
    req.on('end', () => res.setHeader('Content-Type', 'application/json').end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { seen, url, close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

test('a fenced client sends writes only while its fence is open; reads and unfenced requests always', async () => {
  const srv = await recorder();
  const client = new ApiClient({ server: srv.url });
  let open = false;
  client.fenceWrites(() => open, 'not the leader');
  await assert.rejects(client.request('POST', '/api/v1/namespaces/default/pods/p/binding', { body: {} }), (err: Error) => err instanceof FencedWriteError && /not sent: not the leader/.test(err.message));
  await client.request('GET', '/api/v1/pods');
  await client.request('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x', { body: {}, unfenced: true });
  open = true;
  await client.request('DELETE', '/api/v1/namespaces/default/pods/p');
  assert.deepEqual(srv.seen.map((l) => l.split(' ').slice(0, 2).join(' ')), [
    'GET /api/v1/pods',
    'PUT /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x',
    'DELETE /api/v1/namespaces/default/pods/p',
  ]);
  assert.match(srv.seen[0], / coxswain\/\d+\.\d+\.\d+ \(\w+; pid \d+\)$/, 'the User-Agent names the process');
  client.close();
  await srv.close();
});

test('a write whose connection comes up after the fence closed is not sent', async () => {
  const srv = await recorder();
  const client = new ApiClient({ server: srv.url });
  let open = true;
  client.fenceWrites(() => open, 'not the leader');
  // passes the first check, then the process "freezes" before its new connection is up
  const write = client.request('POST', '/api/v1/namespaces/default/pods/p/binding', { body: {} });
  open = false;
  await assert.rejects(write, FencedWriteError);
  open = true;
  await client.request('POST', '/api/v1/namespaces/default/pods/q/binding', { body: {} });
  open = false;
  // refused before anything is sent when the fence is already closed
  await assert.rejects(client.request('POST', '/api/v1/namespaces/default/pods/r/binding', { body: {} }), FencedWriteError);
  assert.deepEqual(srv.seen.map((l) => l.split(' ')[1]), ['/api/v1/namespaces/default/pods/q/binding']);
  client.close();
  await srv.close();
});
