/**
 * The walking skeleton end to end, as a user runs it: `coxswain up` (every
 * component its own process), the hello Deployment and NodePort Service
 * applied with coxctl, real busybox containers on Docker, traffic through the
 * NodePort and the ClusterIP, the real kubectl, a SIGKILLed store leader, a
 * Ctrl-C and restart, and deletion.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Pod, Service } from 'kubernetes-types/core/v1';
import type { Deployment } from 'kubernetes-types/apps/v1';
import { REPO, waitFor } from './lib/cluster';
import { containersWithLabels, sh } from './lib/docker';
import { coxctl, pickUpPorts, pidsMatching, startUp, storeLeader, tearDownUp, type UpCluster, type UpPorts } from './lib/up';

const NODE = 'e2e-node';
const SERVICE_CIDR = '10.112.0.0/16';
const CLUSTER_CIDR = '10.245.0.0/16';
const NODE_PORT = 32080;

function httpGet(url: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

async function podsOf(kubeconfig: string): Promise<Pod[]> {
  const list = JSON.parse(await coxctl(kubeconfig, ['get', 'pods', '-l', 'app=hello', '-o', 'json'])) as { items: Pod[] };
  return list.items;
}

function running(pods: Pod[]): Pod[] {
  return pods.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && p.status?.podIP);
}

describe('walking skeleton: coxswain up + hello Deployment', { timeout: 15 * 60_000 }, () => {
  let home: string;
  let manifest: string;
  let ports: UpPorts;
  let cluster: UpCluster;

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-e2e-'));
    ports = await pickUpPorts();
    // The example's NodePort, moved into this test's range so it cannot clash with a cluster the developer runs.
    manifest = (await readFile(path.join(REPO, 'examples/hello.yaml'), 'utf8')).replace('nodePort: 30080', `nodePort: ${NODE_PORT}`);
  });

  after(() => tearDownUp(cluster, home, NODE, SERVICE_CIDR));

  it('npm start equivalent: ready line within 30 s, one process per component', async () => {
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: '30000-32767', ports });
    assert.ok(cluster.readySeconds < 30, `ready after ${cluster.readySeconds}s`);
    for (const s of ['s1', 's2', 's3']) assert.equal(pidsMatching(path.join(home, 'store', s)).length, 1, `one process for store replica ${s}`);
    for (const c of ['apiserver', 'scheduler', 'controllers', 'kubelet', 'proxy']) {
      const pids = pidsMatching(`coxswain.js ${c} `).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(home));
      assert.equal(pids.length, 1, `one ${c} process of this cluster`);
    }
  });

  it('every component serves Prometheus /metrics, the store replicas too', async () => {
    const local = [
      ...ports.storeMetrics!.map((p, i) => [`store s${i + 1}`, p, 'coxswain_store_raft_term'] as const),
      ['scheduler', ports.scheduler, 'coxswain_scheduler_schedule_attempts_total'] as const,
      ['controllers', ports.controllers, 'coxswain_controller_reconcile_total'] as const,
      ['kubelet', ports.kubelet, 'kubelet_running_pods'] as const,
      ['proxy', ports.proxy, 'coxswain_proxy_sync_total'] as const,
    ];
    for (const [who, port, series] of local) {
      const text = await httpGet(`http://127.0.0.1:${port}/metrics`);
      assert.ok(text.includes(series) && text.includes('process_cpu_seconds_total'), `${who} /metrics on ${port} has ${series}`);
    }
    const api = await cluster.client().request('GET', '/metrics', { timeoutMs: 5000 });
    assert.match(String(api), /apiserver_request_total/);
  });

  it('apply: 3 Running pods with distinct IPs, their containers in docker ps', async () => {
    const out = await coxctl(cluster.kubeconfig, ['apply', '-f', '-'], manifest);
    assert.match(out, /deployment\.apps\/hello (created|configured)/);
    assert.match(out, /service\/hello (created|configured)/);
    const pods = await waitFor('3 Running hello pods', async () => {
      const r = running(await podsOf(cluster.kubeconfig));
      return r.length === 3 ? r : undefined;
    }, 90_000, 500);
    const ips = new Set(pods.map((p) => p.status!.podIP));
    assert.equal(ips.size, 3, `distinct pod IPs: ${[...ips].join(', ')}`);
    for (const ip of ips) assert.match(ip!, /^10\.245\./);
    const table = await coxctl(cluster.kubeconfig, ['get', 'pods']);
    assert.match(table, /NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    assert.equal((table.match(/Running/g) ?? []).length, 3, table);
    for (const p of pods) {
      const ids = await containersWithLabels([`io.kubernetes.pod.name=${p.metadata!.name}`, 'io.kubernetes.pod.namespace=default'], false);
      assert.ok(ids.length >= 2, `pod ${p.metadata!.name} has a sandbox and a web container running (found ${ids.length})`);
    }
  });

  it('the NodePort answers from all 3 pods, round robin', async () => {
    const pods = running(await podsOf(cluster.kubeconfig));
    const names = new Set(pods.map((p) => p.metadata!.name!));
    const seen = new Set<string>();
    await waitFor('answers from all 3 pods through the NodePort', async () => {
      for (let i = 0; i < 6; i++) {
        const body = await httpGet(`http://127.0.0.1:${NODE_PORT}/`);
        const m = /hello from (\S+)/.exec(body);
        if (m) seen.add(m[1]);
      }
      return [...names].every((n) => seen.has(n)) ? true : undefined;
    }, 30_000, 200);
    assert.deepEqual([...seen].sort(), [...names].sort());
  });

  it('the ClusterIP answers from inside a pod', async () => {
    const svc = JSON.parse(await coxctl(cluster.kubeconfig, ['get', 'svc', 'hello', '-o', 'json'])) as Service;
    const ip = svc.spec!.clusterIP!;
    assert.match(ip, /^10\.112\./);
    const pod = running(await podsOf(cluster.kubeconfig))[0];
    const [web] = (await containersWithLabels([`io.kubernetes.pod.name=${pod.metadata!.name}`, 'io.kubernetes.container.name=web'], false));
    assert.ok(web, 'the web container of a pod');
    const body = await waitFor('an answer through the ClusterIP', async () => {
      // (busybox 1.35's wget crashes with -T, so the deadline is docker exec's.)
      const out = await sh('docker', ['exec', web, 'wget', '-qO-', `http://${ip}:80/`], { timeoutMs: 5_000 });
      return /hello from/.test(out) ? out : undefined;
    }, 20_000, 300);
    assert.match(body, /hello from hello-/);
  });

  it('the real kubectl prints the same objects with proper columns', async () => {
    const cacheDir = path.join(home, 'kubectl-cache');
    const out = await sh('kubectl', ['--kubeconfig', cluster.kubeconfig, '--cache-dir', cacheDir, 'get', 'pods,deploy,svc,nodes']);
    assert.match(out, /NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    assert.match(out, /pod\/hello-\S+\s+1\/1\s+Running/);
    assert.match(out, /NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/);
    assert.match(out, /deployment\.apps\/hello\s+3\/3\s+3\s+3/);
    assert.match(out, /NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE/);
    assert.match(out, new RegExp(`service/hello\\s+NodePort\\s+10\\.112\\.\\S+\\s+<none>\\s+80:${NODE_PORT}/TCP`));
    assert.match(out, /NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
    assert.match(out, new RegExp(`node/${NODE}\\s+Ready`));
  });

  it('SIGKILL of the store leader: coxctl works again within 5 s and nothing acknowledged is lost', async () => {
    const before = running(await podsOf(cluster.kubeconfig)).map((p) => p.metadata!.name).sort();
    // An acknowledged write just before the kill.
    await coxctl(cluster.kubeconfig, ['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata:\n  name: witness\nspec:\n  selector:\n    app: none\n  ports:\n  - port: 81\n');
    const leader = await storeLeader(cluster.storeEndpoints);
    const pids = pidsMatching(path.join(home, 'store', leader.name));
    assert.equal(pids.length, 1, `one process for leader ${leader.name}`);
    const killedAt = Date.now();
    process.kill(pids[0], 'SIGKILL');
    await waitFor('coxctl get pods to work after the leader was killed', () => coxctl(cluster.kubeconfig, ['get', 'pods']).then(() => true), 5_000, 100);
    const recoverySeconds = (Date.now() - killedAt) / 1000;
    assert.ok(recoverySeconds <= 5, `recovered in ${recoverySeconds}s`);
    const after = (await podsOf(cluster.kubeconfig)).map((p) => p.metadata!.name).sort();
    for (const name of before) assert.ok(after.includes(name), `pod ${name} survived`);
    const witness = JSON.parse(await coxctl(cluster.kubeconfig, ['get', 'svc', 'witness', '-o', 'json'])) as Service;
    assert.equal(witness.metadata!.name, 'witness');
    // The supervisor restarts the killed replica.
    await waitFor(`store replica ${leader.name} restarted`, () => pidsMatching(path.join(home, 'store', leader.name)).length === 1, 20_000);
    await coxctl(cluster.kubeconfig, ['delete', 'svc', 'witness']);
  });

  it('Ctrl-C stops every process; npm start again resumes: the Deployment is there and converges to 3 Running', async () => {
    const code = await cluster.interrupt();
    assert.equal(code, 0);
    await waitFor('every process of the cluster to exit', () => pidsMatching(home).length === 0, 15_000);
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: '30000-32767', ports });
    const dep = JSON.parse(await coxctl(cluster.kubeconfig, ['get', 'deployment', 'hello', '-o', 'json'])) as Deployment;
    assert.equal(dep.spec!.replicas, 3);
    await waitFor('3 Running pods after the restart', async () => running(await podsOf(cluster.kubeconfig)).length === 3, 90_000, 500);
    await waitFor('the NodePort answering after the restart', () => httpGet(`http://127.0.0.1:${NODE_PORT}/`).then((b) => /hello from/.test(b)), 30_000, 300);
  });

  it('delete -f: within 10 s no containers of those pods remain', async () => {
    const pods = await podsOf(cluster.kubeconfig);
    assert.ok(pods.length >= 3);
    const out = await coxctl(cluster.kubeconfig, ['delete', '-f', '-', '--wait=false'], manifest);
    assert.match(out, /deployment\.apps "hello" deleted/);
    const t0 = Date.now();
    await waitFor('no containers of the hello pods', async () => {
      for (const p of pods) {
        if ((await containersWithLabels([`io.kubernetes.pod.uid=${p.metadata!.uid}`])).length > 0) return undefined;
      }
      return true;
    }, 10_000, 200);
    const secs = (Date.now() - t0) / 1000;
    assert.ok(secs <= 10, `containers gone after ${secs}s`);
  });
});
