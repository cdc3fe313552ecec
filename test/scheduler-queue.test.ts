/**
 * The scheduler's queue and profiles on a real control plane (etcd + apiserver), with two
 * hollow Nodes (no kubelet) and `coxswain scheduler --config FILE`: a pod that fits nowhere
 * records why (condition, event, last-attempt annotation) and waits in the unschedulable pool
 * until a node change lets it fit; pods choose a profile by spec.schedulerName, and a pod naming
 * no profile of this scheduler is left alone; a bad config file exits 2 naming the field.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Event, Pod } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../lib/client';
import { EVENTS, NODES, PODS } from '../lib/resources';
import { decodeLastAttempt } from '../lib/scheduling-diagnosis';
import { freePort, startControlPlane, startProcess, type ControlPlane } from './lib/cluster';
import { HollowNodes } from './lib/hollow-nodes';
import { waitFor } from './lib/util';

const NS = 'default';
const CONFIG = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
  - schedulerName: default-scheduler
  - schedulerName: taint-blind
    percentageOfNodesToScore: 100
    plugins:
      filter:
        disabled: [{ name: TaintToleration }]
      postFilter:
        disabled: [{ name: DefaultPreemption }]
`;

describe('scheduler queue and profiles', { timeout: 2 * 60_000 }, () => {
  let cp: ControlPlane;
  let nodes: HollowNodes;
  let metricsPort: number;

  before(async () => {
    cp = await startControlPlane({ store: 'etcd' });
    nodes = new HollowNodes(cp.client, ['sq-a', 'sq-b']);
    await nodes.start();
    const file = path.join(cp.dir, 'scheduler.yaml');
    await writeFile(file, CONFIG);
    metricsPort = await freePort();
    cp.startComponent('scheduler', ['--port', String(metricsPort), '--config', file]);
  });

  after(async () => {
    await nodes?.stop();
    await cp?.stop();
  });

  const pod = (name: string, o: { cpu?: string; schedulerName?: string } = {}) =>
    cp.client.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS },
      spec: { ...(o.schedulerName ? { schedulerName: o.schedulerName } : {}), containers: [{ name: 'c', image: 'busybox:1.36', resources: { requests: { cpu: o.cpu ?? '100m' } } }] },
    } as KubeObject, NS);
  const get = (name: string) => cp.client.get<Pod & KubeObject>(PODS, name, NS);
  const boundTo = (name: string) => waitFor(`${name} bound`, async () => (await get(name)).spec?.nodeName, 30_000);
  const metrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

  it('a bad config file: exit 2 and the field named', async () => {
    const bad = path.join(cp.dir, 'bad.yaml');
    await writeFile(bad, CONFIG.replace('TaintToleration', 'NoSuchPlugin'));
    const p = startProcess('scheduler-bad', cp.dir, ['scheduler', '--kubeconfig', cp.kubeconfig, '--port', '0', '--config', bad]);
    const { code } = await p.exited;
    assert.equal(code, 2);
    const { readFile } = await import('node:fs/promises');
    assert.match(await readFile(p.logFile, 'utf8'), /profiles\[1\]\.plugins\.filter\.disabled\[0\]\.name: no plugin named "NoSuchPlugin"/);
  });

  it('a pod that fits nowhere records why, waits for an event, and is bound when a node grows', async () => {
    await pod('big', { cpu: '6' });
    const cond = await waitFor('PodScheduled=False', async () => (await get('big')).status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False'), 30_000);
    assert.equal(cond.message, '0/2 nodes are available: 2 Insufficient cpu.');
    const attempt = await waitFor('last-attempt annotation', async () => decodeLastAttempt((await get('big')).metadata?.annotations), 30_000);
    assert.deepEqual([attempt.nodes, attempt.rejected.map((g) => [g.plugin, g.reasons.join(), g.nodes.join()])], [2, [['NodeResourcesFit', 'Insufficient cpu', 'sq-a,sq-b']]]);
    // In the unschedulable pool (not backoff): node heartbeats every second are not events.
    await waitFor('the pod in the unschedulable pool', async () => /coxswain_scheduler_pending_pods\{queue="unschedulable"\} 1\b/.test(await metrics()), 30_000);
    await cp.client.patch(NODES, 'sq-b', { status: { allocatable: { cpu: '8', memory: '8Gi', pods: '110' }, capacity: { cpu: '8', memory: '8Gi', pods: '110' } } }, { subresource: 'status', type: 'merge' });
    assert.equal(await boundTo('big'), 'sq-b');
  });

  it('profiles by spec.schedulerName; a pod naming no profile of ours is left alone', async () => {
    for (const n of ['sq-a', 'sq-b']) await cp.client.patch(NODES, n, { spec: { taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] } }, { type: 'merge' });
    await pod('tainted-out');
    await pod('other', { schedulerName: 'someone-else' });
    await pod('blind', { schedulerName: 'taint-blind' });
    assert.ok(['sq-a', 'sq-b'].includes(await boundTo('blind')), 'the taint-blind profile has no TaintToleration filter');
    const cond = await waitFor('tainted-out unschedulable', async () => (await get('tainted-out')).status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False'), 30_000);
    assert.equal(cond.message, '0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: x}.');
    const other = await get('other');
    assert.equal(other.spec?.nodeName, undefined);
    assert.equal(decodeLastAttempt(other.metadata?.annotations), undefined);
    const events = (await cp.client.list<Event & KubeObject>(EVENTS, { namespace: NS })).items;
    assert.ok(!events.some((e) => e.involvedObject.name === 'other'), 'no event for a pod of another scheduler');
    assert.ok(events.some((e) => e.involvedObject.name === 'tainted-out' && e.reason === 'FailedScheduling'));
  });
});
