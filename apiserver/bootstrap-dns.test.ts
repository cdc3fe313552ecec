import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1';
import { createLogger } from '../lib/log';
import { clusterDnsAddress, parseCidr } from '../lib/ipv4';
import { parseServiceCidr } from './allocators';
import { bootstrap } from './bootstrap';
import { Registry } from './registry';
import { ResourceStorage } from './resources';
import { MemoryStore } from './storage/memory';

async function setup(cidr: string) {
  const registry = new Registry();
  const storage = new ResourceStorage({ store: new MemoryStore(), registry, log: createLogger('apiserver-test'), serviceCidr: parseServiceCidr(cidr), nodePortRange: [30000, 32767] });
  await storage.start();
  return { storage, registry, svc: registry.lookup('', 'v1', 'services')! };
}

test('the cluster DNS address is the 10th of the service range', () => {
  assert.equal(clusterDnsAddress(parseCidr('10.96.0.0/12')!), '10.96.0.10');
  assert.equal(clusterDnsAddress(parseCidr('10.111.7.0/24')!), '10.111.7.10');
  assert.throws(() => clusterDnsAddress(parseCidr('10.0.0.0/30')!), /too small/);
});

test('bootstrap creates kube-system/kube-dns once: no selector, 53 UDP and TCP', async () => {
  const { storage, registry, svc } = await setup('10.96.0.0/12');
  const opts = { advertiseAddress: '127.0.0.1', securePort: 6443, kubernetesServiceIP: '10.96.0.1', clusterDnsIP: '10.96.0.10' };
  await bootstrap(storage, registry, opts);
  await bootstrap(storage, registry, opts);
  const dns = (await storage.read(svc, 'kube-system', 'kube-dns'))!.obj as Service;
  assert.equal(dns.spec?.clusterIP, '10.96.0.10');
  assert.equal(dns.spec?.selector, undefined);
  assert.equal(dns.metadata?.labels?.['k8s-app'], 'kube-dns');
  assert.deepEqual(dns.spec?.ports?.map((p) => `${p.name} ${p.port}/${p.protocol}`), ['dns 53/UDP', 'dns-tcp 53/TCP']);
  storage.stop();
});

test('a DNS address a user Service already holds: a warning, and bootstrap still succeeds', async () => {
  const { storage, registry, svc } = await setup('10.96.0.0/12');
  await bootstrap(storage, registry, { advertiseAddress: '127.0.0.1', securePort: 6443, kubernetesServiceIP: '10.96.0.1' });
  await storage.create(svc, 'default', { metadata: { name: 'squatter' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 80 }] } });
  const warnings: string[] = [];
  await bootstrap(storage, registry, { advertiseAddress: '127.0.0.1', securePort: 6443, kubernetesServiceIP: '10.96.0.1', clusterDnsIP: '10.96.0.10', warn: (m) => warnings.push(m) });
  assert.equal(await storage.read(svc, 'kube-system', 'kube-dns'), undefined);
  assert.match(warnings.join('\n'), /cannot create Service kube-system\/kube-dns at 10\.96\.0\.10/);
  assert.ok(await storage.read(svc, 'default', 'kubernetes'), 'the rest of bootstrap ran');
  storage.stop();
});
