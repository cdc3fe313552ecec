import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Secret } from 'kubernetes-types/core/v1';
import { createCA } from '../../lib/pki';
import { SecretContextCache, secureContextOf, selfSignedCertificate } from './certs';

const secret = (crt: string, key: string, rv = '1', type = 'kubernetes.io/tls'): Secret => ({
  metadata: { name: 's', namespace: 'n', resourceVersion: rv },
  type,
  data: { 'tls.crt': Buffer.from(crt).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') },
});

test('secureContextOf: a valid pair builds a context; bad Secrets name the field and the reason', async () => {
  const a = await selfSignedCertificate('a.test');
  const b = await createCA('b');
  assert.ok('context' in secureContextOf(secret(a.cert, a.key)));
  const cases: [string, Secret, RegExp][] = [
    ['wrong type', secret(a.cert, a.key, '1', 'Opaque'), /type is "Opaque", want kubernetes.io\/tls/],
    ['no cert', secret('', a.key), /data\[tls\.crt\] is empty/],
    ['no key', secret(a.cert, ''), /data\[tls\.key\] is empty/],
    ['garbage cert', secret('not a certificate', a.key), /data\[tls\.crt\] is not a PEM certificate/],
    ['key of another cert', secret(a.cert, b.key), /data\[tls\.key\] does not fit data\[tls\.crt\]/],
    ['garbage key', secret(a.cert, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), /data\[tls\.key\] does not fit/],
  ];
  for (const [name, s, want] of cases) {
    const r = secureContextOf(s);
    assert.ok('error' in r, name);
    assert.match(r.error, want, name);
  }
});

test('SecretContextCache parses a Secret once per resourceVersion', async () => {
  const a = await selfSignedCertificate('a.test');
  const cache = new SecretContextCache();
  const first = cache.get('n/s', secret(a.cert, a.key, '5'));
  assert.equal(cache.get('n/s', secret(a.cert, a.key, '5')), first);
  const bad = cache.get('n/s', secret('x', a.key, '6'));
  assert.ok('error' in bad);
  cache.retain(new Set());
  assert.equal(cache.size, 0);
});
