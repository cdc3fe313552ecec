/**
 * The proxy core against real sockets: tiny TCP backends on 127.0.0.x, real
 * ClusterIPs (random 10.111.x.y) bound on lo, Services and Endpoints fed
 * straight into the Proxier (no apiserver needed).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import type { Endpoints, Service } from 'kubernetes-types/core/v1';
import pino from 'pino';
import { IpAddressManager } from '../proxy/addresses';
import { Proxier } from '../proxy/proxier';
import { exchange, freePort, waitFor } from './lib/util';

const logger = pino({ level: process.env.COXSWAIN_LOG_LEVEL ?? 'silent' });

function randomClusterIP(): string {
  return `10.111.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`;
}

function loAddresses(): string {
  return execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
}

/** A backend that reads until the client's FIN, then answers `name|request` and closes: proves half-close works. */
interface Backend {
  name: string;
  ip: string;
  port: number;
  server: net.Server;
  accepted: number;
}

async function startBackend(name: string, ip: string, port = 0): Promise<Backend> {
  const b: Backend = { name, ip, port, server: net.createServer({ allowHalfOpen: true }), accepted: 0 };
  b.server.on('connection', (sock) => {
    b.accepted++;
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('end', () => sock.end(`${name}|${Buffer.concat(chunks).toString()}`));
    sock.on('error', () => {});
  });
  await new Promise<void>((r, j) => {
    b.server.once('error', j);
    b.server.listen(port, ip, r);
  });
  b.port = (b.server.address() as net.AddressInfo).port;
  return b;
}

function connectError(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.on('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });
}

const service = (name: string, ip: string, ports: { name?: string; port: number; nodePort?: number }[], type = 'ClusterIP'): Service => ({
  metadata: { name, namespace: 'default' },
  spec: { type, clusterIP: ip, ports: ports.map((p) => ({ protocol: 'TCP', ...p })) },
});

const endpointsOf = (name: string, backends: Backend[], portName?: string): Endpoints => ({
  metadata: { name, namespace: 'default' },
  subsets: backends.length
    ? [{ addresses: backends.map((b) => ({ ip: b.ip })), ports: [{ name: portName, port: backends[0].port, protocol: 'TCP' }] }]
    : [],
});

let backends: Backend[] = [];
let proxier: Proxier;
const usedIPs = new Set<string>();
const addresses = new IpAddressManager('lo');

before(async () => {
  // All backends share one port number so one Endpoints port fits them all.
  const first = await startBackend('b1', '127.0.0.2');
  backends = [first];
  for (const [i, ip] of ['127.0.0.3', '127.0.0.4', '127.0.0.5'].entries()) backends.push(await startBackend(`b${i + 2}`, ip, first.port));
  proxier = new Proxier({ logger, addresses, nodePortAddresses: ['127.0.0.1'], bindRetryMinMs: 50, bindRetryMaxMs: 200, dialTimeoutMs: 1_000 });
});

after(async () => {
  await proxier.stop();
  for (const b of backends) b.server.close();
  for (const ip of usedIPs) await addresses.remove(ip);
});

function newIP(): string {
  let ip = randomClusterIP();
  while (usedIPs.has(ip) || loAddresses().includes(` ${ip}/`)) ip = randomClusterIP();
  usedIPs.add(ip);
  return ip;
}

test('connections to a ClusterIP round-robin across every ready backend, with half-close', async () => {
  const ip = newIP();
  proxier.upsertService(service('rr', ip, [{ name: 'http', port: 80 }]));
  proxier.upsertEndpoints(endpointsOf('rr', backends.slice(0, 3), 'http'));
  await proxier.sync();
  assert.match(loAddresses(), new RegExp(` ${ip.replace(/\./g, '\\.')}/32 `));

  const answers: string[] = [];
  for (let i = 0; i < 6; i++) answers.push(await exchange(ip, 80, `req${i}`));
  const byBackend = new Map<string, number>();
  for (const a of answers) {
    const [name, body] = a.split('|');
    assert.match(body, /^req\d$/);
    byBackend.set(name, (byBackend.get(name) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries([...byBackend].sort()), { b1: 2, b2: 2, b3: 2 });

  const metrics = await proxier.metrics.registry.metrics();
  assert.match(metrics, /coxswain_proxy_connections_total\{service="default\/rr",port="http",protocol="TCP"\} 6/);
  assert.match(metrics, /coxswain_proxy_bytes_total\{service="default\/rr",port="http",protocol="TCP",direction="in"\} 24/);
});

test('endpoint changes apply to new connections; a refusing endpoint is skipped', async () => {
  const ip = newIP();
  const dead = await freePort('127.0.0.6');
  proxier.upsertService(service('upd', ip, [{ port: 8080 }]));
  proxier.upsertEndpoints(endpointsOf('upd', [backends[3]]));
  await proxier.sync();
  assert.equal((await exchange(ip, 8080, 'x')).split('|')[0], 'b4');

  // b2 plus an address where nothing listens: every connection still lands on b2.
  proxier.upsertEndpoints({
    metadata: { name: 'upd', namespace: 'default' },
    subsets: [
      { addresses: [{ ip: backends[1].ip }], ports: [{ port: backends[1].port }] },
      { addresses: [{ ip: '127.0.0.6' }], ports: [{ port: dead }] },
    ],
  });
  await proxier.sync();
  for (let i = 0; i < 4; i++) assert.equal((await exchange(ip, 8080, 'y')).split('|')[0], 'b2');
});

test('no endpoints: the connection is closed at once', async () => {
  const ip = newIP();
  proxier.upsertService(service('empty', ip, [{ port: 80 }]));
  await proxier.sync();
  const started = Date.now();
  assert.equal(await exchange(ip, 80, 'hello'), '');
  assert.ok(Date.now() - started < 1_000);
  assert.match(await proxier.metrics.registry.metrics(), /coxswain_proxy_errors_total\{service="default\/empty",port="",protocol="TCP",reason="no_endpoints"\} 1/);
});

test('NodePort services also listen on the nodeport address', async () => {
  const ip = newIP();
  const nodePort = await freePort();
  proxier.upsertService(service('np', ip, [{ port: 80, nodePort }], 'NodePort'));
  proxier.upsertEndpoints(endpointsOf('np', [backends[0]]));
  await proxier.sync();
  assert.equal(await exchange('127.0.0.1', nodePort, 'via-nodeport'), 'b1|via-nodeport');
  assert.equal(await exchange(ip, 80, 'via-clusterip'), 'b1|via-clusterip');
});

test('changing a port moves the listener; deleting the service closes it, drops its connections and releases the IP', async () => {
  const ip = newIP();
  proxier.upsertService(service('gone', ip, [{ port: 80 }]));
  proxier.upsertEndpoints(endpointsOf('gone', [backends[0]]));
  await proxier.sync();
  assert.equal(await exchange(ip, 80, 'a'), 'b1|a');

  proxier.upsertService(service('gone', ip, [{ port: 81 }]));
  await proxier.sync();
  assert.equal(await connectError(ip, 80), 'ECONNREFUSED');
  assert.equal(await exchange(ip, 81, 'b'), 'b1|b');

  // A long-lived connection (not half-closed) is dropped when the service goes.
  const open = net.connect({ host: ip, port: 81 });
  const closed = new Promise<void>((r) => open.on('close', () => r()));
  open.on('error', () => {});
  await new Promise((r) => open.on('connect', r));
  await waitFor('connection proxied', () => proxier.status().some((s) => s.key === `TCP/${ip}:81` && s.activeConnections === 1));

  proxier.deleteService(service('gone', ip, []));
  proxier.deleteEndpoints(endpointsOf('gone', []));
  await proxier.sync();
  await closed;
  assert.ok(!proxier.status().some((s) => s.key.includes(ip)));
  assert.doesNotMatch(loAddresses(), new RegExp(` ${ip.replace(/\./g, '\\.')}/32 `));
});

test('a port in use is logged and retried until it frees up, without failing the sync', async () => {
  const ip = newIP();
  const nodePort = await freePort();
  const squatter = net.createServer();
  await new Promise<void>((r) => squatter.listen(nodePort, '127.0.0.1', r));

  proxier.upsertService(service('busy', ip, [{ port: 80, nodePort }], 'NodePort'));
  proxier.upsertEndpoints(endpointsOf('busy', [backends[2]]));
  await proxier.sync();
  const key = `TCP/127.0.0.1:${nodePort}`;
  assert.equal(proxier.status().find((s) => s.key === key)?.state, 'failed');
  assert.equal(await exchange(ip, 80, 'cip'), 'b3|cip', 'the ClusterIP listener is unaffected');

  await new Promise((r) => squatter.close(r));
  await waitFor('nodeport to bind after retry', () => proxier.status().find((s) => s.key === key)?.state === 'listening');
  assert.equal(await exchange('127.0.0.1', nodePort, 'np'), 'b3|np');
  assert.match(await proxier.metrics.registry.metrics(), /reason="bind_failed"/);
});

test('an address that was on lo before the proxy bound it is left there on release', async () => {
  const ip = newIP();
  await addresses.ensure(ip);
  proxier.upsertService(service('shared', ip, [{ port: 80 }]));
  proxier.upsertEndpoints(endpointsOf('shared', [backends[0]]));
  await proxier.sync();
  assert.equal(await exchange(ip, 80, 's'), 'b1|s');
  proxier.deleteService(service('shared', ip, []));
  await proxier.sync();
  assert.match(loAddresses(), new RegExp(` ${ip.replace(/\./g, '\\.')}/32 `), 'still bound: not ours to remove');
  await addresses.remove(ip);
});
