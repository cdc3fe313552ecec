/**
 * Issue 15, the HorizontalPodAutoscaler as a user meets it: a `coxswain up` cluster whose
 * Metrics API scrapes every 5 s (`--metric-resolution`) and whose controllers sync HPAs every
 * 2 s with a 15 s downscale window (COXSWAIN_HPA_* mirror the --horizontal-pod-autoscaler-*
 * flags). An HPA (cpu 50%, 1 to 3 replicas) is applied with the real kubectl before its
 * Deployment exists; then a Deployment whose busybox pods burn CPU (request 20m, limit 100m)
 * until a file /tmp/idle appears in them. The HPA scales it to 3; `kubectl exec` creates the
 * file in every pod (the same pods keep running, now idle) and the HPA scales back to 1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kubectlFor } from './lib/kubectl';
import { startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';

const NODE = 'hpa-node';
const SERVICE_CIDR = '10.178.0.0/16';
const CLUSTER_CIDR = '10.198.0.0/16';
const NODE_PORTS = '32100-32149';
const NS = 'default';

const HPA = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: burn}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: burn}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
`;

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: burn}
spec:
  replicas: 1
  selector: {matchLabels: {app: burn}}
  template:
    metadata: {labels: {app: burn}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: burn
        image: busybox:1.36
        command: [sh, -c, 'while [ ! -e /tmp/idle ]; do :; done; exec sleep 3600']
        resources: {requests: {cpu: 20m}, limits: {cpu: 100m}}
`;

describe('HorizontalPodAutoscaler', { timeout: 4 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;
  const saved = { sync: process.env.COXSWAIN_HPA_SYNC_PERIOD, down: process.env.COXSWAIN_HPA_DOWNSCALE_STABILIZATION };
  const { k, kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache, namespace: NS }));
  const t0 = Date.now();
  const at = () => `${Math.round((Date.now() - t0) / 1000)}s`;
  const describeHpa = async () => (await k(['describe', 'hpa', 'burn'])).stdout;

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-hpa-'));
    cache = path.join(home, 'kubectl-cache');
    process.env.COXSWAIN_HPA_SYNC_PERIOD = '2s';
    process.env.COXSWAIN_HPA_DOWNSCALE_STABILIZATION = '15s';
    try {
      cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS, extraArgs: ['--metric-resolution', '5s'] });
    } finally {
      for (const [name, v] of [['COXSWAIN_HPA_SYNC_PERIOD', saved.sync], ['COXSWAIN_HPA_DOWNSCALE_STABILIZATION', saved.down]] as const) {
        if (v === undefined) delete process.env[name];
        else process.env[name] = v;
      }
    }
  });

  after(async () => {
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('an HPA without its target: <unknown>/50% and FailedGetScale', async () => {
    assert.equal(await kok(['apply', '-f', '-'], { input: HPA }), 'horizontalpodautoscaler.autoscaling/burn created\n');
    const d = await waitFor('FailedGetScale', async () => {
      const out = await describeHpa();
      return /FailedGetScale/.test(out) ? out : undefined;
    }, 20_000, 250);
    assert.match(d, /Warning\s+FailedGetScale\s+.*horizontal-pod-autoscaler\s+deployments\.apps "burn" not found/);
    assert.match(d, /AbleToScale\s+False\s+FailedGetScale\s+the HPA controller was unable to get the target's current scale: deployments\.apps "burn" not found/);
    const rows = (await kok(['get', 'hpa'])).trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
    assert.deepEqual(rows[0], ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
    assert.deepEqual(rows[1].slice(0, 6), ['burn', 'Deployment/burn', 'cpu: <unknown>/50%', '1', '3', '0']);
  });

  it('a CPU-bound Deployment scales up to its max; kubectl shows the utilization against the target', async () => {
    await kok(['apply', '-f', '-'], { input: DEPLOYMENT });
    let last = '';
    await waitFor('the HPA scales burn to 3', async () => {
      last = await describeHpa();
      return (await jp(['get', 'deploy', 'burn'], '{.spec.replicas}')) === '3';
    }, 120_000, 500).catch((err: Error) => {
      throw new Error(`${err.message}; kubectl describe hpa:\n${last}`);
    });
    console.log(`# scaled up to 3 after ${at()}`);
    const d = await describeHpa();
    assert.match(d, /Normal\s+SuccessfulRescale\s+.*horizontal-pod-autoscaler\s+New size: 3; reason: cpu resource utilization \(percentage of request\) above target/);
    assert.match(d, /ScalingActive\s+True\s+ValidMetricFound\s+the HPA was able to successfully calculate a replica count from cpu resource utilization \(percentage of request\)/);
    // all three pods running, then the table: current utilization far above the 50% target
    await waitFor('3 burn pods Running', async () => (await jp(['get', 'pods', '-l', 'app=burn'], '{.items[*].status.phase}')).split(' ').filter((p) => p === 'Running').length === 3, 60_000, 500);
    const row = await waitFor('3 replicas in the HPA status', async () => {
      const r = (await kok(['get', 'hpa', 'burn', '--no-headers'])).trim().split(/\s{2,}/);
      return r[5] === '3' ? r : undefined;
    }, 30_000, 500);
    assert.equal(row[0], 'burn');
    assert.match(row[2], /^cpu: \d+%\/50%$/);
    const percent = Number(/^cpu: (\d+)%/.exec(row[2])![1]);
    assert.ok(percent > 55, `utilization ${percent}% is above the target`);
    console.log(`# kubectl get hpa: ${row.join('  ')}`);
  });

  it('when the load stops in its pods, it scales back down to 1', async () => {
    const pods = (await jp(['get', 'pods', '-l', 'app=burn'], '{.items[*].metadata.name}')).split(' ');
    assert.equal(pods.length, 3);
    for (const p of pods) await kok(['exec', p, '--', 'touch', '/tmp/idle']);
    const stopped = Date.now();
    let last = '';
    await waitFor('the HPA scales burn back to 1', async () => {
      last = await describeHpa();
      return (await jp(['get', 'deploy', 'burn'], '{.spec.replicas}')) === '1';
    }, 90_000, 500).catch((err: Error) => {
      throw new Error(`${err.message}; kubectl describe hpa:\n${last}`);
    });
    console.log(`# scaled down to 1 ${Math.round((Date.now() - stopped) / 1000)}s after the load stopped (${at()})`);
    const d = await describeHpa();
    assert.match(d, /Normal\s+SuccessfulRescale\s+.*New size: 1; reason: All metrics below target/);
    const v2 = JSON.parse(await kok(['get', 'hpa', 'burn', '-o', 'json'])) as { status: { currentReplicas: number; desiredReplicas: number; lastScaleTime?: string; currentMetrics?: { resource?: { name: string; current: { averageUtilization?: number } } }[] } };
    assert.equal(v2.status.desiredReplicas, 1);
    assert.ok(v2.status.lastScaleTime);
    assert.equal(v2.status.currentMetrics?.[0].resource?.name, 'cpu');
    // the v1 view of the same object carries the CPU figure too
    const v1 = JSON.parse(await kok(['get', '--raw', `/apis/autoscaling/v1/namespaces/${NS}/horizontalpodautoscalers/burn`])) as { apiVersion: string; status: { currentCPUUtilizationPercentage?: number; desiredReplicas: number } };
    assert.equal(v1.apiVersion, 'autoscaling/v1');
    assert.equal(v1.status.desiredReplicas, 1);
    assert.equal(typeof v1.status.currentCPUUtilizationPercentage, 'number', `v1: ${JSON.stringify(v1.status)}; v2: ${JSON.stringify(v2.status)}`);
  });
});
