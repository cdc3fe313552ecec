import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1';
import type { CsrInfo } from '../../lib/csr';
import { DEFAULT_DURATION_S, SIGNER_APISERVER_CLIENT, SIGNER_KUBELET_CLIENT, SIGNER_KUBELET_SERVING, approvalFor, signingFor } from './policy';

const info = (cn: string, o: Partial<CsrInfo> = {}): CsrInfo => ({ commonName: cn, organizations: ['system:nodes'], dnsNames: [], ipAddresses: [], emails: [], uris: [], ...o });
const csr = (signerName: string, usages: string[], username: string, groups: string[], conditions: string[] = [], extra: Partial<CertificateSigningRequest['spec']> = {}): CertificateSigningRequest => ({
  metadata: { name: 'c' },
  spec: { request: '', signerName, usages, username, groups, ...extra },
  status: { conditions: conditions.map((type) => ({ type, status: 'True' })) },
});
const BOOT = ['system:bootstrappers', 'system:authenticated'];
const NODES = ['system:nodes', 'system:authenticated'];
const CLIENT = ['digital signature', 'client auth'];
const SERVING = ['digital signature', 'key encipherment', 'server auth'];

test('approver: which requests are approved', () => {
  const cases: [string, CertificateSigningRequest, CsrInfo | undefined, boolean][] = [
    ['bootstrap token asks for a node client cert', csr(SIGNER_KUBELET_CLIENT, CLIENT, 'system:bootstrap:abcdef', BOOT), info('system:node:n1'), true],
    ['the node renews its own client cert', csr(SIGNER_KUBELET_CLIENT, ['client auth'], 'system:node:n1', NODES), info('system:node:n1'), true],
    ['a node asks for another node\'s client cert', csr(SIGNER_KUBELET_CLIENT, CLIENT, 'system:node:n2', NODES), info('system:node:n1'), false],
    ['an ordinary user asks for a node client cert', csr(SIGNER_KUBELET_CLIENT, CLIENT, 'alice', ['system:authenticated']), info('system:node:n1'), false],
    ['client cert with a wrong organization', csr(SIGNER_KUBELET_CLIENT, CLIENT, 'system:bootstrap:abcdef', BOOT), info('system:node:n1', { organizations: ['system:masters'] }), false],
    ['client cert with two organizations', csr(SIGNER_KUBELET_CLIENT, CLIENT, 'system:bootstrap:abcdef', BOOT), info('system:node:n1', { organizations: ['system:nodes', 'system:masters'] }), false],
    ['client cert for a CN that is not a node', csr(SIGNER_KUBELET_CLIENT, CLIENT, 'system:bootstrap:abcdef', BOOT), info('admin'), false],
    ['client cert with server auth', csr(SIGNER_KUBELET_CLIENT, [...CLIENT, 'server auth'], 'system:bootstrap:abcdef', BOOT), info('system:node:n1'), false],
    ['client cert with an IP SAN', csr(SIGNER_KUBELET_CLIENT, CLIENT, 'system:bootstrap:abcdef', BOOT), info('system:node:n1', { ipAddresses: ['10.0.0.1'] }), false],
    ['already denied', csr(SIGNER_KUBELET_CLIENT, CLIENT, 'system:bootstrap:abcdef', BOOT, ['Denied']), info('system:node:n1'), false],
    ['already approved', csr(SIGNER_KUBELET_CLIENT, CLIENT, 'system:bootstrap:abcdef', BOOT, ['Approved']), info('system:node:n1'), false],
    ['unparseable request', csr(SIGNER_KUBELET_CLIENT, CLIENT, 'system:bootstrap:abcdef', BOOT), undefined, false],
    ['a node asks for its serving cert', csr(SIGNER_KUBELET_SERVING, SERVING, 'system:node:n1', NODES), info('system:node:n1', { ipAddresses: ['10.0.0.1'], dnsNames: ['n1'] }), true],
    ['a bootstrap token asks for a serving cert', csr(SIGNER_KUBELET_SERVING, SERVING, 'system:bootstrap:abcdef', BOOT), info('system:node:n1', { ipAddresses: ['10.0.0.1'] }), false],
    ['a node asks for another node\'s serving cert', csr(SIGNER_KUBELET_SERVING, SERVING, 'system:node:n2', NODES), info('system:node:n1', { ipAddresses: ['10.0.0.1'] }), false],
    ['serving cert without any SAN', csr(SIGNER_KUBELET_SERVING, SERVING, 'system:node:n1', NODES), info('system:node:n1'), false],
    ['serving cert with an email SAN', csr(SIGNER_KUBELET_SERVING, SERVING, 'system:node:n1', NODES), info('system:node:n1', { ipAddresses: ['10.0.0.1'], emails: ['a@b'] }), false],
    ['serving cert with client auth', csr(SIGNER_KUBELET_SERVING, [...SERVING, 'client auth'], 'system:node:n1', NODES), info('system:node:n1', { ipAddresses: ['10.0.0.1'] }), false],
    ['kube-apiserver-client is left to a person', csr(SIGNER_APISERVER_CLIENT, ['client auth'], 'system:bootstrap:abcdef', BOOT), info('system:node:n1'), false],
    ['another signer is left alone', csr('example.com/x', CLIENT, 'system:bootstrap:abcdef', BOOT), info('system:node:n1'), false],
  ];
  for (const [what, c, i, want] of cases) assert.equal(approvalFor(c, i) !== undefined, want, what);
});

test('signer: what is signed, failed or left alone', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const after = (s: number) => new Date(now.getTime() + s * 1000).toISOString();
  const client = (conds: string[], extra = {}) => csr(SIGNER_KUBELET_CLIENT, CLIENT, 'system:bootstrap:abcdef', BOOT, conds, extra);
  const show = (d: ReturnType<typeof signingFor>) => (d.action === 'sign' ? `sign ${d.notAfter.toISOString()} ${d.usages.join('+')}` : d.action === 'fail' ? `fail: ${d.message}` : 'none');
  const cases: [string, CertificateSigningRequest, CsrInfo | undefined, string | RegExp][] = [
    ['approved: signed for a year by default', client(['Approved']), info('system:node:n1'), `sign ${after(DEFAULT_DURATION_S)} digital signature+client auth`],
    ['expirationSeconds honoured', client(['Approved'], { expirationSeconds: 3600 }), info('system:node:n1'), `sign ${after(3600)} digital signature+client auth`],
    ['expirationSeconds below 600 raised to 600', client(['Approved'], { expirationSeconds: 60 }), info('system:node:n1'), `sign ${after(600)} digital signature+client auth`],
    ['expirationSeconds above a year capped', client(['Approved'], { expirationSeconds: 10 * DEFAULT_DURATION_S }), info('system:node:n1'), `sign ${after(DEFAULT_DURATION_S)} digital signature+client auth`],
    ['pending: not signed', client([]), info('system:node:n1'), 'none'],
    ['denied: never signed', client(['Denied']), info('system:node:n1'), 'none'],
    ['approved then failed: never signed again', client(['Approved', 'Failed']), info('system:node:n1'), 'none'],
    ['already issued', { ...client(['Approved']), status: { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'eA==' } }, info('system:node:n1'), 'none'],
    ['approved by hand but not a node subject: failed', client(['Approved']), info('admin'), /^fail: subject CN must be system:node:<name>/],
    ['approved, request unparseable: failed', client(['Approved']), undefined, /^fail: the request is not a valid PEM/],
    ['another signer: left alone', csr('example.com/x', CLIENT, 'u', [], ['Approved']), info('x'), 'none'],
    ['kube-apiserver-client, approved: signed', csr(SIGNER_APISERVER_CLIENT, ['client auth'], 'admin', [], ['Approved']), info('alice', { organizations: ['dev'] }), `sign ${after(DEFAULT_DURATION_S)} client auth`],
    ['kube-apiserver-client with server auth: failed', csr(SIGNER_APISERVER_CLIENT, ['client auth', 'server auth'], 'admin', [], ['Approved']), info('alice'), /^fail: usages/],
    ['kubelet serving, approved: signed', csr(SIGNER_KUBELET_SERVING, SERVING, 'system:node:n1', NODES, ['Approved']), info('system:node:n1', { ipAddresses: ['10.0.0.1'] }), `sign ${after(DEFAULT_DURATION_S)} ${SERVING.join('+')}`],
  ];
  for (const [what, c, i, want] of cases) {
    const got = show(signingFor(c, i, now));
    if (typeof want === 'string') assert.equal(got, want, what);
    else assert.match(got, want, what);
  }
});
