/**
 * The kubelet as a process against a real control plane (etcd + apiserver over
 * HTTPS): node registration, a pod bound to the node running on Docker with an
 * IP from the node's podCIDR, adoption across a kubelet restart, graceful
 * deletion. The podCIDR is patched by the test (a free 10.250.x.0/24, so it
 * never collides with a manual cluster's 10.244.0.0/16 networks on this host).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import Docker from 'dockerode';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { ApiError } from '../lib/client';
import { NODES, PODS } from '../lib/resources';
import { freePort, startControlPlane, stopProcess, waitFor, type ControlPlane, type Proc } from './lib/cluster';
import { inCIDR } from '../kubelet/node-status';
import { bridgeNameFor, removeBridge } from '../kubelet/pod-network';
import { pickFreeSubnet } from './lib/docker';

const docker = new Docker();
const suffix = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const NODE = `ke-${suffix}`;
const PREFIX = 'coxswain-e2e';
const NETWORK = `${PREFIX}-${NODE}`;
let cp: ControlPlane;
let kubelet: Proc;
let healthzPort = 0;
let subnet = '';


function startKubelet(): Proc {
  return cp.startComponent(
    'kubelet',
    ['--node-name', NODE, '--node-ip', '127.0.0.1', '--healthz-port', String(healthzPort), '--sync-frequency', '2s', '--heartbeat-frequency', '2s', '--network-prefix', PREFIX],
    `kubelet-${Date.now()}`,
  );
}

function get(url: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { timeout: 3000 }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      })
      .on('error', reject)
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error('timeout'));
      });
  });
}

async function containersOf(uid: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`coxswain.node=${NODE}`, `io.kubernetes.pod.uid=${uid}`] } });
}

before(async () => {
  subnet = await pickFreeSubnet(docker);
  healthzPort = await freePort();
  cp = await startControlPlane({ nodeName: NODE });
  kubelet = startKubelet();
});

after(async () => {
  await cp?.stop().catch(() => undefined);
  const list = await docker.listContainers({ all: true, filters: { label: [`coxswain.node=${NODE}`] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  await removeBridge(bridgeNameFor(NETWORK));
});

test('kubelet registers its node, runs a bound pod, survives a restart, and deletes the pod gracefully', async () => {
  const node = await waitFor('the node to register Ready', async () => {
    const n = await cp.client.tryGet<Node & Record<string, unknown>>(NODES, NODE);
    return n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : undefined;
  }, 60_000);
  assert.equal(node.metadata?.labels?.['kubernetes.io/hostname'], NODE);
  assert.equal(node.metadata?.labels?.['kubernetes.io/os'], 'linux');
  assert.equal(node.status?.nodeInfo?.kubeletVersion, 'v1.32.0-coxswain');
  assert.match(node.status?.nodeInfo?.containerRuntimeVersion ?? '', /^docker:\/\//);
  assert.match(String(node.status?.capacity?.memory), /^\d+Ki$/);
  assert.equal(node.status?.capacity?.pods, '110');
  assert.deepEqual(node.status?.addresses?.[0], { type: 'InternalIP', address: '127.0.0.1' });
  const hb1 = node.status!.conditions!.find((c) => c.type === 'Ready')!.lastHeartbeatTime!;
  await waitFor('a newer heartbeat', async () => {
    const n = await cp.client.get<Node & Record<string, unknown>>(NODES, NODE);
    return n.status!.conditions!.find((c) => c.type === 'Ready')!.lastHeartbeatTime! > hb1;
  }, 20_000);

  const health = await get(`http://127.0.0.1:${healthzPort}/healthz`);
  assert.deepEqual(health, { code: 200, body: 'ok' });
  const metrics = await get(`http://127.0.0.1:${healthzPort}/metrics`);
  assert.match(metrics.body, /kubelet_node_heartbeats_total/);

  await cp.client.patch(NODES, NODE, { spec: { podCIDR: subnet, podCIDRs: [subnet] } });

  const created = await cp.client.create<Pod & Record<string, unknown>>(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      nodeName: NODE,
      containers: [{ name: 'httpd', image: 'busybox:1.36', command: ['sh', '-c', 'mkdir -p /www && echo hello-e2e > /www/index.html && exec httpd -f -p 8080 -h /www'] }],
    },
  });
  const uid = created.metadata!.uid!;
  const running = await waitFor('the pod to run', async () => {
    const p = await cp.client.get<Pod & Record<string, unknown>>(PODS, 'web', 'default');
    return p.status?.phase === 'Running' && p.status.podIP && p.status.containerStatuses?.[0]?.ready ? p : undefined;
  }, 60_000);
  assert.ok(inCIDR(running.status!.podIP!, subnet), `${running.status!.podIP} in ${subnet}`);
  assert.equal(running.status?.hostIP, '127.0.0.1');
  assert.equal(running.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  const body = await waitFor('httpd to answer on the pod IP', async () => {
    const r = await get(`http://${running.status!.podIP}:8080/`);
    return r.code === 200 ? r.body : undefined;
  }, 20_000);
  assert.equal(body.trim(), 'hello-e2e');
  const before = (await containersOf(uid)).map((c) => c.Id).sort();
  assert.equal(before.length, 2);

  // A restarted kubelet adopts the running pod and restarts nothing.
  await stopProcess(kubelet);
  kubelet = startKubelet();
  const hb2 = (await cp.client.get<Node & Record<string, unknown>>(NODES, NODE)).status!.conditions!.find((c) => c.type === 'Ready')!.lastHeartbeatTime!;
  await waitFor('the restarted kubelet to heartbeat', async () => {
    const n = await cp.client.get<Node & Record<string, unknown>>(NODES, NODE);
    return n.status!.conditions!.find((c) => c.type === 'Ready')!.lastHeartbeatTime! > hb2;
  }, 30_000);
  await waitFor('the restarted kubelet to sync the pod', async () => {
    const m = await get(`http://127.0.0.1:${healthzPort}/metrics`);
    return /kubelet_pod_worker_duration_seconds_count\{operation="sync"\} [1-9]/.test(m.body);
  }, 30_000);
  assert.deepEqual((await containersOf(uid)).map((c) => c.Id).sort(), before);
  const after = await cp.client.get<Pod & Record<string, unknown>>(PODS, 'web', 'default');
  assert.equal(after.status?.containerStatuses?.[0]?.restartCount, 0);
  assert.equal(after.status?.containerStatuses?.[0]?.containerID, running.status?.containerStatuses?.[0]?.containerID);

  // Graceful deletion: the kubelet stops the containers, then removes the pod.
  await cp.client.delete(PODS, 'web', { namespace: 'default', gracePeriodSeconds: 2 });
  await waitFor('the pod to be gone from the API', async () => {
    try {
      await cp.client.get(PODS, 'web', 'default');
      return false;
    } catch (err) {
      return err instanceof ApiError && err.notFound;
    }
  }, 60_000);
  assert.deepEqual(await containersOf(uid), []);
});
