/**
 * Controllers and scheduler against a real control plane (etcd + apiserver
 * over HTTPS), each its own process. A fake Node is registered through the
 * API and this test plays the kubelet (pod status through pods/status).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Endpoints, Event, Node, Pod, Service } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../lib/client';
import { DEPLOYMENTS, ENDPOINTS, EVENTS, NODES, PODS, REPLICASETS, SERVICES } from '../lib/resources';
import { freePort, startControlPlane, waitFor, type ControlPlane } from './lib/cluster';

const NS = 'default';
const NODE = 'fake-node';

function httpGetText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('controllers + scheduler on a real control plane', { timeout: 5 * 60_000 }, () => {
  let cp: ControlPlane;
  let controllersPort: number;
  let schedulerPort: number;

  before(async () => {
    cp = await startControlPlane({ store: 'etcd' });
    controllersPort = await freePort();
    schedulerPort = await freePort();
    cp.startComponent('controllers', ['--port', String(controllersPort), '--cluster-cidr', '10.244.0.0/16', '--node-monitor-grace-period', '10m']);
    cp.startComponent('scheduler', ['--port', String(schedulerPort)]);
  });

  after(async () => {
    await cp?.stop();
  });

  const pods = async (selector = 'app=web') => (await cp.client.list<Pod & KubeObject>(PODS, { namespace: NS, labelSelector: selector })).items;
  const live = (ps: Pod[]) => ps.filter((p) => !p.metadata?.deletionTimestamp);

  /** Plays the kubelet: every bound pod gets Running, a podIP and Ready=True; terminating pods are removed. */
  async function kubelet(): Promise<void> {
    let i = 10;
    for (const p of await pods()) {
      i++;
      if (!p.spec?.nodeName) continue;
      if (p.metadata?.deletionTimestamp) {
        await cp.client.delete(PODS, p.metadata.name!, { namespace: NS, gracePeriodSeconds: 0, ignoreNotFound: true });
        continue;
      }
      if (p.status?.podIP && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      await cp.client.updateStatus(PODS, {
        ...p,
        status: {
          ...p.status,
          phase: 'Running',
          podIP: `10.244.0.${i}`,
          podIPs: [{ ip: `10.244.0.${i}` }],
          conditions: [
            { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
            { type: 'Ready', status: 'True', lastTransitionTime: now },
          ],
        },
      } as KubeObject).catch(() => undefined);
    }
  }

  it('serves /healthz and /metrics', async () => {
    await waitFor('controllers /readyz', async () => (await httpGetText(`http://127.0.0.1:${controllersPort}/readyz`)).status === 200, 60_000);
    await waitFor('scheduler /readyz', async () => (await httpGetText(`http://127.0.0.1:${schedulerPort}/readyz`)).status === 200, 60_000);
    assert.equal((await httpGetText(`http://127.0.0.1:${controllersPort}/healthz`)).body, 'ok');
  });

  it('gives a registered node a podCIDR', async () => {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } },
      status: {
        capacity: { cpu: '2', memory: '4Gi', pods: '110' },
        allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now }],
      },
    };
    const created = (await cp.client.create(NODES, node as KubeObject)) as Node & KubeObject;
    if (!created.status?.conditions?.length) await cp.client.updateStatus(NODES, { ...created, status: node.status } as KubeObject);
    const cidr = await waitFor('node podCIDR', async () => (await cp.client.get<Node & KubeObject>(NODES, NODE)).spec?.podCIDR, 30_000);
    assert.equal(cidr, '10.244.0.0/24');
    assert.deepEqual((await cp.client.get<Node & KubeObject>(NODES, NODE)).spec?.podCIDRs, ['10.244.0.0/24']);
  });

  it('runs a Deployment: ReplicaSet, 3 pods bound to the node, status', async () => {
    const d: Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'busybox:1.36', ports: [{ name: 'http', containerPort: 8080 }], resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
        },
      },
    };
    await cp.client.create(DEPLOYMENTS, d as KubeObject, NS);
    const rs = await waitFor('a ReplicaSet', async () => (await cp.client.list<ReplicaSet & KubeObject>(REPLICASETS, { namespace: NS })).items.find((x) => x.metadata?.name?.startsWith('web-')), 30_000);
    assert.equal(rs.metadata?.ownerReferences?.[0]?.kind, 'Deployment');
    assert.equal(rs.metadata?.ownerReferences?.[0]?.controller, true);
    assert.ok(rs.metadata?.labels?.['pod-template-hash']);
    assert.equal(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'], '1');
    const bound = await waitFor('3 pods bound to the node', async () => {
      const ps = live(await pods());
      return ps.length === 3 && ps.every((p) => p.spec?.nodeName === NODE) ? ps : undefined;
    }, 30_000);
    for (const p of bound) {
      assert.match(p.metadata!.name!, new RegExp(`^${rs.metadata!.name}-[a-z0-9]{5}$`));
      assert.equal(p.metadata?.ownerReferences?.[0]?.uid, rs.metadata?.uid);
    }
    await kubelet();
    const st = await waitFor('deployment status available', async () => {
      const x = await cp.client.get<Deployment & KubeObject>(DEPLOYMENTS, 'web', NS);
      return x.status?.availableReplicas === 3 && x.status.conditions?.find((c) => c.type === 'Progressing')?.reason === 'NewReplicaSetAvailable' ? x : undefined;
    }, 30_000);
    assert.equal(st.status?.updatedReplicas, 3);
    assert.equal(st.status?.observedGeneration, st.metadata?.generation);
    assert.equal(st.status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');
    const events = (await cp.client.list<Event & KubeObject>(EVENTS, { namespace: NS })).items;
    assert.ok(events.some((e) => e.reason === 'ScalingReplicaSet' && e.involvedObject.name === 'web'), 'ScalingReplicaSet event');
    assert.ok(events.some((e) => e.reason === 'SuccessfulCreate' && e.involvedObject.kind === 'ReplicaSet'), 'SuccessfulCreate event');
    assert.ok(events.some((e) => e.reason === 'Scheduled'), 'Scheduled event');
  });

  it('scales to 5 and to 1', async () => {
    await cp.client.patch(DEPLOYMENTS, 'web', { spec: { replicas: 5 } }, { namespace: NS });
    await waitFor('5 pods bound', async () => {
      const ps = live(await pods());
      return ps.length === 5 && ps.every((p) => p.spec?.nodeName === NODE);
    }, 30_000);
    await kubelet();
    await cp.client.patch(DEPLOYMENTS, 'web', { spec: { replicas: 1 } }, { namespace: NS });
    await waitFor('1 live pod', async () => {
      await kubelet();
      return live(await pods()).length === 1;
    }, 30_000);
    await waitFor('deployment status 1/1', async () => {
      const x = await cp.client.get<Deployment & KubeObject>(DEPLOYMENTS, 'web', NS);
      return x.status?.replicas === 1 && x.status.availableReplicas === 1 && x.status.observedGeneration === x.metadata?.generation;
    }, 30_000);
  });

  it('fills Endpoints for a Service from ready pods', async () => {
    await cp.client.patch(DEPLOYMENTS, 'web', { spec: { replicas: 2 } }, { namespace: NS });
    await waitFor('2 running pods', async () => {
      await kubelet();
      const ps = live(await pods());
      return ps.length === 2 && ps.every((p) => p.status?.podIP);
    }, 30_000);
    const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } };
    await cp.client.create(SERVICES, svc as KubeObject, NS);
    const ep = await waitFor('endpoints with 2 addresses', async () => {
      const e = await cp.client.tryGet<Endpoints & KubeObject>(ENDPOINTS, 'web', NS);
      return e?.subsets?.[0]?.addresses?.length === 2 ? e : undefined;
    }, 30_000);
    assert.deepEqual(ep.subsets?.[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.equal(ep.subsets?.[0].addresses?.[0].nodeName, NODE);
    assert.equal(ep.subsets?.[0].addresses?.[0].targetRef?.kind, 'Pod');
    // A pod going not-ready moves to notReadyAddresses.
    const [p] = live(await pods());
    await cp.client.updateStatus(PODS, { ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'False' }] } } as KubeObject);
    await waitFor('a notReady address', async () => (await cp.client.get<Endpoints & KubeObject>(ENDPOINTS, 'web', NS)).subsets?.some((s) => s.notReadyAddresses?.length === 1), 30_000);
    // Deleting the Service deletes its Endpoints.
    await cp.client.delete(SERVICES, 'web', { namespace: NS });
    await waitFor('endpoints gone', async () => (await cp.client.tryGet(ENDPOINTS, 'web', NS)) === undefined, 30_000);
  });

  it('reports unschedulable pods with a per-node reason summary', async () => {
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'huge', namespace: NS, labels: { app: 'huge' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36', resources: { requests: { cpu: '64' } } }] } };
    await cp.client.create(PODS, pod as KubeObject, NS);
    const cond = await waitFor('PodScheduled=False', async () => (await cp.client.get<Pod & KubeObject>(PODS, 'huge', NS)).status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False'), 30_000);
    assert.equal(cond.reason, 'Unschedulable');
    // kube-scheduler's words, preemption's part included: 64 CPUs is more than the node has at
    // all, so evicting pods cannot help (NodeResourcesFit's UnschedulableAndUnresolvable)
    assert.equal(cond.message, '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
    await waitFor('FailedScheduling event', async () => (await cp.client.list<Event & KubeObject>(EVENTS, { namespace: NS })).items.some((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'huge'), 30_000);
    await cp.client.delete(PODS, 'huge', { namespace: NS, gracePeriodSeconds: 0 });
  });

  it('rolls out a new template with a RollingUpdate', async () => {
    await cp.client.patch(DEPLOYMENTS, 'web', { spec: { replicas: 3 } }, { namespace: NS });
    await waitFor('3 ready pods', async () => {
      await kubelet();
      const x = await cp.client.get<Deployment & KubeObject>(DEPLOYMENTS, 'web', NS);
      return x.status?.availableReplicas === 3 && x.status.replicas === 3;
    }, 30_000);
    await cp.client.patch(DEPLOYMENTS, 'web', { spec: { template: { metadata: { annotations: { rollout: '2' } } } } }, { namespace: NS });
    const done = await waitFor('rollout complete', async () => {
      await kubelet();
      const x = await cp.client.get<Deployment & KubeObject>(DEPLOYMENTS, 'web', NS);
      const s = x.status;
      const ok = s?.observedGeneration === x.metadata?.generation && s?.updatedReplicas === 3 && s.replicas === 3 && s.availableReplicas === 3 && s.conditions?.find((c) => c.type === 'Progressing')?.reason === 'NewReplicaSetAvailable';
      return ok ? x : undefined;
    }, 60_000);
    assert.equal(done.metadata?.annotations?.['deployment.kubernetes.io/revision'], '2');
    const rss = (await cp.client.list<ReplicaSet & KubeObject>(REPLICASETS, { namespace: NS })).items;
    assert.equal(rss.length, 2);
    const byRev = rss.sort((a, b) => Number(a.metadata?.annotations?.['deployment.kubernetes.io/revision']) - Number(b.metadata?.annotations?.['deployment.kubernetes.io/revision']));
    assert.deepEqual(byRev.map((r) => r.spec?.replicas), [0, 3]);
    const ps = live(await pods());
    assert.equal(ps.length, 3);
    assert.ok(ps.every((p) => p.metadata?.annotations?.rollout === '2'));
  });

  it('garbage-collects ReplicaSets and pods when the Deployment is deleted', async () => {
    await cp.client.delete(DEPLOYMENTS, 'web', { namespace: NS, propagationPolicy: 'Background' });
    await waitFor('ReplicaSets gone', async () => (await cp.client.list(REPLICASETS, { namespace: NS })).items.length === 0, 60_000);
    await waitFor('pods gone', async () => {
      await kubelet();
      return (await pods()).length === 0;
    }, 60_000);
  });

  it('exports reconcile and scheduling metrics', async () => {
    const c = (await httpGetText(`http://127.0.0.1:${controllersPort}/metrics`)).body;
    assert.match(c, /coxswain_controller_reconcile_total\{controller="deployment",result="success"\} [1-9]/);
    assert.match(c, /coxswain_controller_workqueue_depth\{controller="replicaset"\} \d+/);
    assert.match(c, /coxswain_controller_reconcile_duration_seconds_bucket/);
    const s = (await httpGetText(`http://127.0.0.1:${schedulerPort}/metrics`)).body;
    assert.match(s, /coxswain_scheduler_schedule_attempts_total\{result="scheduled"\} [1-9]/);
    assert.match(s, /coxswain_scheduler_schedule_attempts_total\{result="unschedulable"\} [1-9]/);
  });
});
