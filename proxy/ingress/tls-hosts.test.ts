import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ingress, IngressTLS } from 'kubernetes-types/networking/v1';
import { buildTlsTable, secretForServerName } from './tls-hosts';

const ing = (name: string, ns: string, created: string, tls: IngressTLS[]): Ingress => ({ metadata: { name, namespace: ns, creationTimestamp: created }, spec: { tls, defaultBackend: { service: { name: 's', port: { number: 80 } } } } });

test('TLS Secrets by server name: exact beats wildcard (one label), oldest wins, host-less entry as fallback', () => {
  const t = buildTlsTable([
    ing('new', 'b', '2026-02-01T00:00:00Z', [{ hosts: ['app.test'], secretName: 'new-cert' }, { secretName: 'catchall' }]),
    ing('old', 'a', '2026-01-01T00:00:00Z', [{ hosts: ['app.test', '*.wild.test'], secretName: 'old-cert' }, { hosts: ['exact.wild.test'], secretName: 'exact' }]),
  ]);
  const cases: [string | undefined, string | undefined][] = [
    ['app.test', 'a/old-cert'],
    ['APP.test.', 'a/old-cert'],
    ['x.wild.test', 'a/old-cert'],
    ['exact.wild.test', 'a/exact'],
    ['a.b.wild.test', 'b/catchall'],
    ['other.test', 'b/catchall'],
    [undefined, 'b/catchall'],
  ];
  for (const [sni, want] of cases) assert.equal(secretForServerName(t, sni)?.secret, want, String(sni));
  assert.deepEqual([...t.secrets.keys()].sort(), ['a/exact', 'a/old-cert', 'b/catchall', 'b/new-cert']);
  assert.deepEqual(t.secrets.get('a/old-cert')?.ingresses, ['a/old']);
  assert.equal(secretForServerName(buildTlsTable([]), 'app.test'), undefined);
});
