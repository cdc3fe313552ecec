/**
 * `coxswain proxy` as a real process against a real apiserver: a Service and
 * its EndpointSlice created through the API become a listener on the ClusterIP
 * (bound on lo) and on a NodePort; deleting the Service takes both away.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { Service } from 'kubernetes-types/core/v1';
import { ENDPOINT_SLICES, SERVICES } from '../lib/resources';
import { startControlPlane, type ControlPlane } from './lib/cluster';
import { exchange, freePort, waitFor } from './lib/util';

let cp: ControlPlane;
let backend: net.Server;
let backendPort: number;
let healthPort: number;
// A service CIDR of our own (a random 10.111.x.0/24), so this proxy never touches 10.96.0.1,
// which another cluster's proxy on this host may hold.
const subnet = `10.111.${1 + Math.floor(Math.random() * 254)}`;
// not .10, which the apiserver gives the cluster DNS Service
const clusterIP = `${subnet}.${11 + Math.floor(Math.random() * 239)}`;

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

const onLo = () => execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }).includes(` ${clusterIP}/32 `);

before(async () => {
  backend = net.createServer({ allowHalfOpen: true }, (sock) => {
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('end', () => sock.end(`echo|${Buffer.concat(chunks).toString()}`));
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.7', r));
  backendPort = (backend.address() as net.AddressInfo).port;
  cp = await startControlPlane({ store: 'etcd', serviceCidr: `${subnet}.0/24` });
  healthPort = await freePort();
  cp.startComponent('proxy', ['--port', String(healthPort), '--nodeport-addresses', '127.0.0.1', '--node-name', 'test-node', '--no-ingress']);
  await waitFor('proxy /healthz', () => httpGet(healthPort, '/healthz').then((r) => r.status === 200), 30_000);
});

after(async () => {
  await cp?.stop();
  backend?.close();
  for (const ip of [clusterIP, `${subnet}.1`]) {
    try {
      execFileSync('ip', ['addr', 'del', `${ip}/32`, 'dev', 'lo'], { stdio: 'ignore' });
    } catch {
      // already gone, as it should be
    }
  }
});

test('a Service with an EndpointSlice is served on its ClusterIP and NodePort; deleting it stops both', async () => {
  const svc = (await cp.client.create(SERVICES, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'echo', namespace: 'default' },
    spec: { type: 'NodePort', clusterIP, ports: [{ name: 'tcp', port: 7000, protocol: 'TCP' }] },
  })) as Service;
  const nodePort = svc.spec?.ports?.[0]?.nodePort;
  assert.ok(nodePort, 'the apiserver allocated a nodePort');
  // A selectorless Service's slice, written as a user (or a mirroring controller) would.
  await cp.client.create(ENDPOINT_SLICES, {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'echo-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'echo' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['127.0.0.7'], conditions: { ready: true } }],
    ports: [{ name: 'tcp', port: backendPort, protocol: 'TCP' }],
  } as never);

  const kubernetes = (await cp.client.get(SERVICES, 'kubernetes', 'default')) as Service;
  assert.equal(kubernetes.spec?.clusterIP, `${subnet}.1`);
  await waitFor('ClusterIP to answer', () => exchange(clusterIP, 7000, 'hi').then((r) => r === 'echo|hi'), 15_000, 100);
  assert.ok(onLo(), 'ClusterIP bound on lo');
  assert.equal(await exchange('127.0.0.1', nodePort!, 'np'), 'echo|np');
  const metrics = await httpGet(healthPort, '/metrics');
  assert.match(metrics.body, /coxswain_proxy_connections_total\{service="default\/echo",port="tcp",protocol="TCP"\} \d+/);

  await cp.client.delete(SERVICES, 'echo', { namespace: 'default' });
  await waitFor('ClusterIP released from lo', () => !onLo(), 15_000, 100);
  await waitFor(
    'NodePort closed',
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: nodePort! });
        s.on('connect', () => {
          s.destroy();
          resolve(false);
        });
        s.on('error', () => resolve(true));
      }),
    15_000,
    100,
  );
});
