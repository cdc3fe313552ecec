import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Answer, RecordType } from 'dns-packet';
import type { Endpoints, Service } from 'kubernetes-types/core/v1';
import { resolve, type Resolution } from './resolve';
import { buildZone, reverseName } from './zone';

const svc = (namespace: string, name: string, spec: Service['spec']): Service => ({ metadata: { namespace, name }, spec });
const eps = (namespace: string, name: string, subsets: Endpoints['subsets']): Endpoints => ({ metadata: { namespace, name }, subsets });

const services = [
  svc('default', 'hello', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 9000 }] }),
  svc('other', 'db', { clusterIP: '10.96.0.21', ports: [{ name: 'pg', port: 5432 }] }),
  svc('default', 'nginx', { clusterIP: 'None', ports: [{ name: 'web', port: 80 }] }),
  svc('default', 'empty', { clusterIP: 'None' }),
  svc('default', 'lazy', { clusterIP: 'None', publishNotReadyAddresses: true }),
  svc('default', 'ext', { type: 'ExternalName', externalName: 'example.org' }),
  svc('default', 'alias', { type: 'ExternalName', externalName: 'hello.default.svc.cluster.local' }),
  svc('kube-system', 'kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }),
];
const endpoints = [
  eps('default', 'nginx', [
    {
      addresses: [{ ip: '10.244.0.5', hostname: 'web-0' }, { ip: '10.244.0.6', hostname: 'web-1' }, { ip: '10.244.0.7' }],
      notReadyAddresses: [{ ip: '10.244.0.9', hostname: 'web-2' }],
      ports: [{ name: 'web', port: 8080, protocol: 'TCP' }],
    },
  ]),
  eps('default', 'lazy', [{ notReadyAddresses: [{ ip: '10.244.0.11' }] }]),
  eps('default', 'hello', [{ addresses: [{ ip: '10.244.0.99' }], ports: [{ name: 'http', port: 8080 }] }]),
];
const zone = buildZone({ domain: 'cluster.local', services, endpoints: (ns, n) => endpoints.find((e) => e.metadata!.namespace === ns && e.metadata!.name === n), dnsIP: '10.96.0.10' });

const ask = (name: string, type: string): Resolution => resolve(zone, { name, type: type as RecordType, class: 'IN' });
/** `TYPE data` of each answer, in order. */
const rr = (r: Resolution, section: 'answers' | 'authorities' | 'additionals' = 'answers') =>
  r.kind === 'answer' ? r[section].map((a: Answer) => `${a.type} ${'data' in a ? (typeof a.data === 'object' ? JSON.stringify(a.data) : String(a.data)) : ''}`) : ['forward'];
const rcode = (r: Resolution) => (r.kind === 'answer' ? r.rcode : 'forward');

test('records per the Kubernetes DNS specification', () => {
  const cases: [string, string, string, string[]][] = [
    // [name, type, rcode, answers]
    ['hello.default.svc.cluster.local', 'A', 'NOERROR', ['A 10.96.0.20']],
    ['HELLO.Default.svc.cluster.local.', 'A', 'NOERROR', ['A 10.96.0.20']],
    ['db.other.svc.cluster.local', 'A', 'NOERROR', ['A 10.96.0.21']],
    ['_http._tcp.hello.default.svc.cluster.local', 'SRV', 'NOERROR', ['SRV {"priority":0,"weight":100,"port":80,"target":"hello.default.svc.cluster.local"}']],
    // headless: ready endpoints only (web-2 is not ready)
    ['nginx.default.svc.cluster.local', 'A', 'NOERROR', ['A 10.244.0.5', 'A 10.244.0.6', 'A 10.244.0.7']],
    ['web-0.nginx.default.svc.cluster.local', 'A', 'NOERROR', ['A 10.244.0.5']],
    ['10-244-0-7.nginx.default.svc.cluster.local', 'A', 'NOERROR', ['A 10.244.0.7']],
    ['web-2.nginx.default.svc.cluster.local', 'A', 'NXDOMAIN', []],
    [
      '_web._tcp.nginx.default.svc.cluster.local', 'SRV', 'NOERROR',
      [
        'SRV {"priority":0,"weight":33,"port":8080,"target":"web-0.nginx.default.svc.cluster.local"}',
        'SRV {"priority":0,"weight":33,"port":8080,"target":"web-1.nginx.default.svc.cluster.local"}',
        'SRV {"priority":0,"weight":33,"port":8080,"target":"10-244-0-7.nginx.default.svc.cluster.local"}',
      ],
    ],
    // publishNotReadyAddresses: not-ready endpoints count
    ['lazy.default.svc.cluster.local', 'A', 'NOERROR', ['A 10.244.0.11']],
    // headless without endpoints: the name exists (NODATA, not NXDOMAIN)
    ['empty.default.svc.cluster.local', 'A', 'NOERROR', []],
    ['ext.default.svc.cluster.local', 'A', 'NOERROR', ['CNAME example.org']],
    ['ext.default.svc.cluster.local', 'CNAME', 'NOERROR', ['CNAME example.org']],
    // a CNAME into the zone is followed
    ['alias.default.svc.cluster.local', 'A', 'NOERROR', ['CNAME hello.default.svc.cluster.local', 'A 10.96.0.20']],
    ['10.0.96.10.in-addr.arpa', 'PTR', 'NOERROR', ['PTR kube-dns.kube-system.svc.cluster.local']],
    ['5.0.244.10.in-addr.arpa', 'PTR', 'NOERROR', ['PTR web-0.nginx.default.svc.cluster.local']],
    ['dns-version.cluster.local', 'TXT', 'NOERROR', ['TXT 1.1.0']],
    ['cluster.local', 'NS', 'NOERROR', ['NS ns.dns.cluster.local']],
    ['ns.dns.cluster.local', 'A', 'NOERROR', ['A 10.96.0.10']],
    ['10-244-1-3.default.pod.cluster.local', 'A', 'NOERROR', ['A 10.244.1.3']],
    // NODATA: the name exists, not with this type
    ['hello.default.svc.cluster.local', 'AAAA', 'NOERROR', []],
    ['hello.default.svc.cluster.local', 'TXT', 'NOERROR', []],
    ['default.svc.cluster.local', 'A', 'NOERROR', []],
    ['svc.cluster.local', 'A', 'NOERROR', []],
    // NXDOMAIN
    ['nope.default.svc.cluster.local', 'A', 'NXDOMAIN', []],
    ['hello.nope.svc.cluster.local', 'A', 'NXDOMAIN', []],
    ['_grpc._tcp.hello.default.svc.cluster.local', 'SRV', 'NXDOMAIN', []],
    ['hello.default.cluster.local', 'A', 'NXDOMAIN', []],
  ];
  for (const [name, type, code, answers] of cases) {
    const r = ask(name, type);
    assert.equal(rcode(r), code, `${name} ${type}: rcode`);
    assert.deepEqual(rr(r), answers, `${name} ${type}: answers`);
    if (code !== 'forward' && answers.length === 0) assert.deepEqual(rr(r, 'authorities').map((s) => s.split(' ')[0]), ['SOA'], `${name} ${type}: SOA in authority`);
  }
});

test('answers carry the name as asked and a 30 s TTL; SRV answers bring their targets’ addresses', () => {
  const r = ask('_WEB._tcp.nginx.default.svc.cluster.local', 'SRV');
  assert.equal(r.kind, 'answer');
  if (r.kind !== 'answer') return;
  assert.ok(r.authoritative);
  assert.ok(r.answers.every((a) => a.name === '_WEB._tcp.nginx.default.svc.cluster.local' && 'ttl' in a && a.ttl === 30));
  assert.deepEqual(rr(r, 'additionals'), ['A 10.244.0.5', 'A 10.244.0.6', 'A 10.244.0.7']);
  assert.deepEqual(rr(ask('hello.default.svc.cluster.local', 'ANY')), ['A 10.96.0.20']);
});

test('names outside the cluster domain, and reverse names the cluster does not own, go upstream', () => {
  assert.equal(rcode(ask('example.org', 'A')), 'forward');
  assert.equal(rcode(ask('cluster.local.example.org', 'A')), 'forward');
  assert.equal(rcode(ask('1.2.0.192.in-addr.arpa', 'PTR')), 'forward');
  const ext = ask('ext.default.svc.cluster.local', 'A');
  assert.deepEqual(ext.kind === 'answer' && ext.chase, { name: 'example.org', type: 'A', class: 'IN' });
});

test('a custom domain; malformed objects are skipped, not thrown', () => {
  const z = buildZone({
    domain: 'k.test',
    services: [svc('a', 'b', { clusterIP: '10.0.0.2' }), svc('a', 'Bad_Name', { clusterIP: '10.0.0.3' }), svc('a', 'h', { clusterIP: 'None' }), svc('a', 'x', { clusterIP: 'not-an-ip' })],
    endpoints: () => ({ subsets: [{ addresses: [{ ip: 'garbage' }, { ip: '10.1.0.1', hostname: 'NOT valid!' }], ports: [{ name: 'p', port: 99999 }] }] }) as unknown as Endpoints,
  });
  assert.deepEqual(rr(resolve(z, { name: 'b.a.svc.k.test', type: 'A' })), ['A 10.0.0.2']);
  assert.deepEqual(rr(resolve(z, { name: 'h.a.svc.k.test', type: 'A' })), ['A 10.1.0.1']);
  assert.deepEqual(rr(resolve(z, { name: '10-1-0-1.h.a.svc.k.test', type: 'A' })), ['A 10.1.0.1']);
  assert.equal(rcode(resolve(z, { name: 'x.a.svc.k.test', type: 'A' })), 'NOERROR');
  assert.equal(rcode(resolve(z, { name: 'b.a.svc.cluster.local', type: 'A' })), 'forward');
});

test('reverse names', () => {
  assert.equal(reverseName('10.96.0.10'), '10.0.96.10.in-addr.arpa');
  assert.equal(reverseName('fd00::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa');
  assert.equal(reverseName('nope'), undefined);
});
