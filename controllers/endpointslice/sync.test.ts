import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1';
import { CONTROLLER_NAME, desiredEndpoints, HEADLESS_LABEL, MANAGED_BY_LABEL, planEndpointSlices, SERVICE_NAME_LABEL, type SlicePlan } from './sync';

type SvcSpec = NonNullable<Service['spec']>;
const svc = (extra: Partial<SvcSpec> = {}, labels: Record<string, string> = { tier: 'fe' }): Service => ({
  metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', labels },
  spec: { selector: { app: 'web' }, clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...extra },
});

interface PodOpts { ip?: string; ready?: boolean; deleting?: boolean; port?: number; phase?: string; node?: string; labels?: Record<string, string>; hostname?: string; subdomain?: string }
function pod(name: string, o: PodOpts = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: o.labels ?? { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: o.node ?? 'n1', hostname: o.hostname, subdomain: o.subdomain, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: o.port ?? 8080 }] }] },
    status: { podIP: o.ip, phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}
const nodes = new Map<string, Node>([
  ['n1', { metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'z1' } } }],
  ['n2', { metadata: { name: 'n2' } }],
]);
const cond = (ready: boolean, serving: boolean, terminating: boolean) => ({ ready, serving, terminating });
const ownerRef = { apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true };
const labels = { tier: 'fe', [SERVICE_NAME_LABEL]: 'web', [MANAGED_BY_LABEL]: CONTROLLER_NAME };

/** A stored slice of `web` as the apiserver would return it. */
function slice(name: string, endpoints: Endpoint[], port = 8080, extra: Partial<EndpointSlice> = {}): EndpointSlice {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '5', labels, ownerReferences: [ownerRef] },
    addressType: 'IPv4',
    ports: port ? [{ name: 'http', port, protocol: 'TCP' }] : [],
    endpoints,
    ...extra,
  };
}
const ep = (p: Pod, node = nodes.get('n1')) => desiredEndpoints(svc(), [p], new Map(node ? [[p.spec!.nodeName!, node]] : [])).groups.values().next().value!.endpoints[0];

test('endpoints: conditions, nodeName, zone, targetRef, hostname; which pods are in', () => {
  const pods = [
    pod('a', { ip: '10.244.0.2' }),
    pod('nr', { ip: '10.244.0.3', ready: false }),
    pod('term', { ip: '10.244.0.4', deleting: true }),
    pod('termnr', { ip: '10.244.0.5', deleting: true, ready: false }),
    pod('h', { ip: '10.244.0.6', node: 'n2', hostname: 'h0', subdomain: 'web' }),
    pod('hother', { ip: '10.244.0.7', node: 'n2', hostname: 'h1', subdomain: 'db' }),
    pod('noip'),
    pod('done', { ip: '10.244.0.8', phase: 'Succeeded' }),
    pod('failed', { ip: '10.244.0.9', phase: 'Failed' }),
    pod('other', { ip: '10.244.0.10', labels: { app: 'db' } }),
    pod('v6', { ip: 'fd00::1' }),
  ];
  const d = desiredEndpoints(svc(), pods, nodes);
  assert.deepEqual(d.skipped, []);
  assert.equal(d.groups.size, 1);
  const g = [...d.groups.values()][0];
  assert.deepEqual(g.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  const byName = Object.fromEntries(g.endpoints.map((e) => [e.targetRef!.name, e]));
  assert.deepEqual(Object.keys(byName).sort(), ['a', 'h', 'hother', 'nr', 'term', 'termnr']);
  assert.deepEqual(byName.a, { addresses: ['10.244.0.2'], conditions: cond(true, true, false), nodeName: 'n1', zone: 'z1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } });
  assert.deepEqual(byName.nr.conditions, cond(false, false, false));
  assert.deepEqual(byName.term.conditions, cond(false, true, true), 'a terminating pod keeps serving per readiness but is not ready');
  assert.deepEqual(byName.termnr.conditions, cond(false, false, true));
  assert.equal(byName.h.hostname, 'h0');
  assert.equal(byName.h.zone, undefined, 'n2 has no zone label');
  assert.equal(byName.hother.hostname, undefined, 'hostname only when the subdomain is the Service');
  assert.deepEqual(g.endpoints.map((e) => e.addresses[0]), ['10.244.0.2', '10.244.0.3', '10.244.0.4', '10.244.0.5', '10.244.0.6', '10.244.0.7']);
});

test('publishNotReadyAddresses: every endpoint ready, terminating ones too; unknown node still published', () => {
  const pods = [pod('nr', { ip: '10.0.0.1', ready: false }), pod('t', { ip: '10.0.0.2', deleting: true }), pod('lost', { ip: '10.0.0.3', node: 'gone' })];
  const d = desiredEndpoints(svc({ publishNotReadyAddresses: true }), pods, nodes);
  const e = [...d.groups.values()][0].endpoints;
  assert.deepEqual(e.map((x) => [x.targetRef!.name, x.conditions]), [
    ['nr', cond(true, false, false)],
    ['t', cond(true, true, true)],
    ['lost', cond(true, true, false)],
  ]);
  assert.deepEqual(d.skipped, []);
});

test('a pod on an unknown node is skipped and reported (the Service is retried)', () => {
  const d = desiredEndpoints(svc(), [pod('lost', { ip: '10.0.0.3', node: 'gone' }), pod('a', { ip: '10.0.0.1' })], nodes);
  assert.deepEqual(d.skipped, ['lost']);
  assert.equal([...d.groups.values()][0].endpoints.length, 1);
});

test('pods resolving a named port differently are grouped apart; unresolved ports are left out', () => {
  const s = svc({ ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }, { name: 'metrics', port: 9100, targetPort: 'metrics', protocol: 'TCP' }, { name: 'fixed', port: 81, targetPort: 7000, protocol: 'TCP' }] });
  const d = desiredEndpoints(s, [pod('a', { ip: '10.0.0.1', port: 8080 }), pod('b', { ip: '10.0.0.2', port: 9090 }), pod('c', { ip: '10.0.0.3', port: 8080 })], nodes);
  const groups = [...d.groups.values()].map((g) => [g.ports.map((p) => `${p.name}:${p.port}`).join(','), g.endpoints.map((e) => e.targetRef!.name).join(',')]).sort();
  assert.deepEqual(groups, [
    ['fixed:7000,http:8080', 'a,c'],
    ['fixed:7000,http:9090', 'b'],
  ]);
});

const desired = (pods: Pod[], s = svc()) => desiredEndpoints(s, pods, nodes);
const many = (n: number, from = 0) => Array.from({ length: n }, (_, i) => pod(`p${String(from + i).padStart(3, '0')}`, { ip: `10.244.${Math.floor((from + i) / 250)}.${((from + i) % 250) + 1}` }));
const summary = (p: SlicePlan) => ({
  create: p.create.map((s) => `${s.metadata?.generateName}${s.metadata?.name ?? ''}:${s.endpoints.length}`),
  update: p.update.map((s) => `${s.metadata?.name}:${s.endpoints.length}`),
  delete: p.delete.map((s) => s.metadata?.name),
});

test('planEndpointSlices: table', () => {
  const a = pod('a', { ip: '10.0.0.1' });
  const b = pod('b', { ip: '10.0.0.2' });
  const c = pod('c', { ip: '10.0.0.3' });
  const cases: { name: string; pods: Pod[]; existing: EndpointSlice[]; max?: number; svc?: Service; want: ReturnType<typeof summary> }[] = [
    { name: 'no pods, no slices: one placeholder', pods: [], existing: [], want: { create: ['web-:0'], update: [], delete: [] } },
    { name: 'no pods, the placeholder exists: nothing', pods: [], existing: [slice('web-ph', [], 0)], want: { create: [], update: [], delete: [] } },
    { name: 'first pods: one slice', pods: [a, b], existing: [], want: { create: ['web-:2'], update: [], delete: [] } },
    { name: 'pods arrive while a placeholder exists: the placeholder is reused', pods: [a], existing: [slice('web-ph', [], 0)], want: { create: [], update: ['web-ph:1'], delete: [] } },
    { name: 'up to date: nothing', pods: [a, b], existing: [slice('web-1', [ep(a), ep(b)])], want: { create: [], update: [], delete: [] } },
    { name: 'a new pod tops up the slice it fits', pods: [a, b, c], existing: [slice('web-1', [ep(a), ep(b)])], want: { create: [], update: ['web-1:3'], delete: [] } },
    { name: 'a pod gone: the slice shrinks', pods: [a], existing: [slice('web-1', [ep(a), ep(b)])], want: { create: [], update: ['web-1:1'], delete: [] } },
    { name: 'readiness changed: updated in place', pods: [a, pod('b', { ip: '10.0.0.2', ready: false })], existing: [slice('web-1', [ep(a), ep(b)])], want: { create: [], update: ['web-1:2'], delete: [] } },
    { name: 'all pods gone: the slice becomes the placeholder', pods: [], existing: [slice('web-1', [ep(a)])], want: { create: [], update: ['web-1:0'], delete: [] } },
    { name: '250 pods, max 100: three slices', pods: many(250), existing: [], want: { create: ['web-:100', 'web-:100', 'web-:50'], update: [], delete: [] } },
    { name: 'max-endpoints-per-slice 2', pods: [a, b, c], existing: [], max: 2, want: { create: ['web-:2', 'web-:1'], update: [], delete: [] } },
    { name: 'a full slice stays; a new pod goes to the fullest unchanged slice with room', pods: [a, b, c], max: 2, existing: [slice('web-1', [ep(a), ep(b)]), slice('web-2', [])], want: { create: [], update: ['web-2:1'], delete: [] } },
    { name: 'the target port changed: the old port group goes, its slice is reused', pods: [pod('a', { ip: '10.0.0.1', port: 9000 })], existing: [slice('web-1', [ep(a)])], want: { create: [], update: ['web-1:1'], delete: [] } },
    { name: 'a slice of an older Service of the same name is deleted', pods: [a], existing: [slice('old', [ep(a)], 8080, { metadata: { name: 'old', namespace: 'default', labels, ownerReferences: [{ ...ownerRef, uid: 'older' }] } })], want: { create: ['web-:1'], update: [], delete: ['old'] } },
    { name: 'service labels changed: labels rewritten', pods: [a], svc: svc({}, { tier: 'be' }), existing: [slice('web-1', [ep(a)])], want: { create: [], update: ['web-1:1'], delete: [] } },
    { name: 'labels changed and a new pod: it tops up the slice being rewritten', pods: [a, b], svc: svc({}, { tier: 'be' }), existing: [slice('web-1', [ep(a)])], want: { create: [], update: ['web-1:2'], delete: [] } },
    { name: 'an endpoint in two slices (a move) is kept once', pods: [a, b], existing: [slice('web-1', [ep(a)]), slice('web-2', [ep(a), ep(b)])], want: { create: [], update: ['web-2:1'], delete: [] } },
  ];
  for (const c of cases) {
    const s = c.svc ?? svc();
    const before = JSON.stringify(c.existing);
    const plan = planEndpointSlices(s, desired(c.pods, s), c.existing, c.max);
    assert.equal(JSON.stringify(c.existing), before, `${c.name}: the cached slices are not modified`);
    assert.deepEqual(summary(plan), c.want, c.name);
    // The endpoints the plan leaves behind are exactly the desired ones, each once.
    const written = new Set([...plan.update, ...plan.create].map((x) => x.metadata?.name ?? '?'));
    const after = [...c.existing.filter((x) => !written.has(x.metadata?.name ?? '') && !plan.delete.includes(x)), ...plan.update, ...plan.create];
    const ips = after.flatMap((x) => x.endpoints.map((e) => e.addresses[0])).sort();
    assert.deepEqual(ips, c.pods.map((p) => p.status!.podIP!).sort(), `${c.name}: endpoints after the plan`);
    for (const x of after) assert.ok(x.endpoints.length <= (c.max ?? 100), `${c.name}: slice size`);
  }
});

test('a new slice: generateName, labels (headless too), owner, address type, ports, endpoints', () => {
  const s = svc({ clusterIP: 'None' });
  const plan = planEndpointSlices(s, desired([pod('a', { ip: '10.0.0.1' })], s), []);
  assert.equal(plan.create.length, 1);
  const x = plan.create[0];
  assert.deepEqual(x.metadata, { generateName: 'web-', namespace: 'default', labels: { ...labels, [HEADLESS_LABEL]: '' }, ownerReferences: [ownerRef] });
  assert.equal(x.addressType, 'IPv4');
  assert.deepEqual(x.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(x.endpoints.map((e) => e.addresses), [['10.0.0.1']]);
});
