import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Service } from 'kubernetes-types/core/v1';
import { backendsFor, computeDesired, listenerKey, servicePortKey } from './desired';

const svc = (name: string, spec: Service['spec'], namespace = 'default'): Service => ({ metadata: { name, namespace }, spec });
const eps = (name: string, subsets: Endpoints['subsets'], namespace = 'default'): Endpoints => ({ metadata: { name, namespace }, subsets });

test('ClusterIP service: one listener per port, backends from the endpoints port of the same name', () => {
  const s = svc('web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }, { name: 'metrics', port: 9090 }] });
  const e = eps('web', [
    { addresses: [{ ip: '10.244.0.3' }, { ip: '10.244.0.2' }], notReadyAddresses: [{ ip: '10.244.0.9' }], ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100 }] },
  ]);
  const d = computeDesired([s], [e]);
  assert.deepEqual([...d.listeners.keys()].sort(), ['TCP/10.96.0.20:80', 'TCP/10.96.0.20:9090']);
  assert.deepEqual([...d.clusterIPs], ['10.96.0.20']);
  assert.deepEqual(d.backends.get(servicePortKey('default', 'web', 'http')), [
    { ip: '10.244.0.2', port: 8080 },
    { ip: '10.244.0.3', port: 8080 },
  ]);
  assert.deepEqual(d.backends.get(servicePortKey('default', 'web', 'metrics')), [
    { ip: '10.244.0.2', port: 9100 },
    { ip: '10.244.0.3', port: 9100 },
  ]);
});

test('unnamed single port matches the unnamed endpoints port; protocol must match', () => {
  const p = { port: 53, protocol: 'UDP' };
  assert.deepEqual(backendsFor(p, eps('dns', [{ addresses: [{ ip: '1.1.1.1' }], ports: [{ port: 5353, protocol: 'TCP' }] }])), []);
  assert.deepEqual(backendsFor(p, eps('dns', [{ addresses: [{ ip: '1.1.1.1' }], ports: [{ port: 5353, protocol: 'UDP' }] }])), [{ ip: '1.1.1.1', port: 5353 }]);
  assert.deepEqual(backendsFor({ port: 80 }, undefined), []);
});

test('NodePort and LoadBalancer services also listen on every nodeport address', () => {
  const np = svc('np', { type: 'NodePort', clusterIP: '10.96.0.21', ports: [{ port: 80, nodePort: 30080 }] });
  const lb = svc('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.22', ports: [{ port: 443, nodePort: 30443, protocol: 'TCP' }] });
  const d = computeDesired([np, lb], [], { nodePortAddresses: ['127.0.0.1', '192.168.1.5'] });
  assert.deepEqual([...d.listeners.keys()].sort(), [
    'TCP/10.96.0.21:80',
    'TCP/10.96.0.22:443',
    'TCP/127.0.0.1:30080',
    'TCP/127.0.0.1:30443',
    'TCP/192.168.1.5:30080',
    'TCP/192.168.1.5:30443',
  ]);
  const nodeport = d.listeners.get('TCP/127.0.0.1:30080')!;
  assert.equal(nodeport.kind, 'NodePort');
  assert.equal(nodeport.target, 'default/np:');
  assert.deepEqual(d.backends.get('default/np:'), []);
});

test('headless, ExternalName and IP-less services get nothing', () => {
  const d = computeDesired(
    [
      svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
      svc('ext', { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 80 }] }),
      svc('pending', { ports: [{ port: 80 }] }),
    ],
    [],
  );
  assert.equal(d.listeners.size, 0);
  assert.equal(d.clusterIPs.size, 0);
});

test('UDP ports are part of the desired set; duplicate endpoints collapse; first service wins a clash', () => {
  const a = svc('a', { clusterIP: '10.96.0.30', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }] });
  const b = svc('b', { clusterIP: '10.96.0.30', ports: [{ port: 53 }] });
  const e = eps('a', [
    { addresses: [{ ip: '10.244.1.1' }], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
    { addresses: [{ ip: '10.244.1.1' }], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
  ]);
  const d = computeDesired([b, a], [e]);
  assert.equal(d.listeners.get(listenerKey('UDP', '10.96.0.30', 53))?.target, 'default/a:dns');
  assert.equal(d.listeners.get(listenerKey('TCP', '10.96.0.30', 53))?.target, 'default/a:dns-tcp');
  assert.deepEqual(d.backends.get('default/a:dns'), [{ ip: '10.244.1.1', port: 53 }]);
});

test('endpoints are matched by namespace', () => {
  const d = computeDesired([svc('web', { clusterIP: '10.96.0.40', ports: [{ port: 80 }] }, 'prod')], [eps('web', [{ addresses: [{ ip: '1.2.3.4' }], ports: [{ port: 80 }] }], 'dev')]);
  assert.deepEqual(d.backends.get('prod/web:'), []);
});

test('malformed user-written Endpoints are skipped, never thrown', () => {
  const p = { port: 80 };
  const bad = [null, { ports: null, addresses: null }, { ports: [null], addresses: [{ ip: '1.1.1.1' }] }, { ports: [{ port: 80 }], addresses: 'x' },
    { ports: [{ port: 80 }], addresses: [null, { ip: 5 }, { ip: 'not-an-ip' }, { ip: '2.2.2.2' }] }, { ports: [{ port: 70000 }], addresses: [{ ip: '3.3.3.3' }] }];
  assert.deepEqual(backendsFor(p, { metadata: { name: 'x' }, subsets: bad as never }), [{ ip: '2.2.2.2', port: 80 }]);
  assert.deepEqual(backendsFor(p, { metadata: { name: 'x' }, subsets: 'x' as never }), []);
});

test('a Service the proxy answers itself (cluster DNS): its ClusterIP is bound, no listener opened', () => {
  const dns = svc('kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }] }, 'kube-system');
  const d = computeDesired([dns], [], { localServices: new Set(['kube-system/kube-dns']) });
  assert.deepEqual([...d.listeners.keys()], []);
  assert.deepEqual([...d.clusterIPs], ['10.96.0.10']);
});

test('sessionAffinity ClientIP gives every port of the Service a timeout (default 10800 s); None gives none', () => {
  const d = computeDesired(
    [
      svc('sticky', { clusterIP: '10.96.0.50', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ name: 'a', port: 80 }, { name: 'b', port: 53, protocol: 'UDP' }] }),
      svc('default-timeout', { clusterIP: '10.96.0.51', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }),
      svc('plain', { clusterIP: '10.96.0.52', sessionAffinity: 'None', ports: [{ port: 80 }] }),
    ],
    [],
  );
  assert.deepEqual([...d.affinity].sort(), [
    ['default/default-timeout:', 10800],
    ['default/sticky:a', 60],
    ['default/sticky:b', 60],
  ]);
});
