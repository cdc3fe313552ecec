import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HTTPIngressPath, Ingress, IngressRule } from 'kubernetes-types/networking/v1';
import { buildRouteTable, normalizeHost, pathMatches, requestPath, routeRequest } from './routes';

const be = (service: string, port: number | string = 80) => ({ service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } } });
const path = (p: string, pathType: string, service: string): HTTPIngressPath => ({ path: p, pathType, backend: be(service) });
const ing = (name: string, created: string, rules: IngressRule[], defaultService?: string, namespace = 'default'): Ingress => ({
  metadata: { name, namespace, creationTimestamp: created },
  spec: { rules, ...(defaultService ? { defaultBackend: be(defaultService) } : {}) },
});
const svcOf = (t: ReturnType<typeof buildRouteTable>['table'], host: string, url: string) => {
  const m = routeRequest(t, host, url);
  return m ? `${m.backend.namespace}/${m.backend.service}` : '404';
};

test('path matching: the Ingress specification\'s examples', () => {
  // [rule type, rule path, request path, matches]
  const cases: [string, string, string, boolean][] = [
    ['Prefix', '/', '/', true],
    ['Prefix', '/', '/anything/at/all', true],
    ['Exact', '/foo', '/foo', true],
    ['Exact', '/foo', '/bar', false],
    ['Exact', '/foo', '/foo/', false],
    ['Exact', '/foo/', '/foo', false],
    ['Prefix', '/foo', '/foo', true],
    ['Prefix', '/foo', '/foo/', true],
    ['Prefix', '/foo/', '/foo', true],
    ['Prefix', '/foo/', '/foo/', true],
    ['Prefix', '/aaa/bb', '/aaa/bbb', false],
    ['Prefix', '/aaa/bbb', '/aaa/bbb', true],
    ['Prefix', '/aaa/bbb/', '/aaa/bbb', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/ccc', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbbxyz', false],
    ['Prefix', '/v1', '/v11', false],
    ['Prefix', '/v1', '/v1/x', true],
  ];
  for (const [pathType, rule, req, want] of cases) {
    const t = buildRouteTable([ing('i', '2026-01-01T00:00:00Z', [{ http: { paths: [path(rule, pathType, 'svc')] } }])]).table;
    assert.equal(routeRequest(t, 'h', req) !== undefined, want, `${pathType} ${rule} vs ${req}`);
    assert.equal(pathMatches(t.anyHost[0]!, req), want);
  }
});

test('longest path first across Ingresses; Exact beats Prefix of the same path; ImplementationSpecific is Prefix', () => {
  const t = buildRouteTable([
    ing('a', '2026-01-01T00:00:00Z', [{ host: 'app.example.com', http: { paths: [path('/', 'Prefix', 'root'), path('/v1', 'Prefix', 'v1')] } }]),
    ing('b', '2026-01-02T00:00:00Z', [{ host: 'app.example.com', http: { paths: [path('/v11', 'Prefix', 'v11'), path('/v1', 'Exact', 'v1-exact'), path('/v1/admin', 'ImplementationSpecific', 'admin')] } }]),
  ]).table;
  const cases: [string, string][] = [
    ['/', 'default/root'],
    ['/other', 'default/root'],
    ['/v1', 'default/v1-exact'],
    ['/v1/', 'default/v1'],
    ['/v1/users?id=3', 'default/v1'],
    ['/v11', 'default/v11'],
    ['/v11/x', 'default/v11'],
    ['/v111', 'default/root'],
    ['/v1/admin/x', 'default/admin'],
    ['/v1/administrator', 'default/v1'],
  ];
  for (const [url, want] of cases) assert.equal(svcOf(t, 'app.example.com', url), want, url);
});

test('hosts: exact beats wildcard, a wildcard is one label, host-less rules for other hosts, no fall-through', () => {
  const t = buildRouteTable([
    ing('w', '2026-01-01T00:00:00Z', [
      { host: '*.example.com', http: { paths: [path('/', 'Prefix', 'wild')] } },
      { host: 'api.example.com', http: { paths: [path('/v1', 'Prefix', 'api')] } },
      { http: { paths: [path('/', 'Prefix', 'catchall')] } },
    ]),
  ]).table;
  const cases: [string, string, string][] = [
    ['api.example.com', '/v1/x', 'default/api'],
    ['API.Example.com:8080', '/v1', 'default/api'],
    ['api.example.com.', '/v1', 'default/api'],
    ['api.example.com', '/v2', '404'], // the exact host decides; no fall-through to the wildcard
    ['www.example.com', '/anything', 'default/wild'],
    ['a.b.example.com', '/', 'default/catchall'], // two labels: not the wildcard
    ['example.com', '/', 'default/catchall'],
    ['10.0.0.1:80', '/', 'default/catchall'],
    ['', '/', 'default/catchall'],
  ];
  for (const [host, url, want] of cases) assert.equal(svcOf(t, host, url), want, `${host}${url}`);
});

test('defaultBackend: the oldest Ingress\'s, used when nothing matches; without one, 404', () => {
  const newer = ing('newer', '2026-02-01T00:00:00Z', [{ host: 'a.test', http: { paths: [path('/app', 'Prefix', 'app')] } }], 'fallback-new', 'other');
  const older = ing('older', '2026-01-01T00:00:00Z', [], 'fallback-old', 'team');
  const t = buildRouteTable([newer, older]).table;
  assert.equal(svcOf(t, 'a.test', '/app/1'), 'other/app');
  assert.equal(svcOf(t, 'a.test', '/nope'), 'team/fallback-old');
  assert.equal(svcOf(t, 'b.test', '/'), 'team/fallback-old');
  assert.equal(svcOf(buildRouteTable([newer]).table, 'zzz', '/'), 'other/fallback-new');
  const none = buildRouteTable([ing('x', '2026-01-01T00:00:00Z', [{ host: 'a.test', http: { paths: [path('/app', 'Prefix', 'app')] } }])]).table;
  assert.equal(svcOf(none, 'a.test', '/other'), '404');
  assert.equal(svcOf(buildRouteTable([]).table, 'a.test', '/'), '404');
});

test('conflicts: the same host, path and type in two Ingresses: the oldest wins and the other is reported', () => {
  const a = ing('a', '2026-01-02T00:00:00Z', [{ host: 'x.test', http: { paths: [path('/p/', 'Prefix', 'from-a')] } }]);
  const b = ing('b', '2026-01-01T00:00:00Z', [{ host: 'x.test', http: { paths: [path('/p', 'Prefix', 'from-b')] } }]);
  const c = ing('c', '2026-01-01T00:00:00Z', [{ host: 'x.test', http: { paths: [path('/p', 'Exact', 'from-c')] } }]);
  const { table, conflicts } = buildRouteTable([a, b, c]);
  assert.equal(svcOf(table, 'x.test', '/p/q'), 'default/from-b');
  assert.equal(svcOf(table, 'x.test', '/p'), 'default/from-c');
  assert.deepEqual(conflicts, [{ host: 'x.test', path: '/p', kept: 'default/b', dropped: 'default/a' }]);
  // equal timestamps: namespace/name decides
  const d = ing('d', '2026-01-01T00:00:00Z', [{ host: 'y.test', http: { paths: [path('/', 'Prefix', 'from-d')] } }]);
  const e = ing('e', '2026-01-01T00:00:00Z', [{ host: 'y.test', http: { paths: [path('/', 'Prefix', 'from-e')] } }]);
  assert.equal(svcOf(buildRouteTable([e, d]).table, 'y.test', '/'), 'default/from-d');
});

test('backends by port number or port name; resource backends and rules without a port are skipped', () => {
  const i: Ingress = {
    metadata: { name: 'i', namespace: 'n', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      rules: [{
        http: {
          paths: [
            { path: '/named', pathType: 'Prefix', backend: be('web', 'http') },
            { path: '/num', pathType: 'Prefix', backend: be('web', 8080) },
            { path: '/res', pathType: 'Prefix', backend: { resource: { kind: 'StorageBucket', name: 'b' } } },
            { path: '/noport', pathType: 'Prefix', backend: { service: { name: 'web' } } },
          ],
        },
      }],
    },
  };
  const t = buildRouteTable([i]).table;
  assert.deepEqual(routeRequest(t, 'h', '/named'), { backend: { namespace: 'n', service: 'web', port: { name: 'http' } }, ingress: 'n/i' });
  assert.deepEqual(routeRequest(t, 'h', '/num/x')?.backend.port, { number: 8080 });
  assert.equal(routeRequest(t, 'h', '/res'), undefined);
  assert.equal(routeRequest(t, 'h', '/noport'), undefined);
});

test('normalizeHost and requestPath', () => {
  const hosts: [string | undefined, string][] = [['Foo.COM', 'foo.com'], ['foo.com:8443', 'foo.com'], ['[::1]:80', '[::1]'], ['foo.com.', 'foo.com'], [undefined, '']];
  for (const [h, want] of hosts) assert.equal(normalizeHost(h), want, String(h));
  const paths: [string | undefined, string][] = [['/a/b?x=1', '/a/b'], ['/a#f', '/a'], ['http://h:1/p/q?z', '/p/q'], ['http://h', '/'], ['', '/'], [undefined, '/'], ['*', '/*']];
  for (const [u, want] of paths) assert.equal(requestPath(u), want, String(u));
});
