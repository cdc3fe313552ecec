import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Service } from 'kubernetes-types/core/v1';
import { computeDesired as computeFromSlices, servicePortKey, type DesiredOptions } from './desired';
import { sliceFromEndpoints } from './endpoints-from-slices';

/** These cases are written with Endpoints; each stands for the slices mirroring it. */
const computeDesired = (s: Service[], e: Endpoints[], o?: DesiredOptions) => computeFromSlices(s, e.flatMap(sliceFromEndpoints), o);
import { externalAddresses, localTarget } from './external';
import { healthCheckResponse } from './health-check';

type Spec = NonNullable<Service['spec']>;
const svc = (name: string, spec: Partial<Spec>, ingress?: { ip: string; ipMode?: string }[]): Service => ({
  metadata: { name, namespace: 'default' },
  spec: { clusterIP: '10.96.0.30', ports: [{ port: 8080 }], ...spec },
  status: { loadBalancer: ingress ? { ingress } : {} },
});
/** Endpoints of `web`: one ready pod on each named node. */
const eps = (name: string, nodes: string[]): Endpoints => ({
  metadata: { name, namespace: 'default' },
  subsets: [{ addresses: nodes.map((n, i) => ({ ip: `10.244.${i}.2`, nodeName: n })), ports: [{ port: 80 }] }],
});
const me = new Set(['127.0.0.1', '192.0.2.2']);
const keys = (m: Map<string, unknown>) => [...m.keys()].sort();

test('externalAddresses: own node addresses as they are, other nodes skipped, pool VIPs and foreign externalIPs bound on lo', () => {
  const cases: { name: string; svc: Service; want: ReturnType<typeof externalAddresses> }[] = [
    {
      name: 'ServiceLB node addresses (ipMode Proxy): only this node’s',
      svc: svc('lb', { type: 'LoadBalancer' }, [{ ip: '192.0.2.2', ipMode: 'Proxy' }, { ip: '192.0.2.3', ipMode: 'Proxy' }]),
      want: [{ address: '192.0.2.2', kind: 'LoadBalancer', bind: false }],
    },
    {
      name: 'pool address (ipMode VIP or unset) is bound on every node',
      svc: svc('lb', { type: 'LoadBalancer' }, [{ ip: '198.51.100.10', ipMode: 'VIP' }, { ip: '198.51.100.11' }, { ip: 'junk' }]),
      want: [
        { address: '198.51.100.10', kind: 'LoadBalancer', bind: true },
        { address: '198.51.100.11', kind: 'LoadBalancer', bind: true },
      ],
    },
    {
      name: 'externalIPs: local ones as they are, others bound; duplicates once',
      svc: svc('ext', { externalIPs: ['192.0.2.2', '203.0.113.7', '203.0.113.7'] }),
      want: [
        { address: '192.0.2.2', kind: 'ExternalIP', bind: false },
        { address: '203.0.113.7', kind: 'ExternalIP', bind: true },
      ],
    },
    { name: 'a stale ingress on a Service that is no longer a LoadBalancer is ignored', svc: svc('np', { type: 'NodePort' }, [{ ip: '198.51.100.10' }]), want: [] },
  ];
  for (const c of cases) assert.deepEqual(externalAddresses(c.svc, me), c.want, c.name);
});

test('LoadBalancer: the Service port answers on its ingress addresses besides the ClusterIP and NodePort', () => {
  const lb = svc('web', { type: 'LoadBalancer', ports: [{ port: 8080, nodePort: 30080 }] }, [{ ip: '192.0.2.2', ipMode: 'Proxy' }, { ip: '198.51.100.10' }]);
  const d = computeDesired([lb], [eps('web', ['n1', 'n2'])], { nodeName: 'n1', localAddresses: me, nodePortAddresses: ['0.0.0.0'] });
  assert.deepEqual(keys(d.listeners), ['TCP/0.0.0.0:30080', 'TCP/10.96.0.30:8080', 'TCP/192.0.2.2:8080', 'TCP/198.51.100.10:8080']);
  assert.equal(d.listeners.get('TCP/198.51.100.10:8080')!.kind, 'LoadBalancer');
  assert.deepEqual([...d.clusterIPs].sort(), ['10.96.0.30', '198.51.100.10']);
  const t = servicePortKey('default', 'web', undefined);
  for (const l of d.listeners.values()) assert.equal(l.target, t, `${l.key} balances over every endpoint`);
  assert.equal(d.backends.get(t)!.length, 2);
  assert.equal(d.healthChecks.size, 0);
});

test('externalTrafficPolicy Local: NodePort, LoadBalancer and externalIP listeners use this node’s endpoints only; ClusterIP all', () => {
  const lb = svc('web', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, externalIPs: ['203.0.113.7'], ports: [{ port: 8080, nodePort: 30080 }] }, [
    { ip: '192.0.2.2', ipMode: 'Proxy' },
  ]);
  const t = servicePortKey('default', 'web', undefined);
  const d = computeDesired([lb], [eps('web', ['n1', 'n2', 'n1'])], { nodeName: 'n1', localAddresses: me, nodePortAddresses: ['0.0.0.0'] });
  assert.equal(d.listeners.get('TCP/10.96.0.30:8080')!.target, t);
  for (const k of ['TCP/0.0.0.0:30080', 'TCP/192.0.2.2:8080', 'TCP/203.0.113.7:8080']) assert.equal(d.listeners.get(k)!.target, localTarget(t), k);
  assert.deepEqual(d.backends.get(localTarget(t)), [
    { ip: '10.244.0.2', port: 80, nodeName: 'n1', ready: true, serving: true, terminating: false },
    { ip: '10.244.2.2', port: 80, nodeName: 'n1', ready: true, serving: true, terminating: false },
  ]);
  assert.equal(d.backends.get(t)!.length, 3);
  assert.deepEqual(d.healthChecks.get(32000), { namespace: 'default', name: 'web', localEndpoints: 2 });

  // a node without endpoints of its own: the external listeners stay (kube-proxy drops), with no backends; health check 0
  const other = computeDesired([lb], [eps('web', ['n1'])], { nodeName: 'n3', localAddresses: me, nodePortAddresses: ['0.0.0.0'] });
  assert.deepEqual(other.backends.get(localTarget(t)), []);
  assert.deepEqual(other.healthChecks.get(32000), { namespace: 'default', name: 'web', localEndpoints: 0 });
});

test('internalTrafficPolicy Local: the ClusterIP keeps to this node’s endpoints; endpoints without a nodeName are never local', () => {
  const s = svc('web', { internalTrafficPolicy: 'Local' });
  const t = servicePortKey('default', 'web', undefined);
  const e: Endpoints = { metadata: { name: 'web', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.244.0.2', nodeName: 'n1' }, { ip: '10.244.1.2' }], ports: [{ port: 80 }] }] };
  const d = computeDesired([s], [e], { nodeName: 'n1' });
  assert.equal(d.listeners.get('TCP/10.96.0.30:8080')!.target, localTarget(t));
  assert.deepEqual(d.backends.get(localTarget(t)), [{ ip: '10.244.0.2', port: 80, nodeName: 'n1', ready: true, serving: true, terminating: false }]);
  assert.deepEqual(computeDesired([s], [e], {}).backends.get(localTarget(t)), [], 'no node name: nothing is local');
});

test('ExternalName and headless Services get no listener, whatever else they carry', () => {
  const name = svc('ext', { type: 'ExternalName', externalName: 'example.com', clusterIP: undefined, externalIPs: ['203.0.113.7'] });
  const headless = svc('db', { clusterIP: 'None', externalIPs: ['203.0.113.8'] });
  const d = computeDesired([name, headless], [eps('db', ['n1'])], { nodeName: 'n1', localAddresses: me });
  assert.equal(d.listeners.size, 0);
  assert.equal(d.clusterIPs.size, 0);
});

test('health check response: 200 with local endpoints, 503 without, kube-proxy’s body and headers', () => {
  const ok = healthCheckResponse({ namespace: 'default', name: 'web', localEndpoints: 2 }, true);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['X-Load-Balancing-Endpoint-Weight'], '2');
  assert.deepEqual(JSON.parse(ok.body), { service: { namespace: 'default', name: 'web' }, localEndpoints: 2, serviceProxyHealthy: true });
  assert.equal(healthCheckResponse({ namespace: 'default', name: 'web', localEndpoints: 0 }, true).status, 503);
  assert.equal(healthCheckResponse({ namespace: 'default', name: 'web', localEndpoints: 1 }, false).status, 503);
});
