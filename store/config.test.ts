import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig, type StoreFlags } from './config';

const base: StoreFlags = {
  name: 's1',
  listenClientUrls: 'http://127.0.0.1:2379',
  listenPeerUrls: 'http://127.0.0.1:2380',
  initialCluster: 's1=http://127.0.0.1:2380,s2=http://127.0.0.1:3380,s3=http://127.0.0.1:4380',
  initialClusterState: 'new',
  initialClusterToken: 'tok',
  heartbeatInterval: '100',
  electionTimeout: '1000',
  watchProgressNotifyInterval: '600000',
};

test('member and cluster ids are deterministic from names, peer URLs and token', () => {
  const a = resolveConfig(base);
  const b = resolveConfig({ ...base, name: 's2', listenPeerUrls: 'http://127.0.0.1:3380', listenClientUrls: 'http://127.0.0.1:3379' });
  assert.equal(a.clusterIdHex, b.clusterIdHex);
  assert.deepEqual(a.members.map((m) => m.idHex), b.members.map((m) => m.idHex));
  assert.notEqual(a.self.idHex, b.self.idHex);
  assert.notEqual(resolveConfig({ ...base, initialClusterToken: 'other' }).clusterIdHex, a.clusterIdHex);
  assert.equal(a.electionTick, 10);
  assert.equal(a.tickMs, 100);
  assert.deepEqual(a.clientListen, [{ addr: '127.0.0.1:2379', tls: false }]);
  assert.equal(a.clientTls, undefined);
  assert.equal(a.peerTls, undefined);
});

test('flag mistakes are reported clearly', () => {
  assert.throws(() => resolveConfig({ ...base, name: 's9' }), /no entry for this member "s9"/);
  assert.throws(() => resolveConfig({ ...base, listenPeerUrls: 'http://127.0.0.1:9999' }), /--initial-advertise-peer-urls/);
  assert.throws(() => resolveConfig({ ...base, listenClientUrls: 'unix://x:1' }), /scheme unix is not supported/);
  assert.throws(() => resolveConfig({ ...base, initialClusterState: 'bogus' }), /new" or "existing/);
});

const tlsBase: StoreFlags = {
  ...base,
  listenClientUrls: 'https://127.0.0.1:2379',
  listenPeerUrls: 'https://127.0.0.1:2380',
  initialCluster: 's1=https://127.0.0.1:2380,s2=https://127.0.0.1:3380',
  certFile: 'c.crt',
  keyFile: 'c.key',
  trustedCaFile: 'ca.crt',
  clientCertAuth: true,
  peerCertFile: 'p.crt',
  peerKeyFile: 'p.key',
  peerTrustedCaFile: 'pca.crt',
  peerClientCertAuth: true,
};

test('https:// URLs take the TLS flags (etcd names)', () => {
  const c = resolveConfig(tlsBase);
  assert.deepEqual(c.clientListen, [{ addr: '127.0.0.1:2379', tls: true }]);
  assert.deepEqual(c.clientTls, { certFile: 'c.crt', keyFile: 'c.key', trustedCaFile: 'ca.crt', clientCertAuth: true });
  assert.deepEqual(c.peerTls, { certFile: 'p.crt', keyFile: 'p.key', trustedCaFile: 'pca.crt', clientCertAuth: true });
  // A plain loopback listener beside the https one, as etcd allows.
  const mixed = resolveConfig({ ...tlsBase, listenClientUrls: 'https://10.0.0.1:2379,http://127.0.0.1:2379' });
  assert.deepEqual(mixed.clientListen.map((l) => l.tls), [true, false]);
});

test('TLS flag mistakes name the flag', () => {
  assert.throws(() => resolveConfig({ ...tlsBase, certFile: undefined }), /--listen-client-urls has an https:\/\/ URL, which needs --cert-file and --key-file/);
  assert.throws(() => resolveConfig({ ...tlsBase, trustedCaFile: undefined }), /--client-cert-auth needs --trusted-ca-file/);
  assert.throws(() => resolveConfig({ ...tlsBase, peerKeyFile: undefined }), /--listen-peer-urls has an https:\/\/ URL, which needs --peer-cert-file and --peer-key-file/);
  assert.throws(() => resolveConfig({ ...tlsBase, peerTrustedCaFile: undefined, peerClientCertAuth: false }), /needs --peer-trusted-ca-file/);
  assert.throws(() => resolveConfig({ ...tlsBase, peerTrustedCaFile: undefined }), /--peer-client-cert-auth needs --peer-trusted-ca-file/);
  assert.throws(() => resolveConfig({ ...tlsBase, initialCluster: 's1=https://127.0.0.1:2380,s2=http://127.0.0.1:3380' }), /--initial-cluster lists s2=http:\/\/127.0.0.1:3380/);
  assert.throws(() => resolveConfig({ ...tlsBase, initialAdvertisePeerUrls: 'http://127.0.0.1:2380' }), /--initial-advertise-peer-urls/);
});
