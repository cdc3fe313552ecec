/**
 * Issue 4, acceptance 2: @kubernetes/client-node 2.x as a first-class client of a real
 * apiserver process (HTTPS, client certificates from the admin kubeconfig, real etcd):
 * an informer on pods sees adds, updates and deletes across apiserver restarts (SIGKILL and
 * SIGTERM, changes made while it is disconnected), and KubernetesObjectApi creates, patches
 * (its default strategic merge, and server-side apply) and deletes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startControlPlane, waitFor } from './lib/cluster';

const pod = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'cn', labels }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
});

test('@kubernetes/client-node: informer through apiserver restarts, KubernetesObjectApi', { timeout: 240_000 }, async (t) => {
  const k8s = await import('@kubernetes/client-node');
  const cp = await startControlPlane({ store: 'etcd' });
  t.after(() => cp.stop());
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'cn' } } });

  await t.test('an informer on pods sees adds, updates and deletes through reconnects', async () => {
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/cn/pods', () => core.listNamespacedPod({ namespace: 'cn' }));
    const seen: string[] = [];
    const errors: string[] = [];
    let stopped = false;
    informer.on('add', (p) => seen.push(`add ${p.metadata?.name}`));
    informer.on('update', (p) => seen.push(`update ${p.metadata?.name} ${p.metadata?.labels?.v ?? ''}`));
    informer.on('delete', (p) => seen.push(`delete ${p.metadata?.name}`));
    // client-node's documented pattern: an informer stops on an error; restart it
    informer.on('error', (e: unknown) => {
      errors.push(String((e as Error)?.message ?? e));
      if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 200);
    });
    t.after(async () => { stopped = true; await informer.stop(); });
    const sawAll = (...events: string[]) => waitFor(`informer events ${events.join(', ')}`, () => events.every((e) => seen.includes(e)), 60_000);

    await core.createNamespacedPod({ namespace: 'cn', body: pod('before') });
    await informer.start();
    await sawAll('add before');
    await core.createNamespacedPod({ namespace: 'cn', body: pod('a') });
    await core.createNamespacedPod({ namespace: 'cn', body: pod('gone') });
    await sawAll('add a', 'add gone');

    // 1: SIGKILL the apiserver; change things as soon as the new one answers (the informer is still away)
    await cp.restartApiserver({ kill: true });
    await core.patchNamespacedPod({ namespace: 'cn', name: 'a', body: { metadata: { labels: { v: '1' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await core.createNamespacedPod({ namespace: 'cn', body: pod('b') });
    await core.deleteNamespacedPod({ namespace: 'cn', name: 'gone' });
    await sawAll('update a 1', 'add b', 'delete gone');

    // 2: a graceful restart, then changes after the informer is back
    await cp.restartApiserver();
    await waitFor('the informer to reconnect', () => core.listNamespacedPod({ namespace: 'cn' }).then(() => true));
    await core.patchNamespacedPod({ namespace: 'cn', name: 'a', body: { metadata: { labels: { v: '2' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await core.deleteNamespacedPod({ namespace: 'cn', name: 'b' });
    await core.createNamespacedPod({ namespace: 'cn', body: pod('c') });
    await sawAll('update a 2', 'delete b', 'add c');

    // the cache agrees with the server
    const names = informer.list('cn').map((p) => p.metadata?.name).sort();
    assert.deepEqual(names, ['a', 'before', 'c']);
    assert.equal(informer.get('a', 'cn')?.metadata?.labels?.v, '2');
    // no add event twice for an object the informer already had (relists are reconciled as updates)
    assert.equal(seen.filter((e) => e === 'add a').length, 1, seen.join('; '));
  });

  await t.test('KubernetesObjectApi: create, strategic-merge patch, server-side apply, delete', async () => {
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const deploy = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'cn', labels: { app: 'web' } },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'busybox:1.36', env: [{ name: 'A', value: '1' }] }] } } },
    };
    const created: any = await objects.create(deploy);
    assert.equal(created.kind, 'Deployment');
    assert.ok(created.metadata.uid);

    // default patch strategy: strategic merge (containers merged by name, env by name)
    const patched: any = await objects.patch({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'cn' },
      spec: { replicas: 2, template: { spec: { containers: [{ name: 'web', env: [{ name: 'B', value: '2' }] }] } } },
    } as any);
    assert.equal(patched.spec.replicas, 2);
    assert.equal(patched.spec.template.spec.containers.length, 1);
    assert.equal(patched.spec.template.spec.containers[0].image, 'busybox:1.36');
    assert.deepEqual(patched.spec.template.spec.containers[0].env.map((e: any) => e.name).sort(), ['A', 'B']);

    // server-side apply of a ConfigMap (creates it), then a second apply by the same manager
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'cn' }, data: { a: '1', b: '2' } };
    const applied: any = await objects.patch(cm, undefined, undefined, 'client-node-test', true, k8s.PatchStrategy.ServerSideApply);
    assert.deepEqual(applied.data, { a: '1', b: '2' });
    assert.ok(applied.metadata.managedFields.some((m: any) => m.manager === 'client-node-test' && m.operation === 'Apply'));
    const reapplied: any = await objects.patch({ ...cm, data: { a: '3' } }, undefined, undefined, 'client-node-test', true, k8s.PatchStrategy.ServerSideApply);
    assert.deepEqual(reapplied.data, { a: '3' }, 'fields the manager stopped applying are removed');
    const read: any = await objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'cn' } });
    assert.equal(read.data.a, '3');

    // errors are Kubernetes Status objects client-node understands
    await assert.rejects(objects.create(deploy), (e: any) => e.code === 409 && /already exists/.test(String(e.body ?? e.message)));

    await objects.delete({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'cn' } });
    await objects.delete({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'cn' } });
    await assert.rejects(objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'cn' } }), (e: any) => e.code === 404);
  });
});
