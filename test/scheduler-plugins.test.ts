/**
 * Issue 14, the simple placement plugins end to end on a `coxswain up` cluster with two hollow
 * nodes: a Deployment whose pods hold hostPort 8080 gets one replica per hollow node and leaves
 * the third Pending with kube-scheduler's NodePorts message; a pod asking for an extended resource
 * (nvidia.com/gpu) goes to the one node advertising it, and a second waits with "Insufficient
 * nvidia.com/gpu"; the real kubelet reports node.status.images (ImageLocality's input).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ContainerImage, Pod } from 'kubernetes-types/core/v1';
import { spawnHollowNodes, startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';
import { kubectlFor } from './lib/kubectl';

const NODE = 'pl-up';
const SERVICE_CIDR = '10.184.0.0/16';
const CLUSTER_CIDR = '10.224.0.0/16';
const NODE_PORTS = '31350-31399';
const HOLLOW = ['pl-hollow-0', 'pl-hollow-1'];

const hostPortDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: hostport
spec:
  replicas: 3
  selector:
    matchLabels: {app: hostport}
  template:
    metadata:
      labels: {app: hostport}
    spec:
      nodeSelector: {coxswain.test/pool: pl-hollow}
      containers:
      - name: app
        image: busybox:1.36
        command: [sleep, "3600"]
        ports:
        - {containerPort: 8080, hostPort: 8080}
`;

const gpuPod = (name: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  nodeSelector: {coxswain.test/pool: pl-hollow}
  containers:
  - name: app
    image: busybox:1.36
    command: [sleep, "3600"]
    resources:
      requests: {nvidia.com/gpu: "1"}
      limits: {nvidia.com/gpu: "1"}
`;

describe('scheduler plugins: NodePorts and extended resources on hollow nodes, status.images', { timeout: 2 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;
  let hollow: ChildProcess | undefined;

  const { kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache }));
  const pods = async (): Promise<Pod[]> => (JSON.parse(await kok(['get', 'pods', '-l', 'app=hostport', '-o', 'json'])) as { items: Pod[] }).items;

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-pl-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    hollow = spawnHollowNodes(cluster.kubeconfig, ['--count', '2', '--prefix', 'pl-hollow-', '--labels', 'coxswain.test/pool=pl-hollow']);
  });

  after(async () => {
    if (hollow && hollow.exitCode === null) hollow.kill('SIGKILL');
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('places one hostPort replica per node and leaves the third Pending with the NodePorts message', async () => {
    await waitFor('2 hollow nodes Ready', async () => {
      const ready = await jp(['get', 'nodes', '-l', 'coxswain.test/pool=pl-hollow'], '{range .items[*]}{.status.conditions[?(@.type=="Ready")].status} {end}');
      return ready.split(' ').filter((s) => s === 'True').length === 2;
    }, 30_000, 250);
    await kok(['apply', '-f', '-'], { input: hostPortDeployment });
    const pending = await waitFor('2 replicas Running, 1 Pending', async () => {
      const items = await pods();
      const running = items.filter((p) => p.status?.phase === 'Running');
      const waiting = items.filter((p) => !p.spec?.nodeName);
      return items.length === 3 && running.length === 2 && waiting.length === 1 ? waiting[0] : undefined;
    }, 60_000, 250);
    const nodes = (await pods()).map((p) => p.spec?.nodeName).filter(Boolean).sort();
    assert.deepEqual(nodes, HOLLOW);
    const name = pending.metadata!.name!;
    const message = await waitFor('a FailedScheduling event for the third replica', async () => {
      const m = await jp(['get', 'events', '--field-selector', `involvedObject.name=${name},reason=FailedScheduling`], '{.items[0].message}');
      return m || undefined;
    }, 30_000, 250);
    assert.match(message, /^0\/3 nodes are available: 2 node\(s\) didn't have free ports for the requested pod ports, 1 node\(s\) didn't match Pod's node affinity\/selector\./);
    assert.equal(await jp(['get', 'pod', name], '{.status.conditions[?(@.type=="PodScheduled")].reason}'), 'Unschedulable');
  });

  it('places a pod asking for nvidia.com/gpu on the node that has one; a second waits with "Insufficient nvidia.com/gpu"', async () => {
    await kok(['patch', 'node', 'pl-hollow-1', '--subresource=status', '--type=merge', '-p', '{"status":{"capacity":{"nvidia.com/gpu":"1"},"allocatable":{"nvidia.com/gpu":"1"}}}']);
    await kok(['apply', '-f', '-'], { input: gpuPod('gpu-a') });
    await waitFor('gpu-a bound', async () => (await jp(['get', 'pod', 'gpu-a'], '{.spec.nodeName}')) || undefined, 30_000, 250);
    assert.equal(await jp(['get', 'pod', 'gpu-a'], '{.spec.nodeName}'), 'pl-hollow-1');
    await kok(['apply', '-f', '-'], { input: gpuPod('gpu-b') });
    const message = await waitFor('a FailedScheduling event for gpu-b', async () => {
      const m = await jp(['get', 'events', '--field-selector', 'involvedObject.name=gpu-b,reason=FailedScheduling'], '{.items[0].message}');
      return m || undefined;
    }, 30_000, 250);
    assert.match(message, /^0\/3 nodes are available: 2 Insufficient nvidia\.com\/gpu, 1 node\(s\) didn't match Pod's node affinity\/selector\./);
    assert.equal(await jp(['get', 'pod', 'gpu-b'], '{.spec.nodeName}'), '');
  });

  it('reports the real node\'s images in status.images, largest first, with repo:tag names and sizes', async () => {
    const images = await waitFor('status.images on the real node', async () => {
      const node = JSON.parse(await kok(['get', 'node', NODE, '-o', 'json'])) as { status?: { images?: ContainerImage[] } };
      const list = node.status?.images ?? [];
      return list.some((i) => i.names?.includes('busybox:1.36')) ? list : undefined;
    }, 30_000, 500);
    assert.ok(images.length <= 50);
    const busybox = images.find((i) => i.names?.includes('busybox:1.36'))!;
    assert.ok((busybox.sizeBytes ?? 0) > 0);
    const sizes = images.map((i) => i.sizeBytes ?? 0);
    assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a));
  });
});
