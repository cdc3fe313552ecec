import test from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKeyAndCsr, parseCsrPem, signCsr, verifyCsrSignature } from './csr';
import { createCA } from './pki';

test('a CSR made here parses back, verifies, and is signed into a certificate that chains to the CA', async () => {
  const { csr, key } = await createKeyAndCsr({ commonName: 'system:node:n1', organizations: ['system:nodes'], dnsNames: ['n1'], ipAddresses: ['10.1.2.3'] });
  assert.match(key, /^-----BEGIN PRIVATE KEY-----/);
  assert.deepEqual(parseCsrPem(csr), { commonName: 'system:node:n1', organizations: ['system:nodes'], dnsNames: ['n1'], ipAddresses: ['10.1.2.3'], emails: [], uris: [] });
  assert.equal(await verifyCsrSignature(csr), true);
  const ca = await createCA('test-ca');
  const now = new Date();
  const notAfter = new Date(now.getTime() + 3_600_000);
  const pem = await signCsr(ca, csr, { usages: ['digital signature', 'server auth'], notAfter, now });
  const cert = new X509Certificate(pem);
  const caCert = new X509Certificate(ca.cert);
  assert.ok(cert.checkIssued(caCert) && cert.verify(caCert.publicKey));
  assert.match(cert.subject, /CN=system:node:n1/);
  assert.match(cert.subject, /O=system:nodes/);
  assert.ok(cert.checkIP('10.1.2.3'));
  assert.ok(cert.checkHost('n1'));
  assert.equal(Date.parse(cert.validTo), Math.floor(notAfter.getTime() / 1000) * 1000);
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
});

test('an RSA CSR from openssl is parsed and signed too', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'csr-'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(path.join(dir, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const csr = execFileSync('openssl', ['req', '-new', '-key', path.join(dir, 'k.pem'), '-subj', '/O=dev/CN=alice'], { encoding: 'utf8' });
  assert.deepEqual(parseCsrPem(csr), { commonName: 'alice', organizations: ['dev'], dnsNames: [], ipAddresses: [], emails: [], uris: [] });
  assert.equal(await verifyCsrSignature(csr), true);
  const ca = await createCA('test-ca');
  const cert = new X509Certificate(await signCsr(ca, csr, { usages: ['client auth'], notAfter: new Date(Date.now() + 3_600_000), now: new Date() }));
  assert.ok(cert.verify(new X509Certificate(ca.cert).publicKey));
});

test('garbage is refused with a reason', async () => {
  assert.throws(() => parseCsrPem('hello'), /no PEM block of type "CERTIFICATE REQUEST"/);
  assert.throws(() => parseCsrPem('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----'), /not a valid certificate request/);
  assert.equal(await verifyCsrSignature('hello'), false);
});
