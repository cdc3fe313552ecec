import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1';
import { endpointsForPort, groupSlicesByService, serviceBackends, sliceFromEndpoints, usableBackends, type Backend } from './endpoints-from-slices';

let n = 0;
const slice = (endpoints: Endpoint[], ports: EndpointSlice['ports'] = [{ name: 'http', port: 8080, protocol: 'TCP' }], extra: Partial<EndpointSlice> = {}): EndpointSlice => ({
  metadata: { name: `web-${n++}`, namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  ports,
  endpoints,
  ...extra,
});
const e = (ip: string, c: Endpoint['conditions'], nodeName?: string): Endpoint => ({ addresses: [ip], conditions: c, ...(nodeName ? { nodeName } : {}) });
const R = { ready: true, serving: true, terminating: false };
const NR = { ready: false, serving: false, terminating: false };
const TS = { ready: false, serving: true, terminating: true };
const TN = { ready: false, serving: false, terminating: true };
const http = { name: 'http', port: 80 };
const show = (bs: Backend[]) => bs.map((b) => `${b.ip}:${b.port}${b.ready ? ' ready' : ''}${b.serving ? ' serving' : ''}${b.terminating ? ' terminating' : ''}${b.nodeName ? ` @${b.nodeName}` : ''}`);

test('endpointsForPort and usableBackends: table', () => {
  const cases: { name: string; slices: EndpointSlice[]; port?: { name?: string; port: number; protocol?: string }; all: string[]; usable: string[] }[] = [
    { name: 'no slices', slices: [], all: [], usable: [] },
    {
      name: 'ready and not ready; nodeName kept',
      slices: [slice([e('10.0.0.2', R, 'n1'), e('10.0.0.1', NR)])],
      all: ['10.0.0.1:8080', '10.0.0.2:8080 ready serving @n1'],
      usable: ['10.0.0.2:8080 ready serving @n1'],
    },
    {
      name: 'merged across slices, sorted',
      slices: [slice([e('10.0.0.3', R)]), slice([e('10.0.0.1', R)])],
      all: ['10.0.0.1:8080 ready serving', '10.0.0.3:8080 ready serving'],
      usable: ['10.0.0.1:8080 ready serving', '10.0.0.3:8080 ready serving'],
    },
    {
      name: 'an endpoint in two slices (moving) counts once; the ready copy wins',
      slices: [slice([e('10.0.0.1', NR)]), slice([e('10.0.0.1', R)]), slice([e('10.0.0.1', NR)])],
      all: ['10.0.0.1:8080 ready serving'],
      usable: ['10.0.0.1:8080 ready serving'],
    },
    {
      name: 'ready ones exist: terminating ones get no new connections',
      slices: [slice([e('10.0.0.1', TS), e('10.0.0.2', R)])],
      all: ['10.0.0.1:8080 serving terminating', '10.0.0.2:8080 ready serving'],
      usable: ['10.0.0.2:8080 ready serving'],
    },
    {
      name: 'no ready ones: serving terminating ones take new connections (not the non-serving)',
      slices: [slice([e('10.0.0.1', TS), e('10.0.0.2', TN), e('10.0.0.3', NR)])],
      all: ['10.0.0.1:8080 serving terminating', '10.0.0.2:8080 terminating', '10.0.0.3:8080'],
      usable: ['10.0.0.1:8080 serving terminating'],
    },
    {
      name: 'conditions unset mean ready (and serving as ready), not terminating',
      slices: [slice([{ addresses: ['10.0.0.1'] }, e('10.0.0.2', { ready: false })])],
      all: ['10.0.0.1:8080 ready serving', '10.0.0.2:8080'],
      usable: ['10.0.0.1:8080 ready serving'],
    },
    {
      name: 'slices that resolve the named port differently give different ports',
      slices: [slice([e('10.0.0.1', R)]), slice([e('10.0.0.2', R)], [{ name: 'http', port: 9090, protocol: 'TCP' }])],
      all: ['10.0.0.1:8080 ready serving', '10.0.0.2:9090 ready serving'],
      usable: ['10.0.0.1:8080 ready serving', '10.0.0.2:9090 ready serving'],
    },
    { name: 'port name must match', slices: [slice([e('10.0.0.1', R)])], port: { name: 'metrics', port: 9100 }, all: [], usable: [] },
    { name: 'protocol must match', slices: [slice([e('10.0.0.1', R)])], port: { name: 'http', port: 80, protocol: 'UDP' }, all: [], usable: [] },
    { name: 'an unnamed Service port matches the unnamed slice port', slices: [slice([e('10.0.0.1', R)], [{ port: 53, protocol: 'UDP' }])], port: { port: 53, protocol: 'UDP' }, all: ['10.0.0.1:53 ready serving'], usable: ['10.0.0.1:53 ready serving'] },
    { name: 'FQDN slices are ignored', slices: [slice([{ addresses: ['db.example.com'] }], undefined, { addressType: 'FQDN' })], all: [], usable: [] },
    {
      name: 'malformed user-written slices are skipped, never thrown',
      slices: [
        null as unknown as EndpointSlice,
        slice('x' as never),
        slice([e('10.0.0.1', R)], 'x' as never),
        slice([e('10.0.0.1', R)], [null as never]),
        slice([e('10.0.0.1', R)], [{ name: 'http', port: 70000 }]),
        slice([null as never, { addresses: 'x' } as never, { addresses: [5] } as never, { addresses: ['not-an-ip'] }, e('10.0.0.9', R)]),
      ],
      all: ['10.0.0.9:8080 ready serving'],
      usable: ['10.0.0.9:8080 ready serving'],
    },
  ];
  for (const c of cases) {
    const all = endpointsForPort(c.port ?? http, c.slices);
    assert.deepEqual(show(all), c.all, c.name);
    assert.deepEqual(show(usableBackends(all)), c.usable, c.name);
  }
});

test('groupSlicesByService: by namespace and the service-name label; unlabelled slices dropped', () => {
  const a = slice([]);
  const b = { ...slice([]), metadata: { name: 'x', namespace: 'prod', labels: { 'kubernetes.io/service-name': 'web' } } };
  const c = { ...slice([]), metadata: { name: 'y', namespace: 'default' } };
  const g = groupSlicesByService([a, b, c]);
  assert.deepEqual([...g.keys()].sort(), ['default/web', 'prod/web']);
});

test('serviceBackends: by port number or name; unknown Service or port gives none', () => {
  const svc: Service = { metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }, { name: 'admin', port: 81 }] } };
  const slices = [slice([e('10.0.0.1', R), e('10.0.0.2', NR)], [{ name: 'http', port: 8080 }, { name: 'admin', port: 8081 }])];
  assert.deepEqual(show(serviceBackends(svc, slices, { number: 80 })), ['10.0.0.1:8080 ready serving']);
  assert.deepEqual(show(serviceBackends(svc, slices, { name: 'admin' })), ['10.0.0.1:8081 ready serving']);
  assert.deepEqual(serviceBackends(svc, slices, { number: 8080 }), []);
  assert.deepEqual(serviceBackends(undefined, slices, { number: 80 }), []);
});

test('sliceFromEndpoints: addresses ready, notReadyAddresses not', () => {
  const s = sliceFromEndpoints({ metadata: { name: 'web', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.0.0.1', nodeName: 'n1' }], notReadyAddresses: [{ ip: '10.0.0.2' }], ports: [{ name: 'http', port: 8080 }] }] });
  assert.deepEqual(show(endpointsForPort(http, s)), ['10.0.0.1:8080 ready serving @n1', '10.0.0.2:8080']);
});
