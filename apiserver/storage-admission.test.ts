import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { createLogger } from '../lib/log';
import { parseServiceCidr } from './allocators';
import { AdmissionChain } from './admission';
import { Registry } from './registry';
import { ResourceStorage } from './resources';
import { MemoryStore } from './storage/memory';
import { bootstrap } from './bootstrap';
import { storageProtectionAdmission } from './storage-protection-admission';
import { pvcResizeAdmission } from './pvc-resize-admission';
import { resourceQuotaAdmission } from './resourcequota-admission';

/** The claim admission chain of main.ts over one in-memory store: what creates, updates, patches and deletes of claims go through. */
async function apiserver() {
  const registry = new Registry();
  const chain = new AdmissionChain();
  const storage = new ResourceStorage({
    store: new MemoryStore(), registry, log: createLogger('apiserver-test'), serviceCidr: parseServiceCidr('10.96.0.0/12'), nodePortRange: [30000, 32767],
    admit: chain.admit, admitUpdate: chain.admitUpdate, validateUpdate: chain.validateUpdate,
  });
  const def = (r: string) => registry.lookup('', 'v1', r)!;
  const classes = registry.lookup('storage.k8s.io', 'v1', 'storageclasses')!;
  chain.register(storageProtectionAdmission(def('persistentvolumeclaims'), def('persistentvolumes')));
  chain.register(pvcResizeAdmission(def('persistentvolumeclaims'), async () => (await storage.list(classes, undefined)).items.map((c) => c.obj as StorageClass)));
  chain.register(resourceQuotaAdmission(storage, registry));
  await storage.start();
  await bootstrap(storage, registry, { advertiseAddress: '127.0.0.1', securePort: 6443, kubernetesServiceIP: '10.96.0.1' });
  return { storage, def, classes };
}

const claim = (name: string, cls: string, storage = '1Gi') => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { storageClassName: cls, accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } } });
const grow = (storage: string) => ({ spec: { resources: { requests: { storage } } } });
const message = (p: Promise<unknown>) => p.then(() => 'accepted', (e: Error) => e.message);

test('claims through the admission chain: protected on create, resized only where the class allows, updates charged to the quota', async () => {
  const { storage, def, classes } = await apiserver();
  try {
    const pvcs = def('persistentvolumeclaims');
    await storage.create(classes, undefined, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'gold' }, provisioner: 'p', allowVolumeExpansion: true });
    // local-path: the bootstrap's class, without allowVolumeExpansion
    const hard = { 'requests.storage': '3Gi' };
    await storage.create(def('resourcequotas'), 'default', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'disk' }, spec: { hard } });
    const q = await storage.get(def('resourcequotas'), 'default', 'disk');
    await storage.update(def('resourcequotas'), 'default', 'disk', { ...q.obj, status: { hard, used: { 'requests.storage': '0' } } }, { subresource: 'status' });
    const used = async () => ((await storage.read(def('resourcequotas'), 'default', 'disk', { fromStore: true }))!.obj as unknown as { status: { used: Record<string, string> } }).status.used['requests.storage'];

    for (const [name, cls] of [['a', 'gold'], ['b', 'local-path']]) {
      const created = await storage.create(pvcs, 'default', claim(name, cls));
      assert.deepEqual(created.metadata.finalizers, ['kubernetes.io/pvc-protection']);
      const cur = await storage.get(pvcs, 'default', name);
      await storage.update(pvcs, 'default', name, { ...cur.obj, status: { phase: 'Bound', capacity: { storage: '1Gi' } } }, { subresource: 'status' });
    }
    assert.equal(await used(), '2Gi');

    assert.equal(await message(storage.patch(pvcs, 'default', 'a', 'merge', grow('1536Mi'))), 'accepted');
    assert.equal(await used(), '2560Mi', 'the growth is charged');
    assert.equal(await message(storage.patch(pvcs, 'default', 'a', 'merge', grow('3Gi'))),
      'persistentvolumeclaims "a" is forbidden: exceeded quota: disk, requested: requests.storage=1536Mi, used: requests.storage=2560Mi, limited: requests.storage=3Gi');
    assert.equal(await message(storage.patch(pvcs, 'default', 'b', 'merge', grow('2Gi'))),
      'persistentvolumeclaims "b" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize');
    const b = await storage.get(pvcs, 'default', 'b');
    assert.equal(await message(storage.update(pvcs, 'default', 'b', { ...b.obj, spec: { ...(b.obj as { spec?: object }).spec, ...grow('2Gi').spec } })), 'persistentvolumeclaims "b" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize', 'PUT too');
    assert.equal(await used(), '2560Mi', 'refusals charge nothing');

    await storage.delete(pvcs, 'default', 'b');
    const marked = await storage.get(pvcs, 'default', 'b');
    assert.ok(marked.obj.metadata.deletionTimestamp, 'a protected claim is only marked by a delete');
    await storage.update(pvcs, 'default', 'b', { ...marked.obj, metadata: { ...marked.obj.metadata, finalizers: [] } });
    assert.equal(await storage.read(pvcs, 'default', 'b'), undefined, 'gone once its finalizer is removed');

    const pv = await storage.create(def('persistentvolumes'), undefined, { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'v' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/v' } } });
    assert.deepEqual(pv.metadata.finalizers, ['kubernetes.io/pv-protection']);
  } finally {
    storage.stop();
  }
});
