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
  assert.deepEqual(a.clientListen, ['127.0.0.1:2379']);
});

test('flag mistakes are reported clearly', () => {
  assert.throws(() => resolveConfig({ ...base, name: 's9' }), /no entry for this member "s9"/);
  assert.throws(() => resolveConfig({ ...base, listenPeerUrls: 'http://127.0.0.1:9999' }), /--initial-advertise-peer-urls/);
  assert.throws(() => resolveConfig({ ...base, listenClientUrls: 'https://127.0.0.1:2379' }), /scheme https is not supported/);
  assert.throws(() => resolveConfig({ ...base, initialClusterState: 'bogus' }), /new" or "existing/);
});
