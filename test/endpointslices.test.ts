/**
 * EndpointSlices from a user's seat (issue 13), on one `coxswain up` cluster with the real
 * kubectl: the endpointslice controller writes a Deployment's pods into slices of its Service
 * and follows a scale; the proxy, which now reads slices, carries traffic through the ClusterIP,
 * with no failed connection while a rolling update replaces every pod (old pods stay in the
 * slice as terminating and get no new connections); a selectorless Service's Endpoints are
 * mirrored into a slice and served; deleting a Service removes its slices (owner references).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { kubectlFor } from './lib/kubectl';
import { startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';

const NODE = 'slices-node';
const SERVICE_CIDR = '10.163.0.0/16';
const CLUSTER_CIDR = '10.213.0.0/16';
const NODE_PORTS = '32250-32299';

const deployment = (version: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: busybox:1.36
        command: [sh, -c]
        args:
        - |
          trap 'exit 0' TERM
          mkdir -p /www && echo "$(hostname) ${version}" > /www/index.html
          httpd -f -p 8080 -h /www &
          wait
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /, port: http}
          periodSeconds: 1
        # the usual drain pattern: keep serving a moment after the pod is marked terminating
        lifecycle:
          preStop:
            exec: {command: [sleep, "2"]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`;

function httpGet(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

describe('EndpointSlices: controller, proxy, rollout drain, mirroring, GC', { timeout: 5 * 60_000 }, () => {
  let home: string;
  let cluster: UpCluster;
  const { kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: path.join(home, 'kubectl-cache') }));

  /** `ip ready serving terminating` per endpoint of the Service's slices, sorted. */
  const sliceEndpoints = async (svc: string) =>
    (await jp(['get', 'endpointslices', '-l', `kubernetes.io/service-name=${svc}`], '{range .items[*].endpoints[*]}{.addresses[0]} {.conditions.ready} {.conditions.serving} {.conditions.terminating}{"\\n"}{end}'))
      .split('\n')
      .filter(Boolean)
      .sort();
  /** IPs of the pods of app=web that are Running, Ready and not terminating, sorted. */
  const readyPodIPs = async () =>
    (await jp(['get', 'pods', '-l', 'app=web'], '{range .items[*]}{.status.podIP} {.metadata.deletionTimestamp} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'))
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length === 2 && f[1] === 'True')
      .map((f) => f[0])
      .sort();
  /** Waits until the slices hold exactly `n` endpoints, all ready, and they are the Ready pods. */
  const waitSlicesMatchPods = (n: number) =>
    waitFor(`${n} ready endpoints in web's slices, equal to its Ready pods`, async () => {
      const [eps, pods] = await Promise.all([sliceEndpoints('web'), readyPodIPs()]);
      return pods.length === n && eps.length === n && eps.every((e, i) => e === `${pods[i]} true true false`) ? pods : undefined;
    }, 90_000, 300);

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-slices-'));
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    await kok(['apply', '-f', '-'], { input: deployment('v1') });
  });

  after(() => tearDownUp(cluster, home, NODE, SERVICE_CIDR));

  it('kubectl get endpointslices shows the pods of the Service, written by the endpointslice controller', async () => {
    const ips = await waitSlicesMatchPods(2);
    const table = await kok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web']);
    assert.match(table, /^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE/, table);
    const row = table.split('\n')[1];
    assert.match(row, /^web-[a-z0-9]{5}\s+IPv4\s+8080\s+/, table);
    for (const ip of ips) assert.ok(row.includes(ip), `${ip} in ${row}`);
    const slice = JSON.parse(await kok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json'])).items[0];
    assert.equal(slice.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.deepEqual(slice.metadata.ownerReferences.map((r: { kind: string; name: string; controller: boolean }) => [r.kind, r.name, r.controller]), [['Service', 'web', true]]);
    assert.deepEqual(slice.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    for (const e of slice.endpoints) {
      assert.equal(e.nodeName, NODE);
      assert.equal(e.targetRef.kind, 'Pod');
      assert.match(e.targetRef.name, /^web-/);
    }
    // The apiserver writes the `kubernetes` Service's slice itself.
    assert.match(await jp(['get', 'endpointslice', 'kubernetes'], '{.endpoints[0].addresses[0]}:{.ports[0].port}'), /^\d+\.\d+\.\d+\.\d+:\d+$/);
  });

  it('a scaled Deployment updates the slice', async () => {
    await kok(['scale', 'deployment', 'web', '--replicas=3']);
    await waitSlicesMatchPods(3);
    await kok(['scale', 'deployment', 'web', '--replicas=2']);
    await waitSlicesMatchPods(2);
  });

  it('traffic through the ClusterIP, with no failed connection during a rolling update', async () => {
    const ip = await jp(['get', 'service', 'web'], '{.spec.clusterIP}');
    const before = await waitSlicesMatchPods(2);
    assert.match(await waitFor('the ClusterIP to answer', () => httpGet(ip, 80).catch(() => undefined), 30_000, 200), /^web-\S+ v1$/);

    // A client that keeps opening connections while every pod is replaced.
    const failures: string[] = [];
    const bodies = new Set<string>();
    let requests = 0;
    let stop = false;
    const client = (async () => {
      while (!stop) {
        requests++;
        try {
          bodies.add(await httpGet(ip, 80));
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    })();
    try {
      await kok(['apply', '-f', '-'], { input: deployment('v2') });
      await kok(['rollout', 'status', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 });
      const after = await waitSlicesMatchPods(2);
      assert.ok(after.every((a) => !before.includes(a)), `every pod replaced: ${before} → ${after}`);
      // keep the client going until the new pods have answered
      await waitFor('answers from the new pods', () => ([...bodies].filter((b) => b.endsWith(' v2')).length >= 2 ? true : undefined), 30_000, 100);
    } finally {
      stop = true;
      await client;
    }
    assert.deepEqual(failures, [], `${failures.length} of ${requests} requests failed`);
    assert.ok(requests > 50, `the client kept connecting (${requests} requests)`);
  });

  it('a selectorless Service: its Endpoints are mirrored into a slice, and served', async () => {
    const [podIP] = await readyPodIPs();
    await kok(['apply', '-f', '-'], {
      input: `apiVersion: v1
kind: Service
metadata: {name: ext}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: ext}
subsets:
- addresses: [{ip: ${podIP}}]
  ports: [{name: http, port: 8080}]
`,
    });
    // mirrored endpoints carry `ready` only, as upstream's
    await waitFor('ext mirrored', async () => ((await sliceEndpoints('ext')).map((l) => l.trim()).join() === `${podIP} true` ? true : undefined), 30_000, 200);
    assert.equal(await jp(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=ext'], '{.items[0].metadata.labels.endpointslice\\.kubernetes\\.io/managed-by}'), 'endpointslicemirroring-controller.k8s.io');
    const ip = await jp(['get', 'service', 'ext'], '{.spec.clusterIP}');
    assert.match(await waitFor('ext answers', () => httpGet(ip, 80).catch(() => undefined), 30_000, 200), /^web-\S+ v2$/);
  });

  it('deleting a Service deletes its slices', async () => {
    await kok(['delete', 'service', 'web']);
    await waitFor('web slices gone', async () => ((await sliceEndpoints('web')).length === 0 && !(await kok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'name'])).trim() ? true : undefined), 30_000, 200);
  });
});
