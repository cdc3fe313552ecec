import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../lib/log';
import { parseServiceCidr } from './allocators';
import { AdmissionChain } from './admission';
import { ApiError } from './errors';
import { Registry } from './registry';
import { ResourceStorage } from './resources';
import type { ResourceDef } from './groups/types';
import { MemoryStore } from './storage/memory';
import { bootstrap } from './bootstrap';
import { limitRangerAdmission } from './limitranger';
import { resourceQuotaAdmission } from './resourcequota-admission';

/** Two apiservers (storages with their own watch caches and admission chains) over one store. */
async function twoApiservers() {
  const store = new MemoryStore();
  const log = createLogger('apiserver-test');
  const servers: { storage: ResourceStorage; registry: Registry; def: (r: string) => ResourceDef }[] = [];
  for (let i = 0; i < 2; i++) {
    const registry = new Registry();
    const chain = new AdmissionChain();
    const storage = new ResourceStorage({ store, registry, log, serviceCidr: parseServiceCidr('10.96.0.0/12'), nodePortRange: [30000, 32767], admit: chain.admit });
    chain.register(limitRangerAdmission(storage, registry));
    chain.register(resourceQuotaAdmission(storage, registry));
    await storage.start();
    if (i === 0) await bootstrap(storage, registry, { advertiseAddress: '127.0.0.1', securePort: 6443, kubernetesServiceIP: '10.96.0.1' });
    servers.push({ storage, registry, def: (r: string) => registry.lookup('', 'v1', r)! });
  }
  return { servers, stop: () => servers.forEach((s) => s.storage.stop()) };
}

const pod = (name: string, cpu: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu }, limits: { cpu } } }] } });

test('concurrent creates through two apiservers never overcommit a quota', async () => {
  const { servers: [a, b], stop } = await twoApiservers();
  try {
    const hard = { 'requests.cpu': '1', pods: '10' };
    await a.storage.create(a.def('resourcequotas'), 'default', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard } });
    const cur = await a.storage.get(a.def('resourcequotas'), 'default', 'q');
    await a.storage.update(a.def('resourcequotas'), 'default', 'q', { ...cur.obj, status: { hard, used: { 'requests.cpu': '0', pods: '0' } } }, { subresource: 'status' });
    // a second quota, charged after q: a lost race on it must not charge q twice, nor it twice
    const counts = { pods: '100' };
    await a.storage.create(a.def('resourcequotas'), 'default', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'z-count' }, spec: { hard: counts } });
    const c = await a.storage.get(a.def('resourcequotas'), 'default', 'z-count');
    await a.storage.update(a.def('resourcequotas'), 'default', 'z-count', { ...c.obj, status: { hard: counts, used: { pods: '0' } } }, { subresource: 'status' });
    for (let round = 0; round < 3; round++) {
      // 400m each; after round r, (r+1)*2 of them would have been asked for: only 2 fit in all
      const results = await Promise.allSettled([0, 1, 2, 3].map((i) => (i % 2 ? a : b).storage.create(a.def('pods'), 'default', pod(`p-${round}-${i}`, '400m'))));
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      for (const r of refused) assert.ok(r.reason instanceof ApiError && r.reason.code === 403, String(r.reason));
    }
    const pods = (await a.storage.list(a.def('pods'), 'default')).items;
    assert.equal(pods.length, 2, 'exactly two 400m pods fit in 1 cpu');
    const q = (await a.storage.read(a.def('resourcequotas'), 'default', 'q', { fromStore: true }))!.obj as unknown as { status: { used: Record<string, string> } };
    assert.deepEqual(q.status.used, { 'requests.cpu': '800m', pods: '2' });
    const countQuota = (await a.storage.read(a.def('resourcequotas'), 'default', 'z-count', { fromStore: true }))!.obj as unknown as { status: { used: Record<string, string> } };
    assert.deepEqual(countQuota.status.used, { pods: '2' });
    const refusal = await b.storage.create(a.def('pods'), 'default', pod('late', '400m')).catch((e: Error) => e);
    assert.match(String(refusal), /pods "late" is forbidden: exceeded quota: q, requested: requests.cpu=400m, used: requests.cpu=800m, limited: requests.cpu=1/);
    // a dry run decides but charges nothing
    await b.storage.create(a.def('pods'), 'default', pod('dry', '100m'), { dryRun: true });
    const after = (await a.storage.read(a.def('resourcequotas'), 'default', 'q', { fromStore: true }))!.obj as unknown as { status: { used: Record<string, string> } };
    assert.equal(after.status.used['requests.cpu'], '800m');
  } finally {
    stop();
  }
});

test('LimitRange defaults reach the stored pod; a violation is a 403 naming the pod', async () => {
  const { servers: [a], stop } = await twoApiservers();
  try {
    await a.storage.create(a.def('limitranges'), 'default', { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr' }, spec: { limits: [{ type: 'Container', max: { memory: '1Gi' }, defaultRequest: { memory: '100Mi' } }] } });
    const lr = await a.storage.get(a.def('limitranges'), 'default', 'lr');
    assert.deepEqual((lr.obj as unknown as { spec: unknown }).spec, { limits: [{ type: 'Container', max: { memory: '1Gi' }, default: { memory: '1Gi' }, defaultRequest: { memory: '100Mi' } }] }, 'stored with Kubernetes\' defaults');
    const created = await a.storage.create(a.def('pods'), 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    assert.deepEqual((created as unknown as { spec: { containers: { resources: unknown }[] } }).spec.containers[0].resources, { limits: { memory: '1Gi' }, requests: { memory: '100Mi' } });
    const err = await a.storage.create(a.def('pods'), 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'big' }, spec: { containers: [{ name: 'c', image: 'x', resources: { limits: { memory: '2Gi' } } }] } }).catch((e: ApiError) => e);
    assert.ok(err instanceof ApiError && err.code === 403);
    assert.equal(err.message, 'pods "big" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi');
  } finally {
    stop();
  }
});

test('a lost race on the second quota re-decides that one only: the first is not charged twice', async () => {
  const store = new MemoryStore();
  const registry = new Registry();
  const chain = new AdmissionChain();
  const storage = new ResourceStorage({ store, registry, log: createLogger('apiserver-test'), serviceCidr: parseServiceCidr('10.96.0.0/12'), nodePortRange: [30000, 32767], admit: chain.admit });
  await storage.start();
  try {
    await bootstrap(storage, registry, { advertiseAddress: '127.0.0.1', securePort: 6443, kubernetesServiceIP: '10.96.0.1' });
    const qDef = registry.lookup('', 'v1', 'resourcequotas')!;
    for (const [name, hard, used] of [['q', { 'requests.cpu': '1' }, { 'requests.cpu': '0' }], ['z', { pods: '5' }, { pods: '0' }]] as const) {
      await storage.create(qDef, 'default', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec: { hard } });
      const cur = await storage.get(qDef, 'default', name);
      await storage.update(qDef, 'default', name, { ...cur.obj, status: { hard, used } }, { subresource: 'status' });
    }
    // The first status write to z races another writer (a label change moves its resourceVersion).
    let raced = false;
    const racing = new Proxy(storage, {
      get(target, prop, receiver) {
        if (prop !== 'update') return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<ResourceStorage['update']>) => {
          if (args[2] === 'z' && !raced) {
            raced = true;
            const cur = await target.get(qDef, 'default', 'z');
            await target.update(qDef, 'default', 'z', { ...cur.obj, metadata: { ...cur.obj.metadata, labels: { touched: 'yes' } } });
          }
          return target.update(...args);
        };
      },
    });
    chain.register(resourceQuotaAdmission(racing, registry));
    await storage.create(registry.lookup('', 'v1', 'pods')!, 'default', pod('p', '400m'));
    assert.ok(raced);
    const used = async (name: string) => ((await storage.read(qDef, 'default', name, { fromStore: true }))!.obj as unknown as { status: { used: Record<string, string> } }).status.used;
    assert.deepEqual(await used('q'), { 'requests.cpu': '400m' });
    assert.deepEqual(await used('z'), { pods: '1' });
  } finally {
    storage.stop();
  }
});
