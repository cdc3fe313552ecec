/**
 * The proxy's NetworkPolicy check on real sockets, no apiserver: a Proxier
 * whose `admits` is a NetworkPolicyEnforcer fed pods and a policy directly.
 * "Pods" are loopback addresses (127.0.0.x): clients connect from their pod
 * address to a ClusterIP listener, and the backends a policy refuses to that
 * client are never dialled.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1';
import pino from 'pino';
import { NoopAddressManager } from '../proxy/addresses';
import { NetworkPolicyEnforcer } from '../proxy/netpol/enforcer';
import { Proxier } from '../proxy/proxier';
import { freePort, waitFor } from './lib/util';

const logger = pino({ level: process.env.COXSWAIN_LOG_LEVEL ?? 'silent' });
const CLUSTER_IP = '127.0.0.50';
const servers: net.Server[] = [];
let port = 0;
let backendPort = 0;
let proxier: Proxier;
const enforcer = new NetworkPolicyEnforcer({ nodeName: 'n1', logger, localAddresses: () => [] });

const pod = (name: string, ip: string, app: string): Pod => ({
  metadata: { namespace: 'default', name, labels: { app } },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] },
  status: { phase: 'Running', podIP: ip },
});

/** Connects from `from` and reads what the backend answers (its name), or '' when the proxy closes the connection. */
function ask(from: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: CLUSTER_IP, port, localAddress: from });
    let got = '';
    s.on('data', (c) => (got += c));
    s.on('close', () => resolve(got));
    s.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve(got) : reject(err)));
  });
}

before(async () => {
  backendPort = await freePort();
  for (const [name, ip] of [['b8', '127.0.0.8'], ['b9', '127.0.0.9']]) {
    const srv = net.createServer((sock) => sock.end(name));
    await new Promise<void>((r) => srv.listen(backendPort, ip, r));
    servers.push(srv);
  }
  port = await freePort();
  proxier = new Proxier({ logger, addresses: new NoopAddressManager(), admits: (c, b, p) => enforcer.admits(c, b, p) });
  for (const p of [pod('b8', '127.0.0.8', 'web'), pod('b9', '127.0.0.9', 'web-canary'), pod('cli', '127.0.0.20', 'cli'), pod('oth', '127.0.0.21', 'oth')]) enforcer.upsert('pod', p);
  const svc: Service = { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: CLUSTER_IP, ports: [{ protocol: 'TCP', port }] } };
  const eps: Endpoints = { metadata: { name: 'web', namespace: 'default' }, subsets: [{ addresses: [{ ip: '127.0.0.8' }, { ip: '127.0.0.9' }], ports: [{ port: backendPort, protocol: 'TCP' }] }] };
  proxier.upsertService(svc);
  proxier.upsertEndpoints(eps);
  await proxier.sync();
  await waitFor('listener', () => proxier.status().some((s) => s.state === 'listening'), 5_000);
});

after(async () => {
  await proxier?.stop();
  await enforcer.stop();
  for (const s of servers) s.close();
});

test('no policy: the proxy balances over both backends for every client', async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) seen.add(await ask('127.0.0.20'));
  assert.deepEqual([...seen].sort(), ['b8', 'b9']);
});

test('a backend whose ingress refuses the client is skipped; one refusing everybody closes the connection', async () => {
  const onlyOth: NetworkPolicy = {
    metadata: { namespace: 'default', name: 'canary' },
    spec: { podSelector: { matchLabels: { app: 'web-canary' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'oth' } } }] }] },
  };
  enforcer.upsert('policy', onlyOth);
  for (let i = 0; i < 4; i++) assert.equal(await ask('127.0.0.20'), 'b8', 'cli never reaches the canary');
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) seen.add(await ask('127.0.0.21'));
  assert.deepEqual([...seen].sort(), ['b8', 'b9'], 'oth reaches both');
  const cliEgress: NetworkPolicy = { metadata: { namespace: 'default', name: 'cli-out' }, spec: { podSelector: { matchLabels: { app: 'cli' } }, policyTypes: ['Egress'] } };
  enforcer.upsert('policy', cliEgress);
  assert.equal(await ask('127.0.0.20'), '', 'cli may reach nothing: closed without an answer');
  enforcer.remove('policy', cliEgress);
  enforcer.remove('policy', onlyOth);
  const again = new Set<string>();
  for (let i = 0; i < 4; i++) again.add(await ask('127.0.0.20'));
  assert.deepEqual([...again].sort(), ['b8', 'b9']);
});
