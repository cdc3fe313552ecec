import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Secret } from 'kubernetes-types/core/v1';
import { registryAuthFor, registryOf } from './image-auth';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const cfgSecret = (auths: Record<string, unknown>): Secret => ({
  kind: 'Secret',
  type: 'kubernetes.io/dockerconfigjson',
  metadata: { name: 'regcred' },
  data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) },
});

test('registryOf: Docker Hub names, hosts with ports, localhost', () => {
  assert.equal(registryOf('busybox:1.36'), 'docker.io');
  assert.equal(registryOf('library/busybox'), 'docker.io');
  assert.equal(registryOf('registry.k8s.io/pause:3.10'), 'registry.k8s.io');
  assert.equal(registryOf('127.0.0.1:9/x:1'), '127.0.0.1:9');
  assert.equal(registryOf('localhost/x'), 'localhost');
});

test('imagePullSecrets become registry auth for the image host, most specific path first', () => {
  const s1 = cfgSecret({
    'registry.example.com': { username: 'u1', password: 'p1' },
    'registry.example.com/team': { auth: b64('u2:p:2') },
    'other.example.com': { username: 'x', password: 'y' },
  });
  const legacy: Secret = { kind: 'Secret', type: 'kubernetes.io/dockercfg', metadata: { name: 'old' }, data: { '.dockercfg': b64(JSON.stringify({ 'https://index.docker.io/v1/': { username: 'hub', password: 'hp' } })) } };
  assert.deepEqual(registryAuthFor('registry.example.com/team/app:1', [s1]), [
    { username: 'u2', password: 'p:2', serveraddress: 'registry.example.com' },
    { username: 'u1', password: 'p1', serveraddress: 'registry.example.com' },
  ]);
  assert.deepEqual(registryAuthFor('registry.example.com/else/app:1', [s1]), [{ username: 'u1', password: 'p1', serveraddress: 'registry.example.com' }]);
  assert.deepEqual(registryAuthFor('busybox:1.36', [s1, legacy]), [{ username: 'hub', password: 'hp', serveraddress: 'https://index.docker.io/v1/' }]);
  assert.deepEqual(registryAuthFor('127.0.0.1:9/x:1', [s1, legacy]), []);
  assert.deepEqual(registryAuthFor('x', [{ kind: 'Secret', metadata: { name: 'bad' }, data: { '.dockerconfigjson': b64('{not json') } }]), []);
});
