/**
 * The proxy's LoadBalancer part against real sockets, without an apiserver: a pool address
 * (ipMode VIP) is bound on lo and answers at the Service port, another node's address (ipMode
 * Proxy) is neither bound nor listened on, and the healthCheckNodePort of an
 * externalTrafficPolicy Local Service answers 200/503 as this node's endpoints come and go.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { Endpoints, Service } from 'kubernetes-types/core/v1';
import pino from 'pino';
import { IpAddressManager } from '../proxy/addresses';
import { Proxier } from '../proxy/proxier';
import { exchange, freePort } from './lib/util';

const logger = pino({ level: process.env.COXSWAIN_LOG_LEVEL ?? 'silent' });
const rnd = () => 1 + Math.floor(Math.random() * 250);
const CLUSTER_IP = `10.111.${rnd()}.${rnd()}`;
/** TEST-NET-2 addresses: the pool one is put on lo by the proxy; the other node's is never touched. */
const POOL_IP = `198.51.100.${rnd()}`;
const OTHER_NODE_IP = `203.0.113.${rnd()}`;
const onLo = (ip: string) => execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }).includes(` ${ip}/32 `);

let backend: net.Server;
let backendPort: number;
let proxier: Proxier;

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/anything', agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
}

before(async () => {
  backend = net.createServer({ allowHalfOpen: true }, (sock) => {
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('end', () => sock.end(`lb|${Buffer.concat(chunks).toString()}`));
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendPort = (backend.address() as net.AddressInfo).port;
  proxier = new Proxier({ logger, addresses: new IpAddressManager('lo'), nodePortAddresses: ['127.0.0.1'], nodeName: 'me', localAddresses: () => ['127.0.0.1'] });
});

after(async () => {
  await proxier?.stop();
  backend?.close();
  for (const ip of [CLUSTER_IP, POOL_IP]) {
    try {
      execFileSync('ip', ['addr', 'del', `${ip}/32`, 'dev', 'lo'], { stdio: 'ignore' });
    } catch {
      // released by the proxy, as it should be
    }
  }
});

test('pool address bound on lo and served; another node’s address skipped; healthCheckNodePort follows local endpoints', async () => {
  const port = await freePort();
  const hc = await freePort();
  const svc: Service = {
    metadata: { name: 'web', namespace: 'default' },
    spec: { type: 'LoadBalancer', clusterIP: CLUSTER_IP, externalTrafficPolicy: 'Local', healthCheckNodePort: hc, ports: [{ port, protocol: 'TCP' }] },
    status: { loadBalancer: { ingress: [{ ip: POOL_IP, ipMode: 'VIP' }, { ip: OTHER_NODE_IP, ipMode: 'Proxy' }] } },
  };
  const eps = (nodeName: string): Endpoints => ({
    metadata: { name: 'web', namespace: 'default' },
    subsets: [{ addresses: [{ ip: '127.0.0.1', nodeName }], ports: [{ port: backendPort, protocol: 'TCP' }] }],
  });
  proxier.upsertService(svc);
  proxier.upsertEndpoints(eps('me'));
  await proxier.sync();

  assert.ok(onLo(POOL_IP), 'pool address on lo');
  assert.ok(!onLo(OTHER_NODE_IP), 'another node’s address left alone');
  assert.equal(await exchange(POOL_IP, port, 'hi'), 'lb|hi');
  assert.deepEqual(proxier.status().filter((l) => l.kind === 'LoadBalancer').map((l) => l.key), [`TCP/${POOL_IP}:${port}`]);
  let r = await get(hc);
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { service: { namespace: 'default', name: 'web' }, localEndpoints: 1, serviceProxyHealthy: true });

  // the endpoint moves to another node: the LoadBalancer address drops the connection, the ClusterIP still serves
  proxier.upsertEndpoints(eps('elsewhere'));
  await proxier.sync();
  r = await get(hc);
  assert.equal(r.status, 503);
  assert.equal(JSON.parse(r.body).localEndpoints, 0);
  assert.equal(await exchange(POOL_IP, port, 'hi').catch(() => ''), '', 'no local endpoint: dropped');
  assert.equal(await exchange(CLUSTER_IP, port, 'in'), 'lb|in');

  proxier.deleteService(svc);
  await proxier.sync();
  assert.ok(!onLo(POOL_IP), 'pool address released with the Service');
  assert.ok(await refused('127.0.0.1', hc), 'health check port closed');
});
