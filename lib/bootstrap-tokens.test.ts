import test from 'node:test';
import assert from 'node:assert/strict';
import { SERVER_TOKEN_GROUP, bootstrapTokenSecret, joinTokenInfo } from './bootstrap-tokens';

const data = (s: ReturnType<typeof bootstrapTokenSecret>) => Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

test('an agent token with a TTL: a bootstrap-token Secret the authenticator accepts', () => {
  const s = bootstrapTokenSecret('abcdef', '0123456789abcdef', { role: 'agent', ttlMs: 3_600_000, description: 'for n2', now: new Date('2026-01-01T00:00:00Z') });
  assert.equal(s.type, 'bootstrap.kubernetes.io/token');
  assert.deepEqual(s.metadata?.name, 'bootstrap-token-abcdef');
  assert.equal(s.metadata?.namespace, 'kube-system');
  assert.deepEqual(data(s), {
    'token-id': 'abcdef', 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true', 'usage-bootstrap-signing': 'true',
    expiration: '2026-01-01T01:00:00Z', description: 'for n2',
  });
  assert.deepEqual(joinTokenInfo(s), { id: 'abcdef', role: 'agent', expiration: '2026-01-01T01:00:00Z', description: 'for n2' });
});

test('a server token without expiry carries the server group', () => {
  const s = bootstrapTokenSecret('abcdef', '0123456789abcdef', { role: 'server', ttlMs: 0 });
  assert.equal(data(s)['auth-extra-groups'], SERVER_TOKEN_GROUP);
  assert.equal(data(s).expiration, undefined);
  assert.deepEqual(joinTokenInfo(s), { id: 'abcdef', role: 'server', expiration: undefined, description: '' });
});

test('other Secrets are not tokens', () => {
  assert.equal(joinTokenInfo({ type: 'Opaque', metadata: { name: 'bootstrap-token-abcdef' }, data: { 'token-id': Buffer.from('abcdef').toString('base64') } }), undefined);
  assert.equal(joinTokenInfo({ type: 'bootstrap.kubernetes.io/token', metadata: { name: 'bootstrap-token-zzzzzz' }, data: { 'token-id': Buffer.from('abcdef').toString('base64') } }), undefined);
});
