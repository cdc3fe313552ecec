import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Service } from 'kubernetes-types/core/v1';
import { planSlices } from '../endpointslice/sync';
import { mirrorGroups, mirrorOwner, shouldMirror, MIRRORING_CONTROLLER_NAME, MAX_MIRRORED_ENDPOINTS } from './sync';

const eps = (subsets: Endpoints['subsets'], labels: Record<string, string> = { team: 'db' }): Endpoints => ({ metadata: { name: 'ext', namespace: 'default', uid: 'eps-uid', labels }, subsets });
const svc = (selector?: Record<string, string>): Service => ({ metadata: { name: 'ext', namespace: 'default' }, spec: { selector, ports: [{ port: 5432 }] } });

test('shouldMirror: only Endpoints of a selectorless Service, not skip-mirror', () => {
  assert.ok(shouldMirror(eps([]), svc()));
  assert.ok(shouldMirror(eps([]), svc({})));
  assert.ok(!shouldMirror(eps([]), svc({ app: 'x' })), 'the Service controller handles selector Services');
  assert.ok(!shouldMirror(eps([]), undefined), 'no Service');
  assert.ok(!shouldMirror(undefined, svc()));
  assert.ok(!shouldMirror(eps([], { 'endpointslice.kubernetes.io/skip-mirror': 'true' }), svc()));
});

test('mirrorGroups: ready and not-ready addresses, grouped by ports and address type, bad IPs and repeats skipped', () => {
  const g = mirrorGroups(eps([
    { addresses: [{ ip: '192.0.2.10', nodeName: 'n1' }, { ip: 'nope' }, { ip: '2001:db8::1' }], notReadyAddresses: [{ ip: '192.0.2.11' }, { ip: '192.0.2.10' }], ports: [{ name: 'pg', port: 5432 }] },
    { addresses: [{ ip: '192.0.2.12' }], ports: [{ name: 'pg', port: 6432 }] },
  ]));
  const show = [...g.values()].map((x) => [x.addressType, x.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`).join(','), x.endpoints.map((e) => `${e.addresses[0]}${e.conditions?.ready ? '' : ' (not ready)'}${e.nodeName ? ` @${e.nodeName}` : ''}`)]);
  assert.deepEqual(show, [
    ['IPv4', 'pg:5432/TCP', ['192.0.2.10 @n1', '192.0.2.11 (not ready)']],
    ['IPv6', 'pg:5432/TCP', ['2001:db8::1']],
    ['IPv4', 'pg:6432/TCP', ['192.0.2.12']],
  ]);
  const many = mirrorGroups(eps([{ addresses: Array.from({ length: 1200 }, (_, i) => ({ ip: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}` })), ports: [{ port: 1 }] }]));
  assert.equal([...many.values()][0].endpoints.length, MAX_MIRRORED_ENDPOINTS);
});

test('mirrored slices: labels from the Endpoints, owned by them, no placeholder when empty', () => {
  const e = eps([{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'pg', port: 5432 }] }]);
  const plan = planSlices(mirrorOwner(e), mirrorGroups(e), [], MAX_MIRRORED_ENDPOINTS);
  assert.equal(plan.create.length, 1);
  assert.deepEqual(plan.create[0].metadata, {
    generateName: 'ext-',
    namespace: 'default',
    labels: { team: 'db', 'kubernetes.io/service-name': 'ext', 'endpointslice.kubernetes.io/managed-by': MIRRORING_CONTROLLER_NAME },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Endpoints', name: 'ext', uid: 'eps-uid', controller: true, blockOwnerDeletion: true }],
  });
  assert.deepEqual(plan.create[0].endpoints, [{ addresses: ['192.0.2.10'], conditions: { ready: true } }]);
  const empty = eps([]);
  assert.deepEqual(planSlices(mirrorOwner(empty), mirrorGroups(empty), [], MAX_MIRRORED_ENDPOINTS), { create: [], update: [], delete: [] });
});
