import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../lib/log';
import { buildApp } from './app';
import { parseServiceCidr } from './allocators';
import { Registry } from './registry';
import { ResourceStorage } from './resources';
import { MemoryStore } from './storage/memory';
import { bootstrap } from './bootstrap';
import { encodeProtobufObject } from './protobuf';
import { applyManagedFields, fieldsOf, formatPath, fromFieldsV1, toFieldsV1, updateManagedFields } from './managedfields';
import { pruneUnknownFields } from './fieldvalidation';

async function setup() {
  const store = new MemoryStore();
  const registry = new Registry();
  const log = createLogger('apiserver-test');
  const storage = new ResourceStorage({ store, registry, log, serviceCidr: parseServiceCidr('10.96.0.0/12'), nodePortRange: [30000, 32767] });
  await storage.start();
  await bootstrap(storage, registry, { advertiseAddress: '127.0.0.1', securePort: 6443, kubernetesServiceIP: '10.96.0.1' });
  const app = buildApp({ storage, registry, log, authenticate: (req) => ({ name: String(req.headers['x-user'] ?? 'admin'), groups: req.headers['x-user'] ? [] : ['system:masters'] }) });
  const req = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.inject({ method: method as any, url, payload: body === undefined ? undefined : Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
    let json: any;
    try { json = res.json(); } catch { json = undefined; }
    return { code: res.statusCode, json, body: res.body, headers: res.headers };
  };
  return { req, close: async () => { storage.stop(); await app.close(); } };
}

const TABLE = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };
const APPLY = { 'content-type': 'application/apply-patch+yaml' };

test('configmaps and secrets: validation, stringData, tables, field selectors', async () => {
  const t = await setup();
  try {
    let r = await t.req('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'cm' }, data: { a: '1', 'b.txt': '2' } });
    assert.equal(r.code, 201);
    r = await t.req('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'bad' }, data: { 'no/slash': 'x' } });
    assert.equal(r.code, 422);
    r = await t.req('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 's' }, stringData: { user: 'admin' }, data: { pw: Buffer.from('x').toString('base64') } });
    assert.equal(r.code, 201);
    assert.equal(r.json.type, 'Opaque');
    assert.equal(r.json.stringData, undefined);
    assert.deepEqual(r.json.data, { pw: 'eA==', user: 'YWRtaW4=' });
    r = await t.req('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 'bad' }, data: { k: 'not base64!' } });
    assert.equal(r.code, 422);
    assert.match(r.json.message, /illegal base64 data/);
    r = await t.req('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 'tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==', 'tls.key': 'eA==' } });
    assert.equal(r.code, 201);
    r = await t.req('GET', '/api/v1/namespaces/default/secrets?fieldSelector=type%3Dkubernetes.io%2Ftls');
    assert.deepEqual(r.json.items.map((i: any) => i.metadata.name), ['tls']);
    r = await t.req('GET', '/api/v1/namespaces/default/secrets', undefined, TABLE);
    assert.deepEqual(r.json.columnDefinitions.map((c: any) => c.name), ['Name', 'Type', 'Data', 'Age']);
    assert.deepEqual(r.json.rows.map((x: any) => x.cells.slice(0, 3)), [['s', 'Opaque', 2], ['tls', 'kubernetes.io/tls', 2]]);
    r = await t.req('GET', '/api/v1/namespaces/default/configmaps', undefined, TABLE);
    assert.deepEqual(r.json.rows.map((x: any) => x.cells.slice(0, 2)), [['cm', 2]]);
  } finally { await t.close(); }
});

test('every new kind: create with defaults, Table columns, discovery', async () => {
  const t = await setup();
  try {
    const tpl = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } };
    const cases: [string, any, string[]][] = [
      ['/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'sa' } }, ['Name', 'Secrets', 'Age']],
      ['/api/v1/persistentvolumes', { metadata: { name: 'pv' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp' } } }, ['Name', 'Capacity', 'Access Modes', 'Reclaim Policy', 'Status', 'Claim', 'StorageClass', 'VolumeAttributesClass', 'Reason', 'Age', 'VolumeMode']],
      ['/api/v1/namespaces/default/persistentvolumeclaims', { metadata: { name: 'pvc' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }, ['Name', 'Status', 'Volume', 'Capacity', 'Access Modes', 'StorageClass', 'VolumeAttributesClass', 'Age', 'VolumeMode']],
      ['/api/v1/namespaces/default/resourcequotas', { metadata: { name: 'q' }, spec: { hard: { pods: '10' } } }, ['Name', 'Age', 'Request', 'Limit']],
      ['/api/v1/namespaces/default/limitranges', { metadata: { name: 'l' }, spec: { limits: [{ type: 'Container', default: { cpu: '100m' } }] } }, ['Name', 'Created At']],
      ['/apis/apps/v1/namespaces/default/statefulsets', { metadata: { name: 'sts' }, spec: { serviceName: 'sts', selector: { matchLabels: { app: 'a' } }, template: tpl } }, ['Name', 'Ready', 'Age', 'Containers', 'Images']],
      ['/apis/apps/v1/namespaces/default/daemonsets', { metadata: { name: 'ds' }, spec: { selector: { matchLabels: { app: 'a' } }, template: tpl } }, ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers', 'Images', 'Selector']],
      ['/apis/apps/v1/namespaces/default/controllerrevisions', { metadata: { name: 'cr' }, revision: 1, data: {} }, ['Name', 'Controller', 'Revision', 'Age']],
      ['/apis/batch/v1/namespaces/default/jobs', { metadata: { name: 'job' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36' }] } } } }, ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers', 'Images', 'Selector']],
      ['/apis/batch/v1/namespaces/default/cronjobs', { metadata: { name: 'cj' }, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox:1.36' }] } } } } } }, ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers', 'Images', 'Selector']],
      ['/apis/networking.k8s.io/v1/namespaces/default/ingresses', { metadata: { name: 'ing' }, spec: { rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } }, ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age']],
      ['/apis/networking.k8s.io/v1/ingressclasses', { metadata: { name: 'ic' }, spec: { controller: 'coxswain.io/proxy' } }, ['Name', 'Controller', 'Parameters', 'Age']],
      ['/apis/networking.k8s.io/v1/namespaces/default/networkpolicies', { metadata: { name: 'np' }, spec: { podSelector: {} } }, ['Name', 'Pod-Selector', 'Age']],
      ['/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { metadata: { name: 'es' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }], ports: [{ port: 80 }] }, ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']],
      ['/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', { metadata: { name: 'hpa' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5 } }, ['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age']],
      ['/apis/coordination.k8s.io/v1/namespaces/default/leases', { metadata: { name: 'lease' }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15 } }, ['Name', 'Holder', 'Age']],
      ['/apis/storage.k8s.io/v1/storageclasses', { metadata: { name: 'sc' }, provisioner: 'coxswain.io/hostpath' }, ['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age']],
      ['/apis/policy/v1/namespaces/default/poddisruptionbudgets', { metadata: { name: 'pdb' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'a' } } } }, ['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age']],
      ['/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles', { metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }, ['Name', 'Created At']],
      ['/apis/rbac.authorization.k8s.io/v1/clusterroles', { metadata: { name: 'cr' }, rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] }, ['Name', 'Created At']],
      ['/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', { metadata: { name: 'rb' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'jane' }] }, ['Name', 'Role', 'Age', 'Users', 'Groups', 'ServiceAccounts']],
      ['/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', { metadata: { name: 'crb' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cr' }, subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'default' }] }, ['Name', 'Role', 'Age', 'Users', 'Groups', 'ServiceAccounts']],
    ];
    for (const [url, body, cols] of cases) {
      const r = await t.req('POST', url, body);
      assert.equal(r.code, 201, `${url}: ${r.body}`);
      const g = await t.req('GET', url, undefined, TABLE);
      assert.deepEqual(g.json.columnDefinitions.map((c: any) => c.name), cols, url);
      // the bootstrap's local-path StorageClass, coxswain IngressClass and `kubernetes` EndpointSlice are there too
      assert.deepEqual(g.json.rows.map((row: any) => row.object.metadata.name).filter((n: string) => n !== 'local-path' && n !== 'coxswain' && n !== 'kubernetes'), [body.metadata.name], url);
    }
    const job = (await t.req('GET', '/apis/batch/v1/namespaces/default/jobs/job')).json;
    assert.equal(job.spec.selector.matchLabels['batch.kubernetes.io/controller-uid'], job.metadata.uid);
    assert.equal(job.spec.template.metadata.labels['job-name'], 'job');
    assert.equal(job.spec.backoffLimit, 6);
    const sts = (await t.req('GET', '/apis/apps/v1/namespaces/default/statefulsets/sts/scale')).json;
    assert.equal(sts.kind, 'Scale');
    // HPA: stored as v2, served at v1 with the CPU target converted
    let r = await t.req('GET', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/hpa');
    assert.equal(r.json.apiVersion, 'autoscaling/v1');
    assert.equal(r.json.spec.targetCPUUtilizationPercentage, 80);
    r = await t.req('PATCH', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/hpa', { spec: { targetCPUUtilizationPercentage: 50 } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(r.code, 200, r.body);
    r = await t.req('GET', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/hpa');
    assert.equal(r.json.spec.metrics[0].resource.target.averageUtilization, 50);
    assert.equal(r.json.spec.behavior, undefined, 'no behavior given: none defaulted (the controller\'s legacy rules apply)');
    // a behavior given is completed with Kubernetes' default rules, field by field
    r = await t.req('PATCH', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/hpa', { spec: { behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(r.code, 200, r.body);
    assert.deepEqual(r.json.spec.behavior, {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    });
    // invalid objects
    r = await t.req('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', { metadata: { name: 'x' }, roleRef: { kind: 'Nope', name: 'r' } });
    assert.equal(r.code, 422);
    r = await t.req('POST', '/apis/batch/v1/namespaces/default/cronjobs', { metadata: { name: 'x' }, spec: { schedule: 'never', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } } } } });
    assert.equal(r.code, 422);
    // access review: create-only, allowed for system:masters through the authorizer seam
    r = await t.req('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } });
    assert.equal(r.code, 201);
    assert.equal(r.json.status.allowed, true);
    r = await t.req('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } }, { 'x-user': 'jane' });
    assert.equal(r.json.status.allowed, false);
    r = await t.req('GET', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    assert.equal(r.code, 405);
    r = await t.req('GET', '/apis/authorization.k8s.io/v1');
    assert.deepEqual(r.json.resources[0].verbs, ['create']);
  } finally { await t.close(); }
});

test('no-op writes keep resourceVersion; finalizers; propagation; dryRun; limit/continue', async () => {
  const t = await setup();
  try {
    let r = await t.req('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'cm', finalizers: ['example.com/hold'] }, data: { a: '1' } });
    const rv = r.json.metadata.resourceVersion;
    r = await t.req('PUT', '/api/v1/namespaces/default/configmaps/cm', r.json);
    assert.equal(r.json.metadata.resourceVersion, rv, 'PUT of the same object');
    r = await t.req('PATCH', '/api/v1/namespaces/default/configmaps/cm', { data: { a: '1' } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(r.json.metadata.resourceVersion, rv, 'no-op merge patch');
    const applied = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { a: '1' } };
    r = await t.req('PATCH', '/api/v1/namespaces/default/configmaps/cm?fieldManager=m', JSON.stringify(applied), APPLY);
    const rv2 = r.json.metadata.resourceVersion;
    r = await t.req('PATCH', '/api/v1/namespaces/default/configmaps/cm?fieldManager=m', JSON.stringify(applied), APPLY);
    assert.equal(r.json.metadata.resourceVersion, rv2, 'second identical apply');
    // finalizers: delete marks, removing the last finalizer deletes
    r = await t.req('DELETE', '/api/v1/namespaces/default/configmaps/cm');
    assert.ok(r.json.metadata.deletionTimestamp);
    r = await t.req('PATCH', '/api/v1/namespaces/default/configmaps/cm', { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(r.code, 200);
    assert.equal((await t.req('GET', '/api/v1/namespaces/default/configmaps/cm')).code, 404);
    // Orphan / Foreground leave the garbage collector's finalizers
    await t.req('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'o' } });
    r = await t.req('DELETE', '/api/v1/namespaces/default/configmaps/o', { propagationPolicy: 'Orphan' });
    assert.deepEqual(r.json.metadata.finalizers, ['orphan']);
    await t.req('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'f' } });
    r = await t.req('DELETE', '/api/v1/namespaces/default/configmaps/f', { propagationPolicy: 'Foreground' });
    assert.deepEqual(r.json.metadata.finalizers, ['foregroundDeletion']);
    // dryRun: nothing stored
    r = await t.req('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { metadata: { name: 'dry' } });
    assert.equal(r.code, 201);
    assert.equal((await t.req('GET', '/api/v1/namespaces/default/configmaps/dry')).code, 404);
    // limit/continue
    for (const n of ['p1', 'p2', 'p3', 'p4', 'p5']) await t.req('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: n } });
    const names: string[] = [];
    let cont = '';
    for (let i = 0; i < 10; i++) {
      r = await t.req('GET', `/api/v1/namespaces/default/configmaps?limit=2${cont ? `&continue=${cont}` : ''}`);
      names.push(...r.json.items.map((x: any) => x.metadata.name));
      cont = r.json.metadata.continue ?? '';
      if (!cont) break;
    }
    assert.deepEqual(names, ['f', 'o', 'p1', 'p2', 'p3', 'p4', 'p5']);
    r = await t.req('GET', '/api/v1/namespaces/default/configmaps?limit=2&continue=garbage');
    assert.equal(r.code, 400);
  } finally { await t.close(); }
});

test('server-side apply: managedFields, conflicts, force; fieldValidation; protobuf', async () => {
  const t = await setup();
  try {
    const cm = (data: any) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data });
    let r = await t.req('PATCH', '/api/v1/namespaces/default/configmaps/cm?fieldManager=alice', cm({ a: '1', b: '2' }), APPLY);
    assert.equal(r.code, 201);
    assert.deepEqual(r.json.metadata.managedFields.map((m: any) => [m.manager, m.operation]), [['alice', 'Apply']]);
    assert.deepEqual(r.json.metadata.managedFields[0].fieldsV1, { 'f:data': { 'f:a': {}, 'f:b': {} } });
    r = await t.req('PATCH', '/api/v1/namespaces/default/configmaps/cm?fieldManager=bob', cm({ a: 'X' }), APPLY);
    assert.equal(r.code, 409);
    assert.equal(r.json.message, 'Apply failed with 1 conflict: conflict with "alice" using v1: .data.a');
    r = await t.req('PATCH', '/api/v1/namespaces/default/configmaps/cm?fieldManager=bob', cm({ a: '1' }), APPLY);
    assert.equal(r.code, 200, 'same value: shared ownership, no conflict');
    r = await t.req('PATCH', '/api/v1/namespaces/default/configmaps/cm?fieldManager=bob&force=true', cm({ a: 'X' }), APPLY);
    assert.equal(r.code, 200);
    assert.equal(r.json.data.a, 'X');
    assert.deepEqual(r.json.metadata.managedFields.find((m: any) => m.manager === 'alice').fieldsV1, { 'f:data': { 'f:b': {} } });
    // alice stops applying b: removed (nobody else owns it)
    r = await t.req('PATCH', '/api/v1/namespaces/default/configmaps/cm?fieldManager=alice', cm({}), APPLY);
    assert.deepEqual(r.json.data, { a: 'X' });
    // an Update (merge patch) takes ownership of what it changed
    r = await t.req('PATCH', '/api/v1/namespaces/default/configmaps/cm?fieldManager=kubectl-edit', { data: { a: 'Y' } }, { 'content-type': 'application/merge-patch+json' });
    assert.deepEqual(r.json.metadata.managedFields.map((m: any) => `${m.manager}/${m.operation}`), ['alice/Apply', 'kubectl-edit/Update'], 'bob lost .data.a, his last field');

    // fieldValidation
    const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { foo: 1, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i', bar: 2 }] } } } };
    r = await t.req('POST', '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict', dep);
    assert.equal(r.code, 400);
    assert.equal(r.json.message, 'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo", unknown field "spec.template.spec.containers[0].bar"');
    r = await t.req('POST', '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Warn', dep);
    assert.equal(r.code, 201);
    assert.deepEqual(r.headers.warning, ['299 - "unknown field \\"spec.foo\\""', '299 - "unknown field \\"spec.template.spec.containers[0].bar\\""']);
    assert.equal(r.json.spec.foo, undefined, 'unknown fields are dropped');
    r = await t.req('POST', '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Bogus', dep);
    assert.equal(r.code, 400);

    // protobuf bodies (kubectl create …)
    const body = encodeProtobufObject('v1', 'ConfigMap', { metadata: { name: 'pb', creationTimestamp: {} }, data: { k: 'v' }, immutable: false });
    r = await t.req('POST', '/api/v1/namespaces/default/configmaps', body, { 'content-type': 'application/vnd.kubernetes.protobuf' });
    assert.equal(r.code, 201, r.body);
    assert.deepEqual(r.json.data, { k: 'v' });
    assert.equal(r.json.metadata.creationTimestamp !== undefined, true);
    const job = encodeProtobufObject('batch/v1', 'Job', { metadata: { name: 'pj' }, spec: { template: { metadata: {}, spec: { restartPolicy: 'Never', containers: [{ name: 'pj', image: 'busybox:1.36', command: ['date'], resources: {} }] } } } });
    r = await t.req('POST', '/apis/batch/v1/namespaces/default/jobs', job, { 'content-type': 'application/vnd.kubernetes.protobuf' });
    assert.equal(r.code, 201, r.body);
    assert.deepEqual(r.json.spec.template.spec.containers[0].command, ['date']);
  } finally { await t.close(); }
});

test('managed fields and strict schema: pure parts', () => {
  const obj = { metadata: { name: 'x', labels: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }], finalizers: ['f'] } };
  const f = fieldsOf(obj);
  const v1 = toFieldsV1(f.keys());
  assert.deepEqual(v1, {
    'f:metadata': { 'f:labels': { 'f:a': {} } },
    'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80}': { '.': {}, 'f:containerPort': {} } } } }, 'f:finalizers': { 'v:"f"': {} } },
  });
  assert.deepEqual([...fromFieldsV1(v1)].sort(), [...f.keys()].sort());
  assert.equal(formatPath(['f:spec', 'f:containers', 'k:{"name":"c"}', 'f:image']), '.spec.containers[name="c"].image');
  const info = { manager: 'm', apiVersion: 'v1', time: 't' };
  const e = updateManagedFields([], {}, obj, info);
  const next = structuredClone(obj);
  next.spec.containers[0].image = 'j';
  const e2 = updateManagedFields(e, obj, next, { ...info, manager: 'n' });
  assert.deepEqual(e2.map((x) => x.manager), ['m', 'n']);
  assert.deepEqual(e2[1].fieldsV1, { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { 'f:image': {} } } } });
  const a = applyManagedFields(e2, next, { spec: { containers: [{ name: 'c', image: 'k' }] } }, { ...info, manager: 'o' }, false);
  assert.deepEqual(a.conflicts.map((c) => `${c.manager}:${formatPath(c.path)}`), ['n:.spec.containers[name="c"].image']);
  const body = { apiVersion: 'v1', kind: 'Pod', spec: { containers: [{ name: 'c', imagee: 'x' }], nodeSelector: { any: 'x' } }, metadata: { labels: { ok: 'y' } } };
  assert.deepEqual(pruneUnknownFields(body, 'core/v1.Pod'), ['spec.containers[0].imagee']);
  assert.deepEqual(body.spec.containers[0], { name: 'c' });
});
