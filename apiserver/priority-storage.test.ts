import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../lib/log';
import { parseServiceCidr } from './allocators';
import { AdmissionChain } from './admission';
import { Registry } from './registry';
import { ResourceStorage } from './resources';
import { MemoryStore } from './storage/memory';
import { bootstrap } from './bootstrap';
import { priorityAdmission } from './priority-admission';
import type { ApiObject } from './api-object';

/** PriorityClasses and pods through the storage and the Priority admission plugin, as main.ts wires them, over an in-memory store. */
test('PriorityClasses and pod priority through the storage: built-ins, one default, admission on create, priority kept on update', async () => {
  const registry = new Registry();
  const chain = new AdmissionChain();
  const storage = new ResourceStorage({
    store: new MemoryStore(), registry, log: createLogger('apiserver-test'), serviceCidr: parseServiceCidr('10.96.0.0/12'), nodePortRange: [30000, 32767],
    admit: chain.admit, admitUpdate: chain.admitUpdate, validateUpdate: chain.validateUpdate,
  });
  chain.register(priorityAdmission(storage, registry));
  const pcs = registry.lookup('scheduling.k8s.io', 'v1', 'priorityclasses')!;
  const pods = registry.lookup('', 'v1', 'pods')!;
  const message = (p: Promise<unknown>) => p.then(() => 'accepted', (e: Error) => e.message);
  await storage.start();
  try {
    await bootstrap(storage, registry, { advertiseAddress: '127.0.0.1', securePort: 6443, kubernetesServiceIP: '10.96.0.1' });
    const names = (await storage.list(pcs, undefined)).items.map((c) => `${c.obj.metadata.name}=${(c.obj as unknown as { value: number }).value}`).sort();
    assert.deepEqual(names, ['system-cluster-critical=2000000000', 'system-node-critical=2000001000']);
    assert.equal(await message(storage.delete(pcs, undefined, 'system-cluster-critical')),
      'priorityclasses.scheduling.k8s.io "system-cluster-critical" is forbidden: this is a system priority class and cannot be deleted');

    await storage.create(pcs, undefined, { metadata: { name: 'base' }, value: 10, globalDefault: true });
    assert.equal(await message(storage.create(pcs, undefined, { metadata: { name: 'other' }, value: 20, globalDefault: true })),
      'priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass base is already marked as default. Only one default can exist');
    await storage.create(pcs, undefined, { metadata: { name: 'other' }, value: 20 });
    const other = (await storage.read(pcs, undefined, 'other'))!.obj;
    assert.match(await message(storage.update(pcs, undefined, 'other', { ...other, globalDefault: true })), /PriorityClass base is already marked as default/);
    assert.match(await message(storage.update(pcs, undefined, 'other', { ...other, value: 21 })), /value: Forbidden: may not be changed in an update/);

    const pod = (name: string, cls?: string) => ({ metadata: { name }, spec: { priorityClassName: cls, containers: [{ name: 'c', image: 'busybox:1.36' }] } });
    const spec = (o: ApiObject) => (o as unknown as { spec: unknown }).spec as { priority?: number; priorityClassName?: string; preemptionPolicy?: string };
    const a = await storage.create(pods, 'default', pod('a'));
    assert.deepEqual([spec(a).priorityClassName, spec(a).priority, spec(a).preemptionPolicy], ['base', 10, 'PreemptLowerPriority']);
    const b = await storage.create(pods, 'default', pod('b', 'system-node-critical'));
    assert.equal(spec(b).priority, 2000001000);
    assert.equal(await message(storage.create(pods, 'default', pod('c', 'nope'))), 'pods "c" is forbidden: no PriorityClass with name nope was found');
    // a PUT that leaves the admitted fields out keeps them (the pod's spec is otherwise immutable)
    const body = structuredClone(a) as ApiObject & { spec: { priority?: number; preemptionPolicy?: string } };
    delete body.spec.priority;
    delete body.spec.preemptionPolicy;
    const { obj } = await storage.update(pods, 'default', 'a', body);
    assert.equal(spec(obj).priority, 10);
  } finally {
    await storage.stop();
  }
});
