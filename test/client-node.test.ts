/**
 * Issue 4, acceptance 2: @kubernetes/client-node 2.x as a first-class client of a real
 * apiserver process (HTTPS, client certificates from the admin kubeconfig, real etcd):
 * an informer on pods sees adds, updates and deletes across apiserver restarts (SIGKILL and
 * SIGTERM, changes made while it is disconnected), and KubernetesObjectApi creates, patches
 * (its default strategic merge, and server-side apply) and deletes. Then, on a whole
 * `coxswain up` cluster (a kubelet with real containers), its `Exec` and `Log` classes:
 * stdout/stderr/stdin and exit statuses through the WebSocket, logs and a follow that
 * answers before the container prints anything.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { test } from 'node:test';
import { startControlPlane, waitFor } from './lib/cluster';
import { startUp, tearDownUp, type UpCluster } from './lib/up';

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

/** Collects what a stream receives. */
function sink(): Writable & { text: () => string } {
  let text = '';
  const w = new Writable({ write(chunk, _enc, cb) { text += chunk.toString(); cb(); } }) as Writable & { text: () => string };
  w.text = () => text;
  return w;
}

test('@kubernetes/client-node: Exec and Log against a real pod', { timeout: 240_000 }, async (t) => {
  const k8s = await import('@kubernetes/client-node');
  const NODE = 'client-node-node';
  const home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-client-node-'));
  let cluster: UpCluster | undefined;
  t.after(() => tearDownUp(cluster, home, NODE, '10.123.0.0/16'));
  cluster = await startUp({ home, nodeName: NODE, serviceCidr: '10.123.0.0/16', clusterCidr: '10.253.0.0/16', nodePortRange: '31600-31699' });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  // A quiet container: it prints only what an exec writes to its stdout (PID 1's fd 1).
  await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'box' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'echo started; exec sleep 3600'] }] } } });
  await waitFor('pod box Running', async () => (await core.readNamespacedPod({ namespace: 'default', name: 'box' })).status?.phase === 'Running', 90_000, 250);
  const exec = new k8s.Exec(kc);
  const run = (command: string[], stdin: Readable | null = null, tty = false) => new Promise<{ out: string; err: string; status: any }>((resolve, reject) => {
    const out = sink(), err = sink();
    exec.exec('default', 'box', 'main', command, out, err, stdin, tty, (status) => {
      // the status arrives before the socket closes: give the last frames a turn
      setImmediate(() => resolve({ out: out.text(), err: err.text(), status }));
    }).catch(reject);
  });

  await t.test('Exec: stdout, stderr and the exit status', async () => {
    const ok = await run(['sh', '-c', 'echo out; echo err >&2']);
    assert.equal(ok.status.status, 'Success');
    assert.equal(ok.out, 'out\n');
    assert.equal(ok.err, 'err\n');
    const failed = await run(['sh', '-c', 'exit 7']);
    assert.equal(failed.status.status, 'Failure');
    assert.equal(failed.status.reason, 'NonZeroExitCode');
    assert.deepEqual(failed.status.details?.causes, [{ reason: 'ExitCode', message: '7' }]);
  });

  await t.test('Exec: stdin reaches the command', async () => {
    const stdin = new PassThrough();
    const p = run(['sh', '-c', 'tr a-z A-Z'], stdin);
    stdin.end('through client-node\n');
    const r = await p;
    assert.equal(r.status.status, 'Success');
    assert.equal(r.out, 'THROUGH CLIENT-NODE\n');
  });

  await t.test('Log: the container output, and a follow that sees new lines', async () => {
    const all = sink();
    await new k8s.Log(kc).log('default', 'box', 'main', all, { follow: false });
    await waitFor('the log body', () => all.text() === 'started\n', 10_000);
    // follow of a container that has printed nothing yet: the request must resolve at once
    // (response headers before any data), then the line the container prints later arrives.
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'late' }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'until [ -f /tmp/go ]; do sleep 0.2; done; echo go'] }] } } });
    await waitFor('pod late Running', async () => (await core.readNamespacedPod({ namespace: 'default', name: 'late' })).status?.phase === 'Running', 90_000, 250);
    const followed = sink();
    let ended = false;
    followed.on('finish', () => (ended = true));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new k8s.Log(kc).log('default', 'late', 'main', followed, { follow: true }),
      new Promise((_r, reject) => { timer = setTimeout(() => reject(new Error('Log.log(follow) did not resolve within 10 s for a quiet container')), 10_000); }),
    ]).finally(() => clearTimeout(timer));
    assert.equal(followed.text(), '');
    const go = await new Promise<any>((resolve, reject) => {
      // (Kubernetes wants at least one of stdin/stdout/stderr on an exec.)
      exec.exec('default', 'late', 'main', ['touch', '/tmp/go'], sink(), null, null, false, resolve).catch(reject);
    });
    assert.equal(go.status, 'Success');
    await waitFor('the line printed after the follow started', () => followed.text() === 'go\n', 15_000);
    // The container exits after printing: the follow ends with it.
    await waitFor('the followed stream to end with the container', () => ended, 30_000);
  });
});
