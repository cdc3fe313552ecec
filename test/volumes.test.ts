/**
 * Issue 12, volumes, with the real kubectl 1.32 against a `coxswain up` cluster (real
 * scheduler, controllers, kubelet and Docker containers): a claim without a class gets the
 * default `local-path` class, is provisioned on the node its first pod is scheduled to, bound
 * and mounted; its data outlives the pod; deleting it (policy Delete) removes the volume and
 * its directory. A static Retain volume binds to the smallest fitting claim and is Released
 * when the claim goes. A claim naming an unknown class stays Pending with a clear event, and a
 * pod using it is unschedulable. A claim a running pod uses, once deleted, stays Terminating
 * until the pod is gone (and its Bound volume, deleted too, until it is Released); growing a
 * local-path claim or shrinking any is refused in Kubernetes' words. A stored-only kind (an
 * HPA) is created with a warning kubectl prints.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';
import { kubectlFor } from './lib/kubectl';

const NODE = 'pv-node';
const SERVICE_CIDR = '10.149.0.0/16';
const CLUSTER_CIDR = '10.249.0.0/16';
const NODE_PORTS = '32700-32799';
const NS = 'vols';


const CLAIM = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
`;
const pod = (name: string, script: string, restartPolicy = 'Never', runAsUser = 0) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  securityContext: {runAsUser: ${runAsUser}}
  restartPolicy: ${restartPolicy}
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:1.36
    command: [sh, -c, ${JSON.stringify(script)}]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
`;
const STATEFULSET = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox:1.36
        command: [sleep, '3600']
        volumeMounts: [{name: state, mountPath: /state}]
  volumeClaimTemplates:
  - metadata: {name: state}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 32Mi}}
`;
const staticVolume = (name: string, size: string, mode: string, dir: string) => `apiVersion: v1
kind: PersistentVolume
metadata: {name: ${name}}
spec:
  capacity: {storage: ${size}}
  accessModes: [${mode}]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  hostPath: {path: ${dir}, type: DirectoryOrCreate}
`;

describe('PersistentVolumeClaims bind and provision themselves', { timeout: 10 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;

  const { k, kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache }));
  const events = (name: string, reason: string) => jp(['-n', NS, 'get', 'events', '--field-selector', `involvedObject.name=${name},reason=${reason}`], '{.items[*].message}');

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-pv-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    await kok(['create', 'namespace', NS]);
  });

  after(async () => {
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('the cluster starts with the local-path StorageClass, marked default', async (t) => {
    const out = await kok(['get', 'storageclass']);
    t.diagnostic(out);
    assert.match(out, /\nlocal-path \(default\)\s+coxswain\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s/);
  });

  let volume = '';
  let dir = '';

  it('a claim without a class gets local-path and waits for its first consumer', async () => {
    assert.equal(await kok(['-n', NS, 'apply', '-f', '-'], { input: CLAIM }), 'persistentvolumeclaim/data created\n');
    assert.equal(await jp(['-n', NS, 'get', 'pvc', 'data'], '{.spec.storageClassName} {.status.phase}'), 'local-path Pending');
    const msg = await waitFor('a WaitForFirstConsumer event', async () => (await events('data', 'WaitForFirstConsumer')) || undefined, 30_000, 250);
    assert.equal(msg, 'waiting for first consumer to be created before binding');
  });

  it('a pod using it (as a non-root user): the claim is provisioned on the pod\'s node, Bound, and the pod writes to it', async (t) => {
    await kok(['-n', NS, 'apply', '-f', '-'], { input: pod('writer', 'echo hello from writer > /data/greeting && sleep 3600', 'Always', 1000) });
    await kok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/writer', '--timeout=90s'], { timeoutMs: 100_000 });
    const pvc = await kok(['-n', NS, 'get', 'pvc', 'data']);
    t.diagnostic(pvc);
    const m = /\ndata\s+Bound\s+(pvc-[0-9a-f-]+)\s+64Mi\s+RWO\s+local-path\s/.exec(pvc);
    assert.ok(m, `kubectl get pvc shows Bound with capacity and class:\n${pvc}`);
    volume = m[1]!;
    assert.equal(await jp(['-n', NS, 'get', 'pvc', 'data'], '{.metadata.annotations.volume\\.kubernetes\\.io/selected-node}'), NODE);
    const pv = await kok(['get', 'pv', volume]);
    t.diagnostic(pv);
    assert.match(pv, new RegExp(`\\n${volume}\\s+64Mi\\s+RWO\\s+Delete\\s+Bound\\s+${NS}/data\\s+local-path\\s`));
    assert.equal(await jp(['get', 'pv', volume], '{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}'), NODE);
    dir = await jp(['get', 'pv', volume], '{.spec.hostPath.path}');
    assert.equal(dir, path.join(home, 'storage', volume));
    assert.equal(await readFile(path.join(dir, 'greeting'), 'utf8'), 'hello from writer\n');
  });

  it('the data outlives the pod: a new pod reads it back', async () => {
    await kok(['-n', NS, 'delete', 'pod', 'writer', '--grace-period=1'], { timeoutMs: 60_000 });
    await kok(['-n', NS, 'apply', '-f', '-'], { input: pod('reader', 'cat /data/greeting') });
    await waitFor('the reader pod Succeeded', async () => (await jp(['-n', NS, 'get', 'pod', 'reader'], '{.status.phase}')) === 'Succeeded', 90_000, 250);
    assert.equal(await kok(['-n', NS, 'logs', 'reader']), 'hello from writer\n');
    assert.equal(await jp(['-n', NS, 'get', 'pod', 'reader'], '{.spec.nodeName}'), NODE);
  });

  it('deleting the claim (policy Delete) removes the volume and its directory', async () => {
    await kok(['-n', NS, 'delete', 'pod', 'reader'], { timeoutMs: 60_000 });
    await kok(['-n', NS, 'delete', 'pvc', 'data'], { timeoutMs: 60_000 });
    await waitFor('the volume deleted', async () => (await k(['get', 'pv', volume])).stderr.includes('NotFound'), 90_000, 250);
    assert.equal(existsSync(dir), false, `${dir} was removed`);
  });

  it('a static Retain volume: the smallest that fits binds, and it is Released when the claim goes', async (t) => {
    const staticDir = (n: string) => path.join(home, 'static', n);
    await kok(['apply', '-f', '-'], {
      input: [
        staticVolume('small', '100Mi', 'ReadWriteOnce', staticDir('small')),
        staticVolume('readonly', '200Mi', 'ReadOnlyMany', staticDir('readonly')),
        staticVolume('mid', '500Mi', 'ReadWriteOnce', staticDir('mid')),
        staticVolume('big', '1Gi', 'ReadWriteOnce', staticDir('big')),
      ].join('---\n'),
    });
    await waitFor('four Available volumes', async () => (await jp(['get', 'pv', 'small', 'readonly', 'mid', 'big'], '{.items[*].status.phase}')) === 'Available Available Available Available', 30_000, 250);
    await mkdir(staticDir('mid'), { recursive: true });
    await writeFile(path.join(staticDir('mid'), 'kept'), 'kept');
    await kok(['-n', NS, 'apply', '-f', '-'], { input: 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: fixed}\nspec:\n  storageClassName: ""\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 150Mi}}\n' });
    const row = await waitFor('the claim Bound', async () => {
      const out = await kok(['-n', NS, 'get', 'pvc', 'fixed']);
      return /\nfixed\s+Bound\s/.test(out) ? out : undefined;
    }, 30_000, 250);
    t.diagnostic(row);
    assert.match(row, /\nfixed\s+Bound\s+mid\s+500Mi\s+RWO\s+\s/);
    await waitFor('mid Bound', async () => /\nmid\s+500Mi\s+RWO\s+Retain\s+Bound\s+vols\/fixed\s/.test(await kok(['get', 'pv', 'mid'])), 30_000, 250);
    await kok(['-n', NS, 'delete', 'pvc', 'fixed']);
    const released = await waitFor('mid Released', async () => {
      const out = await kok(['get', 'pv', 'mid']);
      return /\nmid\s+500Mi\s+RWO\s+Retain\s+Released\s+vols\/fixed\s/.test(out) ? out : undefined;
    }, 30_000, 250);
    t.diagnostic(released);
    assert.equal(await readFile(path.join(staticDir('mid'), 'kept'), 'utf8'), 'kept');
    assert.equal(await jp(['get', 'pv', 'small', 'readonly', 'big'], '{.items[*].status.phase}'), 'Available Available Available');
  });

  it('a claim naming an unknown class: Pending with a clear event; a pod using it is unschedulable', async (t) => {
    await kok(['-n', NS, 'apply', '-f', '-'], { input: CLAIM.replace('spec:\n', 'spec:\n  storageClassName: nope\n') });
    const msg = await waitFor('a ProvisioningFailed event', async () => (await events('data', 'ProvisioningFailed')) || undefined, 30_000, 250);
    assert.equal(msg, 'storageclass.storage.k8s.io "nope" not found');
    const described = await kok(['-n', NS, 'describe', 'pvc', 'data']);
    t.diagnostic(described);
    assert.match(described, /Status:\s+Pending\n/);
    assert.match(described, /Warning\s+ProvisioningFailed\s+.*storageclass\.storage\.k8s\.io "nope" not found/);
    await kok(['-n', NS, 'apply', '-f', '-'], { input: pod('stuck', 'true') });
    const sched = await waitFor('a FailedScheduling event', async () => (await events('stuck', 'FailedScheduling')) || undefined, 30_000, 250);
    assert.equal(sched, '0/1 nodes are available: 1 pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
  });

  it("a StatefulSet ordinal keeps its provisioned volume: a file db-0 wrote is there after db-0 is deleted and comes back", async () => {
    await kok(['-n', NS, 'apply', '-f', '-'], { input: STATEFULSET });
    // kubectl wait fails at once on a pod that does not exist yet: the controller creates it.
    await waitFor('db-0 created by the StatefulSet controller', async () => (await k(['-n', NS, 'get', 'pod', 'db-0'])).code === 0, 30_000, 100);
    await kok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/db-0', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.match(await kok(['-n', NS, 'get', 'pvc', 'state-db-0']), /\nstate-db-0\s+Bound\s+pvc-[0-9a-f-]+\s+32Mi\s+RWO\s+local-path\s/);
    await kok(['-n', NS, 'exec', 'db-0', '--', 'sh', '-c', 'echo kept > /state/f']);
    const uid = await jp(['-n', NS, 'get', 'pod', 'db-0'], '{.metadata.uid}');
    await kok(['-n', NS, 'delete', 'pod', 'db-0', '--grace-period=1'], { timeoutMs: 60_000 });
    await waitFor('db-0 back as a new pod, Ready', async () => {
      const r = await k(['-n', NS, 'get', 'pod', 'db-0', '-o', 'jsonpath={.metadata.uid} {.status.conditions[?(@.type=="Ready")].status}']);
      const [u, ready] = r.stdout.split(' ');
      return r.code === 0 && u !== uid && ready === 'True';
    }, 90_000, 250);
    assert.equal((await kok(['-n', NS, 'exec', 'db-0', '--', 'cat', '/state/f'])).trim(), 'kept');
  });

  it("a Bound claim's resize is refused in Kubernetes' words: local-path does not expand, and no claim shrinks", async () => {
    const resize = (size: string) => k(['-n', NS, 'patch', 'pvc', 'state-db-0', '-p', JSON.stringify({ spec: { resources: { requests: { storage: size } } } })]);
    const grow = await resize('64Mi');
    assert.notEqual(grow.code, 0);
    assert.equal(grow.stderr.trim(), 'Error from server (Forbidden): persistentvolumeclaims "state-db-0" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize');
    const shrink = await resize('16Mi');
    assert.notEqual(shrink.code, 0);
    assert.equal(shrink.stderr.trim(), 'The PersistentVolumeClaim "state-db-0" is invalid: spec.resources.requests.storage: Forbidden: field can not be less than status.capacity');
    assert.equal(await jp(['-n', NS, 'get', 'pvc', 'state-db-0'], '{.spec.resources.requests.storage}'), '32Mi');
  });

  it('a claim a running pod uses, deleted, stays Terminating (its Bound volume too) until the pod is gone', async (t) => {
    await kok(['-n', NS, 'apply', '-f', '-'], { input: CLAIM.replace('name: data', 'name: spare') });
    assert.equal(await jp(['-n', NS, 'get', 'pvc', 'state-db-0', 'spare'], '{.items[*].metadata.finalizers}'), '["kubernetes.io/pvc-protection"] ["kubernetes.io/pvc-protection"]');
    const pv = await jp(['-n', NS, 'get', 'pvc', 'state-db-0'], '{.spec.volumeName}');
    assert.equal(await jp(['get', 'pv', pv], '{.metadata.finalizers}'), '["kubernetes.io/pv-protection"]');
    await kok(['-n', NS, 'delete', 'pvc', 'state-db-0', '--wait=false']);
    await kok(['delete', 'pv', pv, '--wait=false']);
    // an unused claim deleted after it goes at once: the controller has been through both
    await kok(['-n', NS, 'delete', 'pvc', 'spare'], { timeoutMs: 30_000 });
    const claimRow = await kok(['-n', NS, 'get', 'pvc', 'state-db-0']);
    const volumeRow = await kok(['get', 'pv', pv]);
    t.diagnostic(claimRow + volumeRow);
    assert.match(claimRow, /\nstate-db-0\s+Terminating\s/);
    assert.match(volumeRow, new RegExp(`\\n${pv}\\s+32Mi\\s+RWO\\s+Delete\\s+Terminating\\s`));
    assert.equal(await jp(['-n', NS, 'get', 'pod', 'db-0'], '{.status.phase}'), 'Running');
    await kok(['-n', NS, 'delete', 'statefulset', 'db', '--wait=false']);
    await waitFor('the claim gone once db-0 is', async () => (await k(['-n', NS, 'get', 'pvc', 'state-db-0'])).stderr.includes('NotFound'), 60_000, 250);
    await waitFor('the volume gone once Released', async () => (await k(['get', 'pv', pv])).stderr.includes('NotFound'), 30_000, 250);
  });

  it('a HorizontalPodAutoscaler (stored only until issue 15): created without a warning', async () => {
    const hpa = 'apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 1\n  maxReplicas: 3\n';
    const r = await k(['-n', NS, 'create', '-f', '-'], { input: hpa });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'horizontalpodautoscaler.autoscaling/web created\n');
    assert.equal(r.stderr, '');
  });
});
