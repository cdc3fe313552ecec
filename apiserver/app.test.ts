import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../lib/log';
import { buildApp, toApiError } from './app';
import { CompactedError, StoreUnavailableError } from './storage/types';
import { parseServiceCidr } from './allocators';
import { Registry } from './registry';
import { ResourceStorage } from './resources';
import { MemoryStore } from './storage/memory';
import { bootstrap } from './bootstrap';

async function setup(opts: { cacheCapacity?: number } = {}) {
  const store = new MemoryStore();
  const registry = new Registry();
  const log = createLogger('apiserver-test');
  const storage = new ResourceStorage({ store, registry, log, serviceCidr: parseServiceCidr('10.96.0.0/12'), nodePortRange: [30000, 32767], cacheCapacity: opts.cacheCapacity });
  await storage.start();
  await bootstrap(storage, registry, { advertiseAddress: '127.0.0.1', securePort: 6443, kubernetesServiceIP: '10.96.0.1' });
  const app = buildApp({ storage, registry, log, authenticate: (req) => (req.headers['x-test-user'] === 'none' ? undefined : { name: 'admin', groups: ['system:masters'] }) });
  const req = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.inject({ method: method as any, url, payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
    let json: any;
    try { json = res.json(); } catch { json = undefined; }
    return { code: res.statusCode, json, body: res.body, headers: res.headers };
  };
  return { app, storage, req, store, close: async () => { storage.stop(); await app.close(); } };
}

const pod = (name: string, extra: any = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] }, ...extra });
const deploy = (name: string) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
});

test('CRUD on pods with defaulting, conflicts and errors', async () => {
  const t = await setup();
  try {
    let r = await t.req('POST', '/api/v1/namespaces/default/pods', pod('p1'));
    assert.equal(r.code, 201);
    assert.equal(r.json.spec.restartPolicy, 'Always');
    assert.equal(r.json.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.equal(r.json.status.phase, 'Pending');
    assert.ok(r.json.metadata.uid && r.json.metadata.resourceVersion && r.json.metadata.creationTimestamp);
    const rv = r.json.metadata.resourceVersion;

    r = await t.req('POST', '/api/v1/namespaces/default/pods', pod('p1'));
    assert.equal(r.code, 409);
    assert.equal(r.json.reason, 'AlreadyExists');

    r = await t.req('GET', '/api/v1/namespaces/default/pods/p1');
    assert.equal(r.code, 200);
    assert.equal(r.json.metadata.resourceVersion, rv);

    r = await t.req('GET', '/api/v1/namespaces/default/pods/nope');
    assert.equal(r.code, 404);
    assert.deepEqual([r.json.reason, r.json.message, r.json.details.kind], ['NotFound', 'pods "nope" not found', 'pods']);

    const upd = (await t.req('GET', '/api/v1/namespaces/default/pods/p1')).json;
    upd.metadata.labels.extra = 'x';
    upd.status = { phase: 'Running' };
    r = await t.req('PUT', '/api/v1/namespaces/default/pods/p1', upd);
    assert.equal(r.code, 200);
    assert.equal(r.json.metadata.labels.extra, 'x');
    assert.equal(r.json.status.phase, 'Pending', 'main resource ignores status');
    r = await t.req('PUT', '/api/v1/namespaces/default/pods/p1', upd);
    assert.equal(r.code, 409);
    assert.equal(r.json.reason, 'Conflict');

    r = await t.req('PATCH', '/api/v1/namespaces/default/pods/p1/status', { status: { phase: 'Running' } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(r.code, 200);
    assert.equal(r.json.status.phase, 'Running');

    r = await t.req('POST', '/api/v1/namespaces/default/pods', '{bad json');
    assert.equal(r.code, 400);
    r = await t.req('POST', '/api/v1/namespaces/default/pods', { ...pod('x'), kind: 'Service' });
    assert.equal(r.code, 400);
    r = await t.req('POST', '/api/v1/namespaces/nope/pods', pod('x'));
    assert.equal(r.code, 404);
    assert.match(r.json.message, /namespaces "nope" not found/);
    r = await t.req('POST', '/api/v1/namespaces/default/pods', { ...pod('Bad_Name'), spec: { containers: [{ name: 'c' }] } });
    assert.equal(r.code, 422);
    assert.equal(r.json.details.kind, 'Pod');
    assert.deepEqual(r.json.details.causes.map((c: any) => c.field).sort(), ['metadata.name', 'spec.containers[0].image']);
    r = await t.req('POST', '/api/v1/namespaces/default/pods', pod('y'), { 'content-type': 'application/vnd.kubernetes.protobuf' });
    assert.equal(r.code, 400, 'a protobuf body without the k8s\\0 magic');
    r = await t.req('GET', '/api/v1/namespaces/default/pods', undefined, { 'x-test-user': 'none' });
    assert.equal(r.code, 401);
    assert.equal(r.json.reason, 'Unauthorized');
  } finally { await t.close(); }
});

test('binding, graceful pod deletion and label/field selectors', async () => {
  const t = await setup();
  try {
    await t.req('POST', '/api/v1/namespaces/default/pods', pod('a'));
    await t.req('POST', '/api/v1/namespaces/default/pods', pod('b', { metadata: { name: 'b', labels: { app: 'db' } } }));
    let r = await t.req('POST', '/api/v1/namespaces/default/pods/a/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'a' }, target: { kind: 'Node', name: 'n1' } });
    assert.equal(r.code, 201);
    r = await t.req('POST', '/api/v1/namespaces/default/pods/a/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'a' }, target: { kind: 'Node', name: 'n2' } });
    assert.equal(r.code, 409);
    r = await t.req('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1');
    assert.deepEqual(r.json.items.map((p: any) => p.metadata.name), ['a']);
    r = await t.req('GET', '/api/v1/namespaces/default/pods?labelSelector=app%20in%20(db,x)');
    assert.deepEqual(r.json.items.map((p: any) => p.metadata.name), ['b']);
    r = await t.req('GET', '/api/v1/namespaces/default/pods?labelSelector=app!%3Ddb');
    assert.deepEqual(r.json.items.map((p: any) => p.metadata.name), ['a']);
    r = await t.req('GET', '/api/v1/pods?fieldSelector=foo%3Dbar');
    assert.equal(r.code, 400);

    r = await t.req('DELETE', '/api/v1/namespaces/default/pods/a', { propagationPolicy: 'Background' });
    assert.equal(r.code, 200);
    assert.ok(r.json.metadata.deletionTimestamp, 'bound pod is marked, not removed');
    assert.equal(r.json.metadata.deletionGracePeriodSeconds, 30);
    r = await t.req('GET', '/api/v1/namespaces/default/pods/a');
    assert.equal(r.code, 200);
    r = await t.req('DELETE', '/api/v1/namespaces/default/pods/a', { gracePeriodSeconds: 0 });
    assert.equal(r.code, 200);
    r = await t.req('GET', '/api/v1/namespaces/default/pods/a');
    assert.equal(r.code, 404);
    r = await t.req('DELETE', '/api/v1/namespaces/default/pods/b');
    assert.equal(r.code, 200);
    assert.equal((await t.req('GET', '/api/v1/namespaces/default/pods/b')).code, 404, 'unbound pod is removed at once');
  } finally { await t.close(); }
});

test('deployments: defaults, generation, scale, patches, tables', async () => {
  const t = await setup();
  try {
    let r = await t.req('POST', '/apis/apps/v1/namespaces/default/deployments', deploy('web'));
    assert.equal(r.code, 201);
    assert.equal(r.json.spec.replicas, 1);
    assert.deepEqual(r.json.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    assert.equal(r.json.metadata.generation, 1);

    r = await t.req('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', { metadata: { labels: { a: 'b' } } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(r.json.metadata.generation, 1, 'metadata-only change keeps generation');
    r = await t.req('PATCH', '/apis/apps/v1/namespaces/default/deployments/web/scale', { spec: { replicas: 3 } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(r.code, 200);
    assert.deepEqual([r.json.kind, r.json.apiVersion, r.json.spec.replicas, r.json.status.selector], ['Scale', 'autoscaling/v1', 3, 'app=web']);
    r = await t.req('GET', '/apis/apps/v1/namespaces/default/deployments/web');
    assert.equal(r.json.metadata.generation, 2);

    r = await t.req('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', {
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }, { name: 'side' }], containers: [{ name: 'web', image: 'nginx:1.28' }, { name: 'side', image: 'busybox:1.36' }] } } },
    }, { 'content-type': 'application/strategic-merge-patch+json' });
    assert.equal(r.code, 200);
    assert.deepEqual(r.json.spec.template.spec.containers.map((c: any) => `${c.name}=${c.image}`), ['web=nginx:1.28', 'side=busybox:1.36']);
    assert.equal(r.json.spec.template.spec.containers[0].terminationMessagePath, '/dev/termination-log', 'kept fields of merged element');

    r = await t.req('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', [{ op: 'replace', path: '/spec/replicas', value: 5 }], { 'content-type': 'application/json-patch+json' });
    assert.equal(r.json.spec.replicas, 5);

    r = await t.req('PATCH', '/apis/apps/v1/namespaces/default/deployments/api?fieldManager=kubectl&force=true', JSON.stringify(deploy('api')), { 'content-type': 'application/apply-patch+yaml' });
    assert.equal(r.code, 201);
    const api4: any = deploy('api');
    api4.spec.replicas = 4;
    r = await t.req('PATCH', '/apis/apps/v1/namespaces/default/deployments/api?fieldManager=kubectl', JSON.stringify(api4), { 'content-type': 'application/apply-patch+yaml' });
    assert.equal(r.code, 200);
    assert.equal(r.json.spec.replicas, 4);

    const bad = deploy('bad');
    bad.spec.template.metadata.labels.app = 'other';
    r = await t.req('POST', '/apis/apps/v1/namespaces/default/deployments', bad);
    assert.equal(r.code, 422);
    assert.equal(r.json.details.causes[0].field, 'spec.template.metadata.labels');

    r = await t.req('GET', '/apis/apps/v1/namespaces/default/deployments', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    assert.equal(r.json.kind, 'Table');
    assert.deepEqual(r.json.columnDefinitions.map((c: any) => c.name), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
    assert.deepEqual(r.json.rows.map((row: any) => row.cells.slice(0, 4)), [['api', '0/4', 0, 0], ['web', '0/5', 0, 0]]);
    assert.equal(r.json.rows[0].object.kind, 'PartialObjectMetadata');
    assert.ok(r.json.metadata.resourceVersion);
  } finally { await t.close(); }
});

test('services: ClusterIP and NodePort allocation, release on delete', async () => {
  const t = await setup();
  try {
    let r = await t.req('GET', '/api/v1/namespaces/default/services/kubernetes');
    assert.equal(r.json.spec.clusterIP, '10.96.0.1');
    const svc = (name: string, spec: any) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }], ...spec } });
    r = await t.req('POST', '/api/v1/namespaces/default/services', svc('web', { type: 'NodePort' }));
    assert.equal(r.code, 201);
    assert.match(r.json.spec.clusterIP, /^10\.(9[6-9]|10[0-9]|11[01])\./);
    assert.equal(r.json.spec.ports[0].targetPort, 80);
    assert.equal(r.json.spec.ports[0].protocol, 'TCP');
    const np = r.json.spec.ports[0].nodePort;
    assert.ok(np >= 30000 && np <= 32767);
    r = await t.req('POST', '/api/v1/namespaces/default/services', svc('dup', { clusterIP: '10.96.0.1' }));
    assert.equal(r.code, 422);
    assert.match(r.json.message, /already allocated/);
    r = await t.req('POST', '/api/v1/namespaces/default/services', svc('dup2', { type: 'NodePort', ports: [{ port: 80, nodePort: np }] }));
    assert.equal(r.code, 422);
    r = await t.req('DELETE', '/api/v1/namespaces/default/services/web');
    assert.equal(r.code, 200);
    r = await t.req('POST', '/api/v1/namespaces/default/services', svc('dup2', { type: 'NodePort', ports: [{ port: 80, nodePort: np }] }));
    assert.equal(r.code, 201, 'nodePort released on delete');
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => t.req('POST', '/api/v1/namespaces/default/services', svc(`s${i}`, { type: 'NodePort' }))));
    const ips = new Set(many.map((m) => m.json.spec.clusterIP));
    const ports = new Set(many.map((m) => m.json.spec.ports[0].nodePort));
    assert.equal(ips.size, 20);
    assert.equal(ports.size, 20);
  } finally { await t.close(); }
});

test('services: LoadBalancer defaults, allocateLoadBalancerNodePorts false, healthCheckNodePort for externalTrafficPolicy Local', async () => {
  const t = await setup();
  try {
    const svc = (name: string, spec: any) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }], type: 'LoadBalancer', ...spec } });
    let r = await t.req('POST', '/api/v1/namespaces/default/services', svc('lb', {}));
    assert.equal(r.code, 201);
    assert.equal(r.json.spec.allocateLoadBalancerNodePorts, true);
    assert.equal(r.json.spec.externalTrafficPolicy, 'Cluster');
    assert.ok(r.json.spec.ports[0].nodePort >= 30000);
    assert.equal(r.json.spec.healthCheckNodePort, undefined);

    r = await t.req('POST', '/api/v1/namespaces/default/services', svc('nonp', { allocateLoadBalancerNodePorts: false }));
    assert.equal(r.code, 201);
    assert.equal(r.json.spec.ports[0].nodePort, undefined, 'no NodePort allocated');

    r = await t.req('POST', '/api/v1/namespaces/default/services', svc('local', { externalTrafficPolicy: 'Local' }));
    assert.equal(r.code, 201);
    const hc = r.json.spec.healthCheckNodePort;
    assert.ok(hc >= 30000 && hc <= 32767 && hc !== r.json.spec.ports[0].nodePort, `healthCheckNodePort ${hc}`);
    r = await t.req('POST', '/api/v1/namespaces/default/services', svc('taken', { type: 'NodePort', ports: [{ port: 80, nodePort: hc }] }));
    assert.equal(r.code, 422, 'the healthCheckNodePort is reserved like a NodePort');
    r = await t.req('POST', '/api/v1/namespaces/default/services', svc('taken2', { externalTrafficPolicy: 'Local', healthCheckNodePort: hc }));
    assert.equal(r.code, 422);
    assert.equal(r.json.details.causes[0].field, 'spec.healthCheckNodePort');
    r = await t.req('POST', '/api/v1/namespaces/default/services', svc('range', { externalTrafficPolicy: 'Local', healthCheckNodePort: 80 }));
    assert.equal(r.code, 422);
    assert.equal(r.json.details.causes[0].field, 'spec.healthCheckNodePort');

    // back to Cluster: the healthCheckNodePort goes, and is free again
    r = await t.req('PATCH', '/api/v1/namespaces/default/services/local', { spec: { externalTrafficPolicy: 'Cluster' } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(r.code, 200);
    assert.equal(r.json.spec.healthCheckNodePort, undefined);
    r = await t.req('POST', '/api/v1/namespaces/default/services', svc('taken', { type: 'NodePort', ports: [{ port: 80, nodePort: hc }] }));
    assert.equal(r.code, 201);
  } finally { await t.close(); }
});

test('watch: initial ADDED, live events, 410 for too-old versions, table events', async () => {
  const t = await setup({ cacheCapacity: 2 });
  try {
    const list = await t.req('GET', '/api/v1/namespaces/default/pods');
    const rv = list.json.metadata.resourceVersion;
    await t.req('POST', '/api/v1/namespaces/default/pods', pod('w1'));
    await t.req('DELETE', '/api/v1/namespaces/default/pods/w1');
    const r = await t.req('GET', `/api/v1/namespaces/default/pods?watch=1&resourceVersion=${rv}&timeoutSeconds=1`);
    const evs = r.body.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(evs.map((e) => `${e.type}:${e.object.metadata.name}`), ['ADDED:w1', 'DELETED:w1']);
    for (let i = 0; i < 10; i++) await t.req('POST', '/api/v1/namespaces/default/pods', pod(`x${i}`));
    const old = await t.req('GET', '/api/v1/namespaces/default/pods?watch=true&resourceVersion=1&timeoutSeconds=1');
    const e = JSON.parse(old.body.trim());
    assert.deepEqual([e.type, e.object.code, e.object.reason], ['ERROR', 410, 'Expired']);
    await t.req('POST', '/api/v1/namespaces/default/pods', pod('w2'));
    const tab = await t.req('GET', '/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    const te = JSON.parse(tab.body.trim().split('\n')[0]);
    assert.equal(te.object.kind, 'Table');
    assert.equal(te.object.rows[0].cells[0], 'w2');
  } finally { await t.close(); }
});

test('discovery, openapi, version, health, metrics', async () => {
  const t = await setup();
  try {
    let r = await t.req('GET', '/apis', undefined, { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' });
    assert.equal(r.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const dep = r.json.items[0].versions[0].resources.find((x: any) => x.resource === 'deployments');
    assert.deepEqual(dep.subresources.find((s: any) => s.subresource === 'scale').responseKind, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
    r = await t.req('GET', '/apis');
    assert.equal(r.json.kind, 'APIGroupList');
    r = await t.req('GET', '/api');
    assert.deepEqual(r.json.versions, ['v1']);
    r = await t.req('GET', '/api/v1');
    assert.ok(r.json.resources.some((x: any) => x.name === 'pods/binding'));
    r = await t.req('GET', '/openapi/v3');
    const url = r.json.paths['apis/apps/v1'].serverRelativeURL;
    r = await t.req('GET', url);
    const patch = r.json.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    assert.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation'));
    assert.ok(!('application/strategic-merge-patch+json' in patch.requestBody.content));
    assert.equal((await t.req('GET', '/openapi/v2')).code, 404);
    r = await t.req('GET', '/version');
    assert.deepEqual([r.json.major, r.json.minor], ['1', '32']);
    r = await t.req('GET', '/version/', undefined, { 'x-test-user': 'none' });
    assert.deepEqual([r.code, r.json.major, r.json.minor], [200, '1', '32']);
    assert.equal((await t.req('GET', '/readyz')).body, 'ok');
    r = await t.req('GET', '/metrics');
    assert.match(r.body, /apiserver_request_total\{verb="get",resource="discovery"/);
  } finally { await t.close(); }
});

test('namespace deletion removes its contents, then the namespace', async () => {
  const t = await setup();
  try {
    await t.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tmp' } });
    await t.req('POST', '/api/v1/namespaces/tmp/pods', pod('p'));
    let r = await t.req('DELETE', '/api/v1/namespaces/tmp');
    assert.equal(r.json.status.phase, 'Terminating');
    r = await t.req('POST', '/api/v1/namespaces/tmp/pods', pod('q'));
    assert.equal(r.code, 403);
    for (let i = 0; i < 50 && (await t.req('GET', '/api/v1/namespaces/tmp')).code === 200; i++) await new Promise((res) => setTimeout(res, 100));
    assert.equal((await t.req('GET', '/api/v1/namespaces/tmp')).code, 404);
    assert.equal((await t.req('GET', '/api/v1/namespaces/tmp/pods/p')).code, 404);
  } finally { await t.close(); }
});

test('boolean query parameters read as the Kubernetes apiserver does: watch=True (the Python client) streams a watch, watch=False and watch=0 list', async () => {
  const t = await setup();
  try {
    await t.req('POST', '/api/v1/namespaces/default/pods', pod('py1'));
    const r = await t.req('GET', '/api/v1/namespaces/default/pods?watch=True&timeoutSeconds=1');
    assert.equal(r.code, 200);
    const evs = r.body.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(evs.map((e) => `${e.type}:${e.object.metadata.name}`), ['ADDED:py1']);
    const list = await t.req('GET', '/api/v1/namespaces/default/pods?watch=False');
    assert.deepEqual([list.code, list.json.kind], [200, 'PodList']);
    const zero = await t.req('GET', '/api/v1/namespaces/default/pods?watch=0');
    assert.deepEqual([zero.code, zero.json.kind], [200, 'PodList']);
    const yes = await t.req('GET', '/api/v1/namespaces/default/pods?watch=yes&timeoutSeconds=1');
    assert.deepEqual(yes.body.trim().split('\n').map((l) => JSON.parse(l).type), ['ADDED']);
    const force = await t.req('PATCH', '/api/v1/namespaces/default/pods/py1?fieldManager=m&force=T', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'py1', labels: { x: 'y' } } }, { 'content-type': 'application/apply-patch+yaml' });
    assert.equal(force.code, 200);
    assert.equal(force.json.metadata.labels.x, 'y');
  } finally { await t.close(); }
});

test('a continue token whose revision the store no longer holds: 410 Expired (CompactedError from the store)', async () => {
  const t = await setup();
  try {
    for (const n of ['c1', 'c2', 'c3']) await t.req('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: n } });
    const first = await t.req('GET', '/api/v1/namespaces/default/configmaps?limit=1');
    assert.ok(first.json.metadata.continue);
    await t.req('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'c4' } });
    const r = await t.req('GET', `/api/v1/namespaces/default/configmaps?limit=1&continue=${first.json.metadata.continue}`);
    assert.deepEqual([r.code, r.json.reason], [410, 'Expired']);
    assert.match(r.json.message, /continue parameter is too old/);
  } finally { await t.close(); }
});

test('store errors map to Statuses by type: unavailable 503, compacted 410 Expired', () => {
  const unavailable = toApiError(new StoreUnavailableError('etcd3: no endpoint answered Range within 10000 ms'));
  assert.deepEqual([unavailable.code, unavailable.reason], [503, 'ServiceUnavailable']);
  const compacted = toApiError(new CompactedError(7));
  assert.deepEqual([compacted.code, compacted.reason], [410, 'Expired']);
  // a plain Error whose text mentions compaction is not recognised by its message
  assert.equal(toApiError(new Error('required revision has been compacted')).code, 500);
});
