import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { createCA, issueCert } from '../lib/pki';
import { addStoreMember } from '../lib/store-join';
import { storeMemberFlags } from '../lib/store-members';
import { etcdctl, STORE_ENTRY, StoreCluster, storeTlsFlags, type StoreTlsFiles, waitFor } from './lib/store-cluster';
import { freePort } from './lib/util';

// The store across hosts (issue 11): etcd's TLS model on loopback. Mutual TLS on
// the client and the peer ports (certificates from lib/pki with the IP SAN
// 127.0.0.1), the real etcdctl, refused clients and peers, joins through
// lib/store-join (one at a time and two at once), and the apiserver on a TLS store.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coxswain-store-tls-'));
const file = (name: string, text: string): string => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};
let files: StoreTlsFiles;
let pem: { ca: string; cert: string; key: string };
let foreign: { ca: string; cert: string; key: string };
let c: StoreCluster;

before(async () => {
  const ca = await createCA('store-ca');
  // A member's certificate serves and dials (server and client auth), for the IP its URLs name.
  const member = await issueCert(ca, { commonName: 'store-member', ipAddresses: ['127.0.0.1'], server: true, client: true });
  const client = await issueCert(ca, { commonName: 'kube-apiserver-etcd-client', client: true });
  const otherCa = await createCA('other-ca');
  const intruder = await issueCert(otherCa, { commonName: 'intruder', ipAddresses: ['127.0.0.1'], server: true, client: true });
  files = { ca: file('ca.crt', ca.cert), cert: file('member.crt', member.cert), key: file('member.key', member.key), clientCert: file('client.crt', client.cert), clientKey: file('client.key', client.key) };
  pem = { ca: ca.cert, cert: client.cert, key: client.key };
  foreign = { ca: file('other-ca.crt', otherCa.cert), cert: file('intruder.crt', intruder.cert), key: file('intruder.key', intruder.key) };
  c = await StoreCluster.start({ size: 3, tls: files });
});

after(async () => {
  await c?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function ok(r: { code: number | null; stdout: string; stderr: string }, what: string): string {
  assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);
  return r.stdout;
}

test('etcdctl over mutual TLS: put/get on different members, member list shows https URLs', async () => {
  ok(await c.etcdctl('s1', ['put', '/tls/a', 'one']), 'put');
  assert.equal(ok(await c.etcdctl('s2', ['get', '/tls/a', '--print-value-only']), 'get'), 'one\n');
  const list = ok(await c.etcdctl('s3', ['member', 'list']), 'member list');
  for (const m of c.members) {
    assert.match(list, new RegExp(`started, ${m.name}, https://127\\.0\\.0\\.1:${m.peerPort}, https://127\\.0\\.0\\.1:${m.clientPort}, false`));
  }
  assert.match(ok(await c.etcdctl('s1', ['endpoint', 'status']), 'endpoint status'), /https:\/\/127\.0\.0\.1:\d+, [0-9a-f]+, 3\.4/);
});

test('a client without a certificate, with one from another CA, or without TLS is refused', async () => {
  const ep = c.endpoint('s1');
  const noCert = await etcdctl(ep, ['--cacert', files.ca, 'get', '/tls/a'], { timeoutMs: 10_000 });
  assert.notEqual(noCert.code, 0, noCert.stdout);
  const wrongCa = await etcdctl(ep, ['--cacert', files.ca, '--cert', foreign.cert, '--key', foreign.key, 'get', '/tls/a'], { timeoutMs: 10_000 });
  assert.notEqual(wrongCa.code, 0, wrongCa.stdout);
  const plain = await etcdctl(ep.replace('https://', 'http://'), ['get', '/tls/a'], { timeoutMs: 10_000 });
  assert.notEqual(plain.code, 0, plain.stdout);
  // The cluster is unaffected.
  assert.equal(ok(await c.etcdctl('s1', ['get', '/tls/a', '--print-value-only']), 'get'), 'one\n');
});

test('a peer whose certificate comes from another CA cannot join', async () => {
  const m = await c.newMember('intruder');
  const peerURL = `https://127.0.0.1:${m.peerPort}`;
  const added = ok(await c.etcdctl('s1', ['member', 'add', 'intruder', `--peer-urls=${peerURL}`]), 'member add');
  const id = /Member ([0-9a-f]+) added/.exec(added)?.[1];
  assert.ok(id, added);
  const ic = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(added)![1];
  const flags = storeMemberFlags(m, [m], m.dataDir, 'https');
  flags[flags.indexOf('--initial-cluster') + 1] = ic;
  flags[flags.indexOf('--initial-cluster-state') + 1] = 'existing';
  // It trusts the cluster's CA (so the refusal is the cluster's, not its own), but presents a foreign certificate.
  const p = spawn(process.execPath, [STORE_ENTRY, ...flags, ...storeTlsFlags({ ca: files.ca, cert: foreign.cert, key: foreign.key })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => p.on('exit', (c2) => resolve(c2)));
  assert.equal(code, 1, out);
  assert.match(out, /cannot join the existing cluster/);
  // The cluster lists it as added but never started; remove it again.
  assert.match(ok(await c.etcdctl('s2', ['member', 'list']), 'member list'), new RegExp(`${id}, unstarted, , ${peerURL.replace(/\./g, '\\.')}`));
  ok(await c.etcdctl('s2', ['member', 'remove', id!]), 'member remove');
  ok(await c.etcdctl('s3', ['put', '/tls/b', 'two']), 'put after the refused join');
});

test('a 4th member joins over TLS through addStoreMember and receives the data', async () => {
  ok(await c.etcdctl('s1', ['put', '/before-join', 'x']), 'put');
  const m = await c.newMember('s4');
  const peerURL = `https://127.0.0.1:${m.peerPort}`;
  const logs: string[] = [];
  const { initialCluster } = await addStoreMember({
    endpoints: c.members.map((x) => c.endpoint(x.name)),
    tls: pem,
    name: 's4',
    peerURL,
    deadlineMs: 60_000,
    log: (msg) => logs.push(msg),
  });
  for (const x of c.members) assert.ok(initialCluster.includes(`${x.name}=https://127.0.0.1:${x.peerPort}`), initialCluster);
  assert.ok(initialCluster.includes(`s4=${peerURL}`), initialCluster);
  // Retried after a crash between the add and the start: the same answer, no second member.
  const again = await addStoreMember({ endpoints: [c.endpoint('s2')], tls: pem, name: 's4', peerURL, deadlineMs: 30_000 });
  assert.equal(again.initialCluster, initialCluster);
  c.startJoined(m, initialCluster);
  await waitFor('s4 serves the data written before it joined', async () => {
    const r = await c.etcdctl('s4', ['get', '/before-join', '--print-value-only', '--consistency=s']);
    return r.code === 0 && r.stdout === 'x\n';
  }, 30_000, 200);
  await waitFor('s4 listed as started', async () => /started, s4, https:/.test((await c.etcdctl('s1', ['member', 'list'])).stdout), 15_000, 200);
  const list = ok(await c.etcdctl('s4', ['member', 'list']), 'member list');
  assert.equal(list.trim().split('\n').length, 4, list);
  // A restart of the joined member (same flags, its data dir) keeps the same membership.
  await c.kill('s4', 'SIGTERM');
  c.restart('s4');
  await waitFor('s4 back', async () => (await c.etcdctl('s4', ['get', '/before-join', '--print-value-only'])).stdout === 'x\n', 30_000, 200);
  const after = ok(await c.etcdctl('s4', ['member', 'list']), 'member list after restart');
  assert.deepEqual(after.trim().split('\n').sort(), list.trim().split('\n').sort());
});

test('two servers joining a 1-member cluster at the same moment both become members', { timeout: 120_000 }, async () => {
  const one = await StoreCluster.start({ size: 1, tls: files });
  try {
    const joiners = [await one.newMember('j1'), await one.newMember('j2')];
    const logs: string[] = [];
    await Promise.all(joiners.map(async (m) => {
      const { initialCluster } = await addStoreMember({
        endpoints: [one.endpoint('s1')],
        tls: pem,
        name: m.name,
        peerURL: `https://127.0.0.1:${m.peerPort}`,
        deadlineMs: 90_000,
        log: (msg) => logs.push(`${m.name}: ${msg}`),
      });
      one.startJoined(m, initialCluster);
    }));
    // One of them was refused (quorum protection) or met a leaderless cluster, and retried.
    assert.ok(logs.some((l) => /retrying/.test(l)), logs.join('\n'));
    await waitFor('three started members', async () => {
      const r = await one.etcdctl('s1', ['member', 'list']);
      return r.code === 0 && r.stdout.trim().split('\n').filter((l) => /, started, /.test(l)).length === 3;
    }, 60_000, 300);
    ok(await one.etcdctl('j2', ['put', '/joined', 'yes']), 'put on j2');
    for (const n of ['s1', 'j1']) {
      await waitFor(`${n} has the write`, async () => (await one.etcdctl(n, ['get', '/joined', '--print-value-only', '--consistency=s'])).stdout === 'yes\n', 15_000, 200);
    }
    for (const m of one.members) assert.doesNotMatch(one.logs(m.name), /"level":60/, `${m.name} logged a fatal error`);
  } finally {
    await one.stop();
  }
});

test('the apiserver with --store-cafile/--store-certfile/--store-keyfile serves the API over the TLS store', { timeout: 90_000 }, async () => {
  const ca = fs.readFileSync(files.ca, 'utf8');
  const port = await freePort();
  const admin = { cert: fs.readFileSync(files.clientCert), key: fs.readFileSync(files.clientKey) };
  // The store's client certificate doubles as the apiserver's user here; RBAC would refuse it, so AlwaysAllow.
  const api: ChildProcess = spawn(process.execPath, [
    path.resolve(__dirname, '../apiserver/main.js'),
    '--bind-address', '127.0.0.1', '--secure-port', String(port),
    '--tls-cert-file', files.cert, '--tls-private-key-file', files.key, '--client-ca-file', files.ca,
    '--authorization-mode', 'AlwaysAllow',
    '--store-endpoints', c.members.map((m) => c.endpoint(m.name)).join(','),
    '--store-cafile', files.ca, '--store-certfile', files.clientCert, '--store-keyfile', files.clientKey,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  api.stdout!.on('data', (d) => logs.push(String(d)));
  api.stderr!.on('data', (d) => logs.push(String(d)));
  const req = (method: string, p: string, body?: unknown) => new Promise<{ code: number; body: string }>((resolve, reject) => {
    const r = https.request(`https://127.0.0.1:${port}${p}`, { method, ca, cert: admin.cert, key: admin.key, headers: { 'content-type': 'application/json' } }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: b }));
    });
    r.on('error', reject);
    r.end(body === undefined ? undefined : JSON.stringify(body));
  });
  try {
    await waitFor('apiserver ready', async () => (await req('GET', '/readyz').catch(() => ({ code: 0 }))).code === 200, 40_000, 300);
    const created = await req('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'over-tls' }, data: { k: 'v' } });
    assert.equal(created.code, 201, created.body);
    const got = await req('GET', '/api/v1/namespaces/default/configmaps/over-tls');
    assert.equal(got.code, 200, got.body);
    assert.equal((JSON.parse(got.body) as { data: { k: string } }).data.k, 'v');
    // It is in the store, under the registry prefix, as the real etcdctl sees it.
    assert.match(ok(await c.etcdctl('s2', ['get', '--prefix', '/registry/core/configmaps/default/over-tls', '--keys-only']), 'get'), /over-tls/);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- apiserver logs ---\n${logs.join('').slice(-3000)}`);
  } finally {
    api.kill('SIGTERM');
  }
});
