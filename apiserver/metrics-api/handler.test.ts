import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../lib/log';
import { buildApp } from '../app';
import { parseServiceCidr } from '../allocators';
import { Registry } from '../registry';
import { ResourceStorage } from '../resources';
import { MemoryStore } from '../storage/memory';
import { AGGREGATED_CONTENT_TYPE } from '../discovery';
import { bootstrap } from '../bootstrap';
import { MetricsStore } from './core';
import { MetricsApi } from './handler';

const T0 = Date.parse('2026-12-07T10:00:00Z');

async function setup() {
  const registry = new Registry();
  const storage = new ResourceStorage({ store: new MemoryStore(), registry, log: createLogger('metrics-test'), serviceCidr: parseServiceCidr('10.96.0.0/12'), nodePortRange: [30000, 32767] });
  await storage.start();
  await bootstrap(storage, registry, { advertiseAddress: '127.0.0.1', securePort: 6443, kubernetesServiceIP: '10.96.0.1' });
  const store = new MetricsStore();
  const app = buildApp({ storage, registry, log: createLogger('metrics-test'), authenticate: () => ({ name: 'admin', groups: ['system:masters'] }), metricsApi: new MetricsApi({ store, storage, registry, now: () => T0 + 10_000 }) });
  const req = async (method: string, url: string, headers: Record<string, string> = {}) => {
    const res = await app.inject({ method: method as 'GET', url, headers });
    return { code: res.statusCode, json: res.json() };
  };
  return { storage, registry, store, req, close: async () => { storage.stop(); await app.close(); } };
}

test('metrics.k8s.io: discovery, lists filtered by the pods\' labels, NotFound, read-only', async () => {
  const t = await setup();
  try {
    const podDef = t.registry.lookup('', 'v1', 'pods')!;
    const nodeDef = t.registry.lookup('', 'v1', 'nodes')!;
    await t.storage.create(nodeDef, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { zone: 'a' } } });
    for (const [name, app] of [['web', 'web'], ['db', 'db'], ['new', 'web']]) {
      await t.storage.create(podDef, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } });
    }
    const uid = async (name: string) => String((await t.storage.get(podDef, 'default', name)).obj.metadata.uid);
    const sample = (i: number, cpu: number) => ({ time: T0 + i * 2000, cpuNanos: cpu, memoryBytes: 4096 });
    for (const i of [0, 1]) {
      t.store.record('n1', {
        node: sample(i, i * 1e9),
        pods: [
          { namespace: 'default', name: 'web', uid: await uid('web'), containers: [{ name: 'c', sample: sample(i, i * 2e9) }] },
          { namespace: 'default', name: 'db', uid: await uid('db'), containers: [{ name: 'c', sample: sample(i, 0) }] },
          // "new" has one sample only: not listed yet
          ...(i === 1 ? [{ namespace: 'default', name: 'new', uid: await uid('new'), containers: [{ name: 'c', sample: sample(i, 0) }] }] : []),
        ],
      });
    }

    const groups = await t.req('GET', '/apis');
    assert.ok(groups.json.groups.some((g: { name: string; preferredVersion: { version: string } }) => g.name === 'metrics.k8s.io' && g.preferredVersion.version === 'v1beta1'));
    const agg = await t.req('GET', '/apis', { accept: AGGREGATED_CONTENT_TYPE });
    const mg = agg.json.items.find((g: { metadata: { name: string } }) => g.metadata.name === 'metrics.k8s.io');
    assert.deepEqual(mg.versions[0].resources.map((r: { resource: string; verbs: string[]; scope: string }) => [r.resource, r.scope, r.verbs.join(',')]), [['nodes', 'Cluster', 'get,list'], ['pods', 'Namespaced', 'get,list']]);
    const rl = await t.req('GET', '/apis/metrics.k8s.io/v1beta1');
    assert.deepEqual(rl.json.resources.map((r: { name: string; kind: string }) => [r.name, r.kind]), [['nodes', 'NodeMetrics'], ['pods', 'PodMetrics']]);

    const list = await t.req('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dweb');
    assert.equal(list.code, 200);
    assert.deepEqual(list.json, {
      kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {},
      items: [{ kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'web', namespace: 'default', creationTimestamp: '2026-12-07T10:00:10Z', labels: { app: 'web' } },
        timestamp: '2026-12-07T10:00:02Z', window: '2s', containers: [{ name: 'c', usage: { cpu: '1', memory: '4Ki' } }] }],
    });
    assert.deepEqual((await t.req('GET', '/apis/metrics.k8s.io/v1beta1/pods')).json.items.map((p: { metadata: { name: string } }) => p.metadata.name).sort(), ['db', 'web']);
    assert.deepEqual((await t.req('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/other/pods')).json.items, []);
    const node = await t.req('GET', '/apis/metrics.k8s.io/v1beta1/nodes/n1');
    assert.deepEqual([node.json.kind, node.json.usage, node.json.metadata.labels], ['NodeMetrics', { cpu: '500m', memory: '4Ki' }, { zone: 'a' }]);
    assert.equal((await t.req('GET', '/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=zone%3Db')).json.items.length, 0);

    const nf = await t.req('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/new');
    assert.deepEqual([nf.code, nf.json.reason, nf.json.message], [404, 'NotFound', 'podmetrics.metrics.k8s.io "default/new" not found']);
    const nf2 = await t.req('GET', '/apis/metrics.k8s.io/v1beta1/nodes/nope');
    assert.deepEqual([nf2.code, nf2.json.message], [404, 'nodemetrics.metrics.k8s.io "nope" not found']);
    for (const [method, url] of [['POST', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods'], ['DELETE', '/apis/metrics.k8s.io/v1beta1/nodes/n1'], ['GET', '/apis/metrics.k8s.io/v1beta1/pods?watch=true']]) {
      const r = await t.req(method, url);
      assert.deepEqual([r.code, r.json.reason], [405, 'MethodNotAllowed'], `${method} ${url}`);
    }
    assert.equal((await t.req('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/services')).code, 404);
    assert.equal((await t.req('GET', '/apis/metrics.k8s.io/v1beta1/pods?labelSelector=a%3D%3D%3Db')).code, 400);
  } finally {
    await t.close();
  }
});
