import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../lib/log';
import { buildApp } from '../app';
import { parseServiceCidr } from '../allocators';
import { bootstrap } from '../bootstrap';
import { encodeProtobufObject } from '../protobuf';
import { Registry } from '../registry';
import { ResourceStorage } from '../resources';
import { MemoryStore } from '../storage/memory';
import { budgetsFor } from '../groups/core/pod/eviction';

async function setup() {
  const store = new MemoryStore();
  const registry = new Registry();
  const log = createLogger('apiserver-test');
  const storage = new ResourceStorage({ store, registry, log, serviceCidr: parseServiceCidr('10.96.0.0/12'), nodePortRange: [30000, 32767] });
  await storage.start();
  await bootstrap(storage, registry, { advertiseAddress: '127.0.0.1', securePort: 6443, kubernetesServiceIP: '10.96.0.1' });
  const app = buildApp({ storage, registry, log, authenticate: () => ({ name: 'admin', groups: ['system:masters'] }) });
  const req = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const res = await app.inject({ method: method as any, url, payload, headers: { 'content-type': 'application/json', ...headers } });
    let json: any;
    try { json = res.json(); } catch { json = undefined; }
    return { code: res.statusCode, json, headers: res.headers };
  };
  const POD = '/api/v1/namespaces/default/pods';
  const PDB = '/apis/policy/v1/namespaces/default/poddisruptionbudgets';
  /** A pod bound to node n1, Running, Ready or not. */
  const runningPod = async (name: string, ready = true, labels: Record<string, string> = { app: 'web' }) => {
    assert.equal((await req('POST', POD, { metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } })).code, 201);
    assert.equal((await req('POST', `${POD}/${name}/binding`, { target: { name: 'n1' } })).code, 201);
    const cur = (await req('GET', `${POD}/${name}`)).json;
    cur.status = { ...cur.status, phase: 'Running', conditions: [...cur.status.conditions, { type: 'Ready', status: ready ? 'True' : 'False' }] };
    assert.equal((await req('PUT', `${POD}/${name}/status`, cur)).code, 200);
  };
  /** A budget over app=web with the given status, as the disruption controller would write it. */
  const budget = async (name: string, status: Record<string, unknown>, spec: Record<string, unknown> = { minAvailable: 1 }) => {
    const r = await req('POST', PDB, { metadata: { name }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } });
    assert.equal(r.code, 201);
    const cur = r.json;
    cur.status = { observedGeneration: cur.metadata.generation, ...status };
    assert.equal((await req('PUT', `${PDB}/${name}/status`, cur)).code, 200);
  };
  const evict = (name: string, extra: Record<string, unknown> = {}, query = '') =>
    req('POST', `${POD}/${name}/eviction${query}`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' }, ...extra });
  return { req, runningPod, budget, evict, POD, PDB, close: async () => { storage.stop(); await app.close(); } };
}

test('discovery lists pods/eviction as policy/v1 Eviction (legacy and aggregated)', async () => {
  const t = await setup();
  try {
    const legacy = (await t.req('GET', '/api/v1')).json.resources.find((r: any) => r.name === 'pods/eviction');
    assert.deepEqual(legacy, { name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
    const agg = (await t.req('GET', '/api', undefined, { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' })).json;
    const pods = agg.items[0].versions[0].resources.find((r: any) => r.resource === 'pods');
    assert.deepEqual(pods.subresources.find((s: any) => s.subresource === 'eviction'), { subresource: 'eviction', responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] });
  } finally {
    await t.close();
  }
});

test('a budget that allows no disruption: 429 with the DisruptionBudget cause, the pod stays', async () => {
  const t = await setup();
  try {
    await t.runningPod('a');
    await t.budget('web', { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 });
    const r = await t.evict('a');
    assert.equal(r.code, 429);
    assert.equal(r.json.reason, 'TooManyRequests');
    assert.equal(r.json.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(r.json.details.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 1 healthy pods and has 1 currently' }]);
    assert.equal(r.headers['retry-after'], undefined);
    const pod = (await t.req('GET', `${t.POD}/a`)).json;
    assert.equal(pod.metadata.deletionTimestamp, undefined);
  } finally {
    await t.close();
  }
});

test('a budget that allows it: status decremented and the pod recorded, then the pod is deleted gracefully', async () => {
  const t = await setup();
  try {
    await t.runningPod('a');
    await t.budget('web', { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
    const r = await t.evict('a', { deleteOptions: { gracePeriodSeconds: 7 } });
    assert.equal(r.code, 201);
    assert.deepEqual(r.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    const pdb = (await t.req('GET', `${t.PDB}/web`)).json;
    assert.equal(pdb.status.disruptionsAllowed, 0);
    assert.deepEqual(Object.keys(pdb.status.disruptedPods), ['a']);
    assert.deepEqual(pdb.status.conditions.map((c: any) => [c.type, c.status, c.reason]), [['DisruptionAllowed', 'False', 'InsufficientPods']]);
    const pod = (await t.req('GET', `${t.POD}/a`)).json;
    assert.ok(pod.metadata.deletionTimestamp, 'the pod is terminating');
    assert.equal(pod.metadata.deletionGracePeriodSeconds, 7);
    assert.ok(pod.status.conditions.some((c: any) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === 'EvictionByEvictionAPI'));
    // the next eviction of another pod is refused
    await t.runningPod('b');
    assert.equal((await t.evict('b')).code, 429);
    // a terminating pod goes without asking the budget
    assert.equal((await t.evict('a')).code, 201);
  } finally {
    await t.close();
  }
});

test('no budget, pending pods: deleted; two budgets: 500; unobserved budget: 429 with Retry-After', async () => {
  const t = await setup();
  try {
    assert.equal((await t.req('POST', t.POD, { metadata: { name: 'pending', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } })).code, 201);
    await t.budget('web', { disruptionsAllowed: 0 });
    assert.equal((await t.evict('pending')).code, 201, 'a pending pod skips its budget');
    assert.equal((await t.req('GET', `${t.POD}/pending`)).code, 404);

    await t.runningPod('free', true, { app: 'other' });
    assert.equal((await t.evict('free')).code, 201, 'no budget selects it');

    await t.runningPod('a');
    await t.budget('web2', { disruptionsAllowed: 5 });
    const two = await t.evict('a');
    assert.equal(two.code, 500);
    assert.equal(two.json.message, 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    assert.equal((await t.req('DELETE', `${t.PDB}/web2`)).code, 200);

    const pdb = (await t.req('GET', `${t.PDB}/web`)).json;
    pdb.spec.minAvailable = 0;
    assert.equal((await t.req('PUT', `${t.PDB}/web`, pdb)).code, 200); // generation 2, observed 1
    const stale = await t.evict('a');
    assert.equal(stale.code, 429);
    assert.equal(stale.headers['retry-after'], '10');
    assert.deepEqual(stale.json.details.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget web is still being processed by the server.' }]);
  } finally {
    await t.close();
  }
});

test('unready pods: deleted without spending a healthy budget; AlwaysAllow; dry run changes nothing', async () => {
  const t = await setup();
  try {
    await t.runningPod('sick', false);
    await t.budget('web', { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 2, expectedPods: 3 });
    assert.equal((await t.evict('sick')).code, 201);
    assert.equal((await t.req('GET', `${t.PDB}/web`)).json.status.disruptionsAllowed, 1, 'budget untouched');

    await t.runningPod('ok');
    assert.equal((await t.evict('ok', {}, '?dryRun=All')).code, 201);
    assert.equal((await t.req('GET', `${t.POD}/ok`)).json.metadata.deletionTimestamp, undefined);
    assert.equal((await t.req('GET', `${t.PDB}/web`)).json.status.disruptionsAllowed, 1);

    // an unhealthy application: the unready pod needs the budget ...
    await t.runningPod('sick2', false);
    const pdb = (await t.req('GET', `${t.PDB}/web`)).json;
    pdb.status = { ...pdb.status, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2 };
    assert.equal((await t.req('PUT', `${t.PDB}/web/status`, pdb)).code, 200);
    assert.equal((await t.evict('sick2')).code, 429);
    // ... unless the budget lets unhealthy pods go
    const p2 = (await t.req('GET', `${t.PDB}/web`)).json;
    p2.spec.unhealthyPodEvictionPolicy = 'AlwaysAllow';
    const upd = await t.req('PUT', `${t.PDB}/web`, p2);
    assert.equal(upd.code, 200);
    upd.json.status.observedGeneration = upd.json.metadata.generation;
    assert.equal((await t.req('PUT', `${t.PDB}/web/status`, upd.json)).code, 200);
    assert.equal((await t.evict('sick2')).code, 201);
  } finally {
    await t.close();
  }
});

test('bad Eviction bodies are 400s; a missing pod 404; protobuf Evictions (kubectl drain) are read', async () => {
  const t = await setup();
  try {
    await t.runningPod('a', true, { app: 'x' });
    let r = await t.req('POST', `${t.POD}/a/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'b' } });
    assert.equal(r.code, 400);
    assert.equal(r.json.message, 'name in URL does not match name in Eviction object');
    r = await t.req('POST', `${t.POD}/a/eviction`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' } });
    assert.equal(r.code, 400);
    assert.equal((await t.evict('nope')).code, 404);
    assert.equal((await t.req('GET', `${t.POD}/a/eviction`)).code, 405);
    const body = encodeProtobufObject('policy/v1', 'Eviction', { metadata: { name: 'a', namespace: 'default' }, deleteOptions: { gracePeriodSeconds: 0 } });
    r = await t.req('POST', `${t.POD}/a/eviction`, body, { 'content-type': 'application/vnd.kubernetes.protobuf' });
    assert.equal(r.code, 201, JSON.stringify(r.json));
    assert.equal((await t.req('GET', `${t.POD}/a`)).code, 404, 'grace period 0 from the protobuf body: gone at once');
    await t.runningPod('b', true, { app: 'x' });
    const beta = encodeProtobufObject('policy/v1beta1', 'Eviction', { metadata: { name: 'b', namespace: 'default' } });
    assert.equal((await t.req('POST', `${t.POD}/b/eviction`, beta, { 'content-type': 'application/vnd.kubernetes.protobuf' })).code, 201);
  } finally {
    await t.close();
  }
});

test('budgetsFor: same namespace, selector matches; no selector matches nothing, an empty one everything', () => {
  const pod = { metadata: { name: 'p', namespace: 'ns', labels: { app: 'web' } } };
  const pdb = (name: string, selector: unknown, namespace = 'ns') => ({ metadata: { name, namespace }, spec: { selector } }) as any;
  const got = budgetsFor(pod, [pdb('match', { matchLabels: { app: 'web' } }), pdb('other', { matchLabels: { app: 'db' } }), pdb('none', undefined), pdb('all', {}),
    pdb('elsewhere', {}, 'x'), pdb('bad', { matchExpressions: [{ key: 'app', operator: 'Nope' }] })]);
  assert.deepEqual(got.map((p) => p.metadata?.name), ['match', 'all']);
});
