import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { bootstrapTokenAuthenticator, parseTokenFile, serviceAccountAuthenticator, staticTokenAuthenticator } from './auth';
import { auditEvent } from './audit';
import { TokenSigner, TokenVerifier } from './jwt';

const req = (token?: string) => ({ headers: token ? { authorization: `Bearer ${token}` } : {}, raw: { socket: {} } }) as unknown as FastifyRequest;

test('static token file: CSV with quoted groups; unknown tokens are no one', () => {
  const m = parseTokenFile('# comment\n\ntok1,bob,1001,"dev,ops"\ntok2,carol,1002\n');
  const auth = staticTokenAuthenticator(m);
  assert.deepEqual(auth(req('tok1')), { name: 'bob', uid: '1001', groups: ['dev', 'ops', 'system:authenticated'] });
  assert.deepEqual(auth(req('tok2'))?.groups, ['system:authenticated']);
  assert.equal(auth(req('nope')), undefined);
  assert.equal(auth(req()), undefined);
  assert.throws(() => parseTokenFile('justatoken\n'), /line 1/);
});

for (const type of ['ec', 'rsa'] as const) {
  test(`ServiceAccount JWTs (${type === 'ec' ? 'ES256' : 'RS256'}): signature, issuer, audience, expiry, live objects`, () => {
    const { privateKey, publicKey } = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const signer = new TokenSigner(pem, 'https://issuer');
    const verifier = new TokenVerifier([pub], ['https://issuer'], ['https://issuer', 'api']);
    const now = 1_700_000_000;
    const objects: Record<string, any> = {
      'serviceaccounts/ns/robot': { metadata: { uid: 'sa-uid' } },
      'pods/ns/p': { metadata: { uid: 'pod-uid' } },
    };
    const lookup = { get: (r: string, ns: string | undefined, n: string) => objects[`${r}/${ns ?? ''}/${n}`] };
    const auth = serviceAccountAuthenticator(verifier, lookup, () => now + 10);
    const token = signer.sign(TokenSigner.claims(now, 3600, ['api'], 'ns', { name: 'robot', uid: 'sa-uid' }));
    assert.equal(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).alg, type === 'ec' ? 'ES256' : 'RS256');
    assert.deepEqual(auth(req(token))?.groups, ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated']);
    assert.equal(auth(req(token))?.name, 'system:serviceaccount:ns:robot');
    // tampered payload, other audience, expired, other issuer
    const [h, p, s] = token.split('.');
    const evil = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url');
    assert.equal(auth(req(`${h}.${evil}.${s}`)), undefined);
    assert.equal(auth(req(signer.sign(TokenSigner.claims(now, 3600, ['elsewhere'], 'ns', { name: 'robot', uid: 'sa-uid' })))), undefined);
    assert.equal(serviceAccountAuthenticator(verifier, lookup, () => now + 7200)(req(token)), undefined);
    assert.equal(auth(req(new TokenSigner(pem, 'https://other').sign(TokenSigner.claims(now, 3600, ['api'], 'ns', { name: 'robot', uid: 'sa-uid' })))), undefined);
    // the ServiceAccount recreated (new uid) or the bound pod gone: the token is dead
    assert.equal(auth(req(signer.sign(TokenSigner.claims(now, 3600, ['api'], 'ns', { name: 'robot', uid: 'old-uid' })))), undefined);
    const bound = signer.sign(TokenSigner.claims(now, 3600, ['api'], 'ns', { name: 'robot', uid: 'sa-uid' }, { kind: 'Pod', name: 'p', uid: 'pod-uid' }));
    assert.deepEqual(auth(req(bound))?.extra?.['authentication.kubernetes.io/pod-name'], ['p']);
    delete objects['pods/ns/p'];
    assert.equal(auth(req(bound)), undefined);
  });
}

test('bootstrap tokens: the kube-system Secret, its usage, expiry and extra groups', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const secret: any = {
    type: 'bootstrap.kubernetes.io/token', metadata: {},
    data: { 'token-id': b64('abcdef'), 'token-secret': b64('0123456789abcdef'), 'usage-bootstrap-authentication': b64('true'), 'auth-extra-groups': b64('system:bootstrappers:worker,not-allowed'), expiration: b64('2030-01-01T00:00:00Z') },
  };
  const lookup = { get: (_r: string, ns: string | undefined, n: string) => (ns === 'kube-system' && n === 'bootstrap-token-abcdef' ? secret : undefined) };
  const auth = bootstrapTokenAuthenticator(lookup, () => new Date('2029-01-01T00:00:00Z'));
  assert.deepEqual(auth(req('abcdef.0123456789abcdef')), { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:worker', 'system:authenticated'] });
  assert.equal(auth(req('abcdef.0123456789abcdee')), undefined);
  assert.equal(auth(req('ABCDEF.0123456789abcdef')), undefined);
  assert.equal(bootstrapTokenAuthenticator(lookup, () => new Date('2031-01-01T00:00:00Z'))(req('abcdef.0123456789abcdef')), undefined, 'expired');
  secret.data['usage-bootstrap-authentication'] = b64('false');
  assert.equal(auth(req('abcdef.0123456789abcdef')), undefined);
});

test('audit events carry who/what/where/outcome and never a body', () => {
  const ev: any = auditEvent({
    user: { name: 'bob', groups: ['system:authenticated'] }, attrs: { verb: 'create', group: '', version: 'v1', resource: 'secrets', namespace: 'default' },
    method: 'POST', uri: '/api/v1/namespaces/default/secrets', code: 201, sourceIP: '127.0.0.1', received: new Date(0),
  }, new Date(1000), 'id');
  assert.deepEqual(ev.objectRef, { resource: 'secrets', namespace: 'default', apiGroup: '', apiVersion: 'v1' });
  assert.equal(ev.user.username, 'bob');
  assert.equal(ev.verb, 'create');
  assert.equal(ev.responseStatus.code, 201);
  assert.equal(ev.level, 'Metadata');
  assert.equal(ev.requestObject, undefined);
});
