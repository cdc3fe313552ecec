/**
 * The Proxier after a restart and with a port it cannot bind, against the real
 * `lo` (random 10.111.x.0/24 ranges of its own) and real sockets, no apiserver:
 * labelled ClusterIPs a previous run left behind are adopted and removed when
 * no Service wants them, others' addresses are left alone; a taken port gives
 * one FailedToBind event however often it is retried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import type { Service } from 'kubernetes-types/core/v1';
import pino from 'pino';
import { parseCidr } from '../lib/ipv4';
import { IpAddressManager } from '../proxy/addresses';
import { Proxier } from '../proxy/proxier';
import { waitFor } from './lib/util';

const logger = pino({ level: process.env.COXSWAIN_LOG_LEVEL ?? 'silent' });
const subnet = `10.111.${1 + Math.floor(Math.random() * 254)}`;
const cidr = `${subnet}.0/24`;
const lo = () => execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
const has = (ip: string) => lo().includes(` ${ip}/32 `);
const del = (ip: string) => {
  try {
    execFileSync('ip', ['addr', 'del', `${ip}/32`, 'dev', 'lo'], { stdio: 'ignore' });
  } catch {
    // not there
  }
};

const service = (name: string, ip: string, ports: { port: number; nodePort?: number }[], type = 'ClusterIP'): Service => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: { type, clusterIP: ip, ports: ports.map((p) => ({ protocol: 'TCP', ...p })) },
});

test('a restarted proxy adopts its labelled ClusterIPs in the service CIDR and removes the unwanted ones', async () => {
  const [orphan, wanted, foreign, outside] = [`${subnet}.10`, `${subnet}.11`, `${subnet}.12`, `10.111.0.250`];
  // What a killed proxy left: two labelled addresses; plus one someone else added without the label, and a labelled one outside the range.
  execFileSync('ip', ['addr', 'add', `${orphan}/32`, 'dev', 'lo', 'label', 'lo:coxswain']);
  execFileSync('ip', ['addr', 'add', `${wanted}/32`, 'dev', 'lo', 'label', 'lo:coxswain']);
  execFileSync('ip', ['addr', 'add', `${foreign}/32`, 'dev', 'lo']);
  const addedOutside = !has(outside);
  if (addedOutside) execFileSync('ip', ['addr', 'add', `${outside}/32`, 'dev', 'lo', 'label', 'lo:coxswain']);
  const proxier = new Proxier({ logger, addresses: new IpAddressManager('lo', parseCidr(cidr)), nodePortAddresses: [] });
  try {
    proxier.upsertService(service('kept', wanted, [{ port: 80 }]));
    assert.deepEqual((await proxier.adoptOwnedAddresses()).sort(), [orphan, wanted].sort());
    await proxier.sync();
    assert.ok(!has(orphan), 'the address of a Service deleted meanwhile is gone');
    assert.ok(has(wanted) && has(foreign) && has(outside), 'wanted, unlabelled and out-of-range addresses stay');
    proxier.deleteService(service('kept', wanted, [{ port: 80 }]));
    await proxier.sync();
    assert.ok(!has(wanted), 'an adopted address is released like one added in this run');
  } finally {
    await proxier.stop();
    for (const ip of [orphan, wanted, foreign, ...(addedOutside ? [outside] : [])]) del(ip);
  }
});

test('a port taken on the node: one FailedToBind event on the Service, retries continue, other listeners work', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  const events: { name?: string; type: string; reason: string; message: string }[] = [];
  const proxier = new Proxier({
    logger,
    nodeName: 'n1',
    addresses: new IpAddressManager('lo', parseCidr(cidr)),
    nodePortAddresses: ['127.0.0.1'],
    bindRetryMinMs: 20,
    bindRetryMaxMs: 40,
    events: { event: (svc, type, reason, message) => events.push({ name: svc.metadata?.name, type, reason, message }) },
  });
  const ip = `${subnet}.20`;
  try {
    proxier.upsertService(service('np', ip, [{ port: 80, nodePort: port }], 'NodePort'));
    await proxier.sync();
    await waitFor('a few bind retries', () => proxier.metrics.errors.get().then((m) => (m.values.find((v) => v.labels.reason === 'bind_failed')?.value ?? 0) >= 3), 10_000, 20);
    assert.equal(events.length, 1, JSON.stringify(events));
    assert.equal(events[0]!.name, 'np');
    assert.equal(events[0]!.type, 'Warning');
    assert.equal(events[0]!.reason, 'FailedToBind');
    assert.match(events[0]!.message, new RegExp(`TCP 127\\.0\\.0\\.1:${port} \\(NodePort\\) on node n1: .*EADDRINUSE`));
    const states = Object.fromEntries(proxier.status().map((s) => [s.kind, s.state]));
    assert.deepEqual(states, { ClusterIP: 'listening', NodePort: 'failed' });
    await new Promise<void>((r) => blocker.close(() => r()));
    await waitFor('the NodePort listening once free', () => proxier.status().every((s) => s.state === 'listening'), 10_000, 20);
  } finally {
    blocker.close();
    await proxier.stop();
    del(ip);
  }
});
