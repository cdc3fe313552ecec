import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1';
import { computeDesired, listenerKey, servicePortKey, type Backend } from './desired';

const svc = (name: string, spec: Service['spec'], namespace = 'default'): Service => ({ metadata: { name, namespace }, spec });
let n = 0;
const slice = (service: string, ports: EndpointPort[], endpoints: Endpoint[], namespace = 'default'): EndpointSlice => ({
  metadata: { name: `${service}-${n++}`, namespace, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  ports,
  endpoints,
});
const ready = (ip: string): Endpoint => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } });
const notReady = (ip: string): Endpoint => ({ addresses: [ip], conditions: { ready: false, serving: false, terminating: false } });
const addrs = (bs: Backend[] | undefined) => (bs ?? []).map((b) => `${b.ip}:${b.port}`);

test('ClusterIP service: one listener per port, ready backends from the slice port of the same name, across slices', () => {
  const s = svc('web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }, { name: 'metrics', port: 9090 }] });
  const ports = [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100 }];
  const d = computeDesired([s], [slice('web', ports, [ready('10.244.0.3'), notReady('10.244.0.9')]), slice('web', ports, [ready('10.244.0.2')])]);
  assert.deepEqual([...d.listeners.keys()].sort(), ['TCP/10.96.0.20:80', 'TCP/10.96.0.20:9090']);
  assert.deepEqual([...d.clusterIPs], ['10.96.0.20']);
  assert.deepEqual(d.backends.get(servicePortKey('default', 'web', 'http')), [
    { ip: '10.244.0.2', port: 8080, ready: true, serving: true, terminating: false },
    { ip: '10.244.0.3', port: 8080, ready: true, serving: true, terminating: false },
  ]);
  assert.deepEqual(addrs(d.backends.get(servicePortKey('default', 'web', 'metrics'))), ['10.244.0.2:9100', '10.244.0.3:9100']);
});

test('no ready endpoint: serving terminating ones take the traffic', () => {
  const s = svc('web', { clusterIP: '10.96.0.20', ports: [{ port: 80 }] });
  const term = (ip: string, serving: boolean): Endpoint => ({ addresses: [ip], conditions: { ready: false, serving, terminating: true } });
  const d = computeDesired([s], [slice('web', [{ name: '', port: 8080 }], [term('10.0.0.1', true), term('10.0.0.2', false), notReady('10.0.0.3')])]);
  assert.deepEqual(addrs(d.backends.get('default/web:')), ['10.0.0.1:8080']);
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
  const dnsPort = [{ name: 'dns', port: 53, protocol: 'UDP' }];
  const d = computeDesired([b, a], [slice('a', dnsPort, [ready('10.244.1.1')]), slice('a', dnsPort, [ready('10.244.1.1')])]);
  assert.equal(d.listeners.get(listenerKey('UDP', '10.96.0.30', 53))?.target, 'default/a:dns');
  assert.equal(d.listeners.get(listenerKey('TCP', '10.96.0.30', 53))?.target, 'default/a:dns-tcp');
  assert.deepEqual(addrs(d.backends.get('default/a:dns')), ['10.244.1.1:53']);
});

test('slices are matched by namespace and service-name label', () => {
  const d = computeDesired([svc('web', { clusterIP: '10.96.0.40', ports: [{ port: 80 }] }, 'prod')], [slice('web', [{ name: '', port: 80 }], [ready('1.2.3.4')], 'dev'), { ...slice('web', [{ name: '', port: 80 }], [ready('1.2.3.5')], 'prod'), metadata: { name: 'nolabel', namespace: 'prod' } }]);
  assert.deepEqual(d.backends.get('prod/web:'), []);
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
