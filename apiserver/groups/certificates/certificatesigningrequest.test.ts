import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1';
import { createKeyAndCsr } from '../../../lib/csr';
import { CERTIFICATE_SIGNING_REQUEST, csrCondition, csrSubresourceStatus, validateCSR } from './certificatesigningrequest';
import type { ApiObject } from '../../api-object';

const fields = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);

test('CSR validation names the field and the reason', async () => {
  const { csr } = await createKeyAndCsr({ commonName: 'system:node:n1', organizations: ['system:nodes'], ipAddresses: ['10.0.0.1'] });
  const request = Buffer.from(csr).toString('base64');
  const ok: CertificateSigningRequest = { metadata: { name: 'c' }, spec: { request, signerName: 'kubernetes.io/kubelet-serving', usages: ['server auth'] } };
  assert.deepEqual(validateCSR(ok), []);
  const bad = (spec: object) => fields(validateCSR({ metadata: { name: 'c' }, spec: { ...ok.spec, ...spec } } as CertificateSigningRequest));
  assert.deepEqual(bad({ request: undefined }), ['spec.request: Required value']);
  assert.deepEqual(bad({ request: Buffer.from('hello').toString('base64') }), ['spec.request: Invalid value: "<PEM>": no PEM block of type "CERTIFICATE REQUEST"']);
  assert.match(bad({ request: Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n').toString('base64') })[0], /^spec\.request: Invalid value: "<PEM>": not a valid certificate request/);
  assert.deepEqual(bad({ request: 'not base64!' }), ['spec.request: Invalid value: "<bytes>": must be base64-encoded PEM']);
  assert.deepEqual(bad({ signerName: undefined }), ['spec.signerName: Required value']);
  assert.match(bad({ signerName: 'no-slash' })[0], /^spec\.signerName: Invalid value: "no-slash": must be a fully qualified domain and path/);
  assert.deepEqual(bad({ usages: [] }), ['spec.usages: Required value']);
  assert.match(bad({ usages: ['server auth', 'flying'] })[0], /^spec\.usages\[1\]: Unsupported value: "flying"/);
  assert.deepEqual(bad({ expirationSeconds: 599 }), ['spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)']);
  assert.deepEqual(fields(validateCSR({ metadata: { name: 'c' } } as CertificateSigningRequest)), ['spec: Required value']);

  // updates: the spec is immutable; approval conditions exclusive and permanent; a certificate only when approved
  const withStatus = (status: CertificateSigningRequest['status']) => ({ ...ok, status });
  assert.deepEqual(fields(validateCSR({ ...ok, spec: { ...ok.spec, usages: ['server auth', 'digital signature'] } }, ok)).map((s) => s.split(':')[0]), ['spec']);
  assert.match(fields(validateCSR(withStatus({ conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }] }), ok))[0], /mutually exclusive/);
  assert.match(fields(validateCSR(withStatus({ conditions: [] }), withStatus({ conditions: [{ type: 'Denied', status: 'True' }] })))[0], /may not remove a condition of type "Denied"/);
  assert.match(fields(validateCSR(withStatus({ conditions: [{ type: 'Approved', status: 'True' }, { type: 'Approved', status: 'True' }] }), ok))[0], /Duplicate value: "Approved"/);
  const certB64 = Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString('base64');
  assert.deepEqual(fields(validateCSR(withStatus({ certificate: certB64 }), ok)), ['status.certificate: Forbidden: may only be set when the request is approved']);
  assert.deepEqual(fields(validateCSR(withStatus({ certificate: Buffer.from('x').toString('base64'), conditions: [{ type: 'Approved', status: 'True' }] }), ok)),
    ['status.certificate: Invalid value: "<certificate data>": must contain at least one PEM block of type "CERTIFICATE"']);
  assert.deepEqual(validateCSR(withStatus({ certificate: certB64, conditions: [{ type: 'Approved', status: 'True' }] }), ok), []);
});

test('CSR spec.username, uid, groups and extra come from the requesting user only', () => {
  const o = { metadata: { name: 'c' }, spec: { request: 'x', signerName: 'a.b/c', usages: ['client auth'], username: 'system:admin', groups: ['system:masters'], uid: 'forged' } };
  CERTIFICATE_SIGNING_REQUEST.setRequester!(o as unknown as ApiObject, { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] });
  assert.deepEqual(o.spec, { request: 'x', signerName: 'a.b/c', usages: ['client auth'], username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] });
});

test('CSR /approval changes only Approved/Denied; /status keeps them', () => {
  const cur = { metadata: { name: 'c' }, status: { conditions: [{ type: 'Approved', status: 'True' }] } } as unknown as ApiObject;
  const sneaky = { certificate: 'Y2VydA==', conditions: [{ type: 'Denied', status: 'True' }, { type: 'Failed', status: 'True' }] };
  assert.deepEqual(csrSubresourceStatus('approval', cur, sneaky), { conditions: [{ type: 'Denied', status: 'True' }] });
  assert.deepEqual(csrSubresourceStatus('status', cur, sneaky), { certificate: 'Y2VydA==', conditions: [{ type: 'Approved', status: 'True' }, { type: 'Failed', status: 'True' }] });
});

test('CSR Condition column as kubectl shows it', () => {
  const c = (conds: string[], certificate?: string) => ({ metadata: {}, spec: { request: '', signerName: 'a/b' }, status: { conditions: conds.map((type) => ({ type, status: 'True' })), certificate } }) as CertificateSigningRequest;
  assert.equal(csrCondition(c([])), 'Pending');
  assert.equal(csrCondition(c(['Approved'])), 'Approved');
  assert.equal(csrCondition(c(['Approved'], 'eA==')), 'Approved,Issued');
  assert.equal(csrCondition(c(['Denied'])), 'Denied');
  assert.equal(csrCondition(c(['Approved', 'Failed'])), 'Approved,Failed');
});

test('CSR hooks never throw on hostile bodies', () => {
  const junk: unknown[] = [null, 1, 'x', [], {}, [1, 'a', null], { type: 1 }, { conditions: 'x' }, { conditions: ['x', null, 3] }];
  for (const spec of junk) for (const status of junk) {
    const o = { metadata: { name: 'c' }, spec, status } as unknown as ApiObject;
    CERTIFICATE_SIGNING_REQUEST.defaults!(o);
    CERTIFICATE_SIGNING_REQUEST.setRequester!(o, undefined);
    validateCSR(o as unknown as CertificateSigningRequest, o as unknown as CertificateSigningRequest);
    csrCondition(o as unknown as CertificateSigningRequest);
    csrSubresourceStatus('approval', o, status);
    csrSubresourceStatus('status', o, status);
    CERTIFICATE_SIGNING_REQUEST.printer!.cells(o, new Date());
  }
});
