import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions } from './options';

const REQUIRED = ['--tls-cert-file', 'c.pem', '--tls-private-key-file', 'k.pem', '--client-ca-file', 'ca.pem'];

test('parseOptions: defaults, derived values and lists', () => {
  const o = parseOptions(REQUIRED);
  assert.equal(o.securePort, 6443);
  assert.equal(o.advertiseAddress, '127.0.0.1');
  assert.deepEqual(o.storeEndpoints, ['http://127.0.0.1:2379']);
  assert.deepEqual(o.apiAudiences, ['https://kubernetes.default.svc.cluster.local']);
  assert.equal(o.rootCaFile, 'ca.pem');
  assert.equal(o.kubeletCertificateAuthority, 'ca.pem');
  assert.equal(o.kubeletClient, undefined);
  assert.equal(o.authorizationMode, 'RBAC');
  assert.equal(o.minRequestTimeoutSeconds, 1800);
  const p = parseOptions([...REQUIRED, '--store-endpoints', 'http://a:1, http://b:2', '--api-audiences', 'x,y', '--kubelet-client-certificate', 'kc', '--kubelet-client-key', 'kk']);
  assert.deepEqual(p.storeEndpoints, ['http://a:1', 'http://b:2']);
  assert.deepEqual(p.apiAudiences, ['x', 'y']);
  assert.deepEqual(p.kubeletClient, { certFile: 'kc', keyFile: 'kk' });
  assert.deepEqual(o.storeTls, { caFile: undefined, certFile: undefined, keyFile: undefined });
  const t = parseOptions([...REQUIRED, '--store-endpoints', 'https://10.0.0.1:2379', '--store-cafile', 'sca', '--store-certfile', 'sc', '--store-keyfile', 'sk']);
  assert.deepEqual(t.storeTls, { caFile: 'sca', certFile: 'sc', keyFile: 'sk' });
});

test('parseOptions: flags that go together, and checked values', () => {
  assert.throws(() => parseOptions([...REQUIRED, '--kubelet-client-certificate', 'kc']), /go together/);
  assert.throws(() => parseOptions([...REQUIRED, '--store-certfile', 'sc']), /--store-certfile and --store-keyfile go together/);
  assert.throws(() => parseOptions([...REQUIRED, '--authorization-mode', 'ABAC']), /want RBAC or AlwaysAllow/);
  assert.throws(() => parseOptions(['--tls-cert-file', 'c.pem']));
});

test('parseOptions: --event-ttl takes Go durations (default 1h, 0 keeps events)', () => {
  assert.equal(parseOptions(REQUIRED).eventTtlSeconds, 3600);
  assert.equal(parseOptions([...REQUIRED, '--event-ttl', '30m']).eventTtlSeconds, 1800);
  assert.equal(parseOptions([...REQUIRED, '--event-ttl', '1m30s']).eventTtlSeconds, 90);
  assert.equal(parseOptions([...REQUIRED, '--event-ttl', '3s']).eventTtlSeconds, 3);
  assert.equal(parseOptions([...REQUIRED, '--event-ttl', '0']).eventTtlSeconds, 0);
  assert.throws(() => parseOptions([...REQUIRED, '--event-ttl', 'soon']), /--event-ttl: want a duration such as 1h, 30m or 90s, got "soon"/);
  assert.throws(() => parseOptions([...REQUIRED, '--event-ttl', '500ms']), /--event-ttl: want 0 or at least 1s/);
});

test('--metric-resolution: a Go duration of at least 1s, default 15s', () => {
  const base = ['--tls-cert-file', 'c', '--tls-private-key-file', 'k', '--client-ca-file', 'ca'];
  assert.equal(parseOptions(base).metricResolutionMs, 15_000);
  assert.equal(parseOptions([...base, '--metric-resolution', '2s']).metricResolutionMs, 2_000);
  assert.throws(() => parseOptions([...base, '--metric-resolution', '500ms']), /--metric-resolution: want at least 1s, got "500ms"/);
  assert.throws(() => parseOptions([...base, '--metric-resolution', 'soon']), /--metric-resolution: want a duration such as 15s or 1m, got "soon"/);
});
