/**
 * The Ingress server's real code (IngressConfig, ReverseProxy, IngressListeners)
 * on loopback, in front of local HTTP and WebSocket backends: routing and
 * status codes, forwarded headers, streamed bodies, keep-alive reuse,
 * WebSocket pass-through, TLS by SNI from Secrets (with a bad Secret falling
 * back to the default certificate and a Warning event), and a taken port.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import pino from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import type { Secret } from 'kubernetes-types/core/v1';
import type { Ingress } from 'kubernetes-types/networking/v1';
import { COXSWAIN_INGRESS_CLASS_OBJECT } from '../../lib/ingress-class';
import { createCA, issueCert, type KeyPairPem } from '../../lib/pki';
import type { KubeObject } from '../../lib/client';
import type { Backend } from '../desired';
import { selfSignedCertificate } from './certs';
import { IngressConfig } from './config';
import { IngressListeners } from './listeners';
import { ReverseProxy } from './reverse-proxy';

const logger = pino({ level: 'silent' });
const events: { obj: KubeObject; type: string; reason: string; message: string }[] = [];
let config: IngressConfig;
let listeners: IngressListeners;
let httpPort = 0;
let httpsPort = 0;
const backends = new Map<string, Backend[]>();
const servers: http.Server[] = [];
/** Remote ports of the connections each backend accepted (keep-alive shows as reuse). */
const accepted: number[] = [];
let defaultCert: KeyPairPem;
let ca: KeyPairPem;

async function backend(name: string): Promise<Backend> {
  const s = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, body, remotePort: req.socket.remotePort }));
    });
  });
  s.on('connection', (c) => accepted.push(c.remotePort ?? 0));
  new WebSocketServer({ server: s }).on('connection', (ws, req) => ws.on('message', (m) => ws.send(`${name} echo ${m.toString()} via ${req.headers['x-forwarded-proto']}`)));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return { ip: '127.0.0.1', port: (s.address() as net.AddressInfo).port, ready: true, serving: true, terminating: false };
}

const ingress = (name: string, spec: Ingress['spec'], created = '2026-01-01T00:00:00Z'): Ingress => ({ metadata: { name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: created }, spec });
const tlsSecret = (name: string, pair: KeyPairPem, rv: string): Secret => ({
  metadata: { name, namespace: 'default', resourceVersion: rv },
  type: 'kubernetes.io/tls',
  data: { 'tls.crt': Buffer.from(pair.cert).toString('base64'), 'tls.key': Buffer.from(pair.key).toString('base64') },
});

function get(path: string, host: string, opts: { agent?: http.Agent; method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: httpPort, path, method: opts.method ?? 'GET', headers: { Host: host, ...opts.headers }, agent: opts.agent }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function servedCert(servername: string | undefined): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: httpsPort, servername, rejectUnauthorized: false }, () => {
      const c = s.getPeerX509Certificate();
      s.end();
      if (c) resolve(c);
      else reject(new Error('no certificate'));
    });
    s.on('error', reject);
  });
}

before(async () => {
  backends.set('default/web:', [await backend('web-a'), await backend('web-b')]);
  backends.set('default/api:http', [await backend('api')]);
  backends.set('default/empty:', []);
  defaultCert = await selfSignedCertificate();
  ca = await createCA('test-ca');
  config = new IngressConfig({ logger, events: { event: (obj, type, reason, message) => events.push({ obj, type, reason, message }) }, defaultContext: tls.createSecureContext(defaultCert) });
  const proxy = new ReverseProxy({
    logger,
    routes: () => config.routes(),
    lookup: (ref) => {
      const target = ref.service === 'api' ? 'default/api:http' : `${ref.namespace}/${ref.service}:`;
      if (ref.service === 'api' && ref.port.name !== 'http') return undefined;
      const b = backends.get(target);
      return b ? { target, backends: b } : undefined;
    },
  });
  listeners = new IngressListeners({ logger, addresses: ['127.0.0.1'], httpPort: 0, httpsPort: 0, proxy, sni: (n) => config.sni(n), defaultCert });
  await listeners.start();
  httpPort = listeners.boundPort('http')!;
  httpsPort = listeners.boundPort('https')!;
  config.upsertClass(COXSWAIN_INGRESS_CLASS_OBJECT);
  config.upsertIngress(ingress('site', {
    rules: [
      { host: 'app.test', http: { paths: [
        { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
        { path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { name: 'http' } } } },
        { path: '/down', pathType: 'Exact', backend: { service: { name: 'empty', port: { number: 80 } } } },
        { path: '/gone', pathType: 'Exact', backend: { service: { name: 'nosuch', port: { number: 80 } } } },
      ] } },
    ],
    tls: [{ hosts: ['app.test'], secretName: 'app-tls' }, { hosts: ['bad.test'], secretName: 'bad-tls' }],
  }));
  config.upsertIngress({ ...ingress('other-class', { defaultBackend: { service: { name: 'web', port: { number: 80 } } } }), spec: { ingressClassName: 'nginx', defaultBackend: { service: { name: 'web', port: { number: 80 } } } } });
});

after(async () => {
  await listeners?.stop();
  for (const s of servers) s.close();
});

test('routes by host and path; 404 when nothing matches; 503 without endpoints or Service; round robin', async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) seen.add(JSON.parse((await get('/x', 'app.test')).body).name);
  assert.deepEqual([...seen].sort(), ['web-a', 'web-b']);
  const api = await get('/api/v1?q=1', 'app.test');
  assert.equal(api.status, 200);
  assert.equal(JSON.parse(api.body).name, 'api');
  assert.equal(JSON.parse(api.body).url, '/api/v1?q=1');
  assert.equal((await get('/apix', 'app.test')).status, 200);
  assert.equal(JSON.parse((await get('/apix', 'app.test')).body).name.startsWith('web'), true);
  assert.equal((await get('/', 'other.test')).status, 404, 'the nginx-class Ingress\'s defaultBackend is not ours');
  assert.equal((await get('/down', 'app.test')).status, 503);
  assert.equal((await get('/gone', 'app.test')).status, 503);
});

test('headers: Host kept, X-Forwarded-* set, hop-by-hop removed both ways, Set-Cookie kept', async () => {
  const r = await get('/h', 'app.test', { headers: { 'X-Forwarded-For': '192.0.2.1', 'X-Forwarded-Proto': 'https', Connection: 'keep-alive, X-Hop', 'X-Hop': '1' } });
  const h = JSON.parse(r.body).headers as Record<string, string>;
  assert.equal(h.host, 'app.test');
  assert.equal(h['x-forwarded-for'], '192.0.2.1, 127.0.0.1');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-host'], 'app.test');
  assert.equal(h['x-forwarded-port'], String(httpPort));
  assert.equal(h['x-hop'], undefined);
  assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
});

test('request bodies are streamed to the backend (chunked and with a length)', async () => {
  const big = 'x'.repeat(1 << 20);
  const r = await get('/upload', 'app.test', { method: 'POST', body: big });
  assert.equal(JSON.parse(r.body).body.length, big.length);
  const chunked = await new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: httpPort, path: '/c', method: 'PUT', headers: { Host: 'app.test' } }, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve(b));
    });
    req.on('error', reject);
    req.write('part1,');
    setImmediate(() => req.end('part2'));
  });
  assert.equal(JSON.parse(chunked).body, 'part1,part2');
});

test('connections to backends are kept alive and reused', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  await get('/warm', 'app.test', { agent });
  await get('/warm', 'app.test', { agent });
  const before = accepted.length;
  for (let i = 0; i < 10; i++) await get('/again', 'app.test', { agent });
  assert.equal(accepted.length, before, 'no new backend connections for 10 more requests');
  agent.destroy();
});

test('a backend that is down: 502', async () => {
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const port = (dead.address() as net.AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const saved = backends.get('default/api:http')!;
  backends.set('default/api:http', [{ ip: '127.0.0.1', port, ready: true, serving: true, terminating: false }]);
  try {
    assert.equal((await get('/api', 'app.test')).status, 502);
  } finally {
    backends.set('default/api:http', saved);
  }
});

test('WebSocket upgrade passes through, both ways', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/api/ws`, { headers: { Host: 'app.test' } });
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', reject);
  });
  const reply = new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString())));
  ws.send('hello');
  assert.equal(await reply, 'api echo hello via http');
  ws.close();
  const refused = await new Promise<number>((resolve) => {
    const w = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`, { headers: { Host: 'nowhere.test' } });
    w.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    w.on('error', () => resolve(-1));
  });
  assert.equal(refused, 404);
});

test('TLS: the Secret\'s certificate by SNI, reloaded on change; a bad Secret falls back to the default with a Warning event', async () => {
  const v1 = await issueCert(ca, { commonName: 'app.test', dnsNames: ['app.test'], server: true });
  config.upsertSecret(tlsSecret('app-tls', v1, '10'));
  config.upsertSecret({ ...tlsSecret('bad-tls', v1, '11'), data: { 'tls.crt': Buffer.from('garbage').toString('base64'), 'tls.key': Buffer.from(v1.key).toString('base64') } });
  const first = await servedCert('app.test');
  assert.equal(first.serialNumber, new X509Certificate(v1.cert).serialNumber);
  const v2 = await issueCert(ca, { commonName: 'app.test', dnsNames: ['app.test'], server: true });
  config.upsertSecret(tlsSecret('app-tls', v2, '12'));
  assert.equal((await servedCert('app.test')).serialNumber, new X509Certificate(v2.cert).serialNumber);
  const dflt = new X509Certificate(defaultCert.cert).serialNumber;
  assert.equal((await servedCert('bad.test')).serialNumber, dflt);
  assert.equal((await servedCert('unknown.test')).serialNumber, dflt);
  assert.equal((await servedCert(undefined)).serialNumber, dflt);
  const warn = events.find((e) => e.reason === 'InvalidTLSSecret' && e.message.includes('bad-tls: data'));
  assert.ok(warn, 'a Warning event');
  assert.equal(warn.type, 'Warning');
  assert.equal(warn.obj.metadata?.name, 'site');
  assert.match(warn.message, /default\/bad-tls: data\[tls\.crt\] is not a PEM certificate/);
  assert.ok(events.some((e) => /default\/app-tls: not found/.test(e.message)), 'a Secret that did not exist yet was reported too');
  const n = events.length;
  config.upsertSecret({ ...tlsSecret('app-tls', v2, '12') });
  config.refresh();
  assert.equal(events.length, n, 'no repeat of the same problem');
  // HTTPS requests route like HTTP ones, with X-Forwarded-Proto https
  const body = await new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: httpsPort, path: '/p', headers: { Host: 'app.test' }, createConnection: () => tls.connect({ host: '127.0.0.1', port: httpsPort, servername: 'app.test', ca: ca.cert }) }, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve(b));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(JSON.parse(body).headers['x-forwarded-proto'], 'https');
});

test('a taken port is reported and retried; the other listener serves', async () => {
  const squatter = net.createServer();
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  const taken = (squatter.address() as net.AddressInfo).port;
  const failures: string[] = [];
  const proxy = new ReverseProxy({ logger, routes: () => config.routes(), lookup: () => undefined });
  const l = new IngressListeners({ logger, addresses: ['127.0.0.1'], httpPort: taken, httpsPort: 0, proxy, sni: (n) => config.sni(n), defaultCert, retryMinMs: 10, retryMaxMs: 20, onBindFailure: (a, p, proto, err) => failures.push(`${a}:${p} ${proto} ${(err as NodeJS.ErrnoException).code}`) });
  await l.start();
  try {
    assert.deepEqual(failures, [`127.0.0.1:${taken} http EADDRINUSE`]);
    assert.deepEqual(l.status().map((s) => `${s.proto} ${s.state}`), ['http failed', 'https listening']);
    await new Promise<void>((r) => squatter.close(() => r()));
    while (l.status()[0]!.state !== 'listening') await new Promise((r) => setTimeout(r, 10));
    assert.equal(failures.length, 1, 'one report, not one per retry');
  } finally {
    await l.stop();
    squatter.close();
  }
});
