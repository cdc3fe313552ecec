/**
 * Issue 4, acceptance 1 and 4 in one place: the real kubectl 1.32, with the kubeconfig
 * `coxswain up` writes, runs every command of the acceptance list against one whole cluster
 * (store, apiserver, scheduler, controllers, kubelet with real containers, proxy), and each
 * subtest checks what a user would see: the printed text and columns, the exit code, and the
 * resulting objects. The last subtests run a pod whose ServiceAccount is bound to a Role and
 * call the apiserver from inside its container with the mounted token.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { loadKubeconfig } from '../lib/kubeconfig';
import { startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';

const NODE = 'kubectl-node';
const SERVICE_CIDR = '10.121.0.0/16';
const CLUSTER_CIDR = '10.251.0.0/16';
const NODE_PORTS = '31500-31599';
const NS = 'acc';
const SA_NS = 'sa-test';
const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Result = { code: number; stdout: string; stderr: string };

describe('kubectl 1.32 acceptance: every command of issue 4 against coxswain up', { timeout: 10 * 60_000 }, () => {
  let home: string;
  let cluster: UpCluster;
  let cache: string;
  const children: ChildProcess[] = [];

  function k(args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Result> {
    return new Promise((resolve) => {
      const p = execFile('kubectl', ['--kubeconfig', cluster.kubeconfig, '--cache-dir', cache, ...args], { timeout: opts.timeoutMs ?? 60_000, env: { ...process.env, ...(opts.env ?? {}) } }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
      });
      p.stdin!.end(opts.input ?? '');
    });
  }
  /** Runs kubectl and asserts exit code 0; returns stdout. */
  async function kok(args: string[], opts?: { input?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<string> {
    const r = await k(args, opts);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }
  /** A long-running kubectl (get -w, logs -f) whose output is collected. */
  function kstream(args: string[]): { out: () => string; proc: ChildProcess } {
    const p = spawn('kubectl', ['--kubeconfig', cluster.kubeconfig, '--cache-dir', cache, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(p);
    let out = '';
    p.stdout!.on('data', (c) => (out += c));
    p.stderr!.on('data', (c) => (out += c));
    return { out: () => out, proc: p };
  }
  const jp = async (args: string[], path: string) => (await kok([...args, '-o', `jsonpath=${path}`])).trim();

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-kubectl-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  // ------------------------------------------------------------------ discovery

  it('cluster-info, api-versions, api-resources', async () => {
    const info = await kok(['cluster-info']);
    assert.match(info, new RegExp(`Kubernetes control plane.* is running at .*https://127\\.0\\.0\\.1:\\d+`));
    const versions = (await kok(['api-versions'])).split('\n');
    for (const v of ['v1', 'apps/v1', 'batch/v1', 'rbac.authorization.k8s.io/v1', 'networking.k8s.io/v1', 'autoscaling/v2']) assert.ok(versions.includes(v), `api-versions lists ${v}`);
    const res = await kok(['api-resources']);
    assert.match(res, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND/);
    assert.match(res, /\npods\s+po\s+v1\s+true\s+Pod\n/);
    assert.match(res, /\ndeployments\s+deploy\s+apps\/v1\s+true\s+Deployment\n/);
    assert.match(res, /\nnodes\s+no\s+v1\s+false\s+Node\n/);
  });

  // ------------------------------------------------------------------ create, run

  it('create namespace|configmap|secret generic|deployment|job', async () => {
    assert.equal(await kok(['create', 'namespace', NS]), `namespace/${NS} created\n`);
    assert.equal(await kok(['-n', NS, 'create', 'configmap', 'cfg', '--from-literal=a=1', '--from-literal=b=2']), 'configmap/cfg created\n');
    assert.equal(await kok(['-n', NS, 'create', 'secret', 'generic', 'creds', '--from-literal=password=s3cret']), 'secret/creds created\n');
    assert.equal(await kok(['-n', NS, 'create', 'deployment', 'made', '--image=busybox:1.36', '--', 'sleep', '3600']), 'deployment.apps/made created\n');
    assert.equal(await kok(['-n', NS, 'create', 'job', 'once', '--image=busybox:1.36', '--', 'true']), 'job.batch/once created\n');
    assert.equal(await jp(['-n', NS, 'get', 'cm', 'cfg'], '{.data.a}{.data.b}'), '12');
    assert.equal(Buffer.from(await jp(['-n', NS, 'get', 'secret', 'creds'], '{.data.password}'), 'base64').toString(), 's3cret');
    assert.equal(await jp(['-n', NS, 'get', 'job', 'once'], '{.spec.template.spec.restartPolicy}'), 'Never');
    // The created deployment runs: the controllers and kubelet pick it up.
    await kok(['-n', NS, 'wait', '--for=condition=Available', 'deployment/made', '--timeout=90s'], { timeoutMs: 100_000 });
  });

  it('run: a pod, Running with the run= label', async () => {
    const out = await kok(['-n', NS, 'run', 'shell', '--image=busybox:1.36', '--restart=Never', '--', 'sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.5; done']);
    assert.equal(out, 'pod/shell created\n');
    assert.equal(await kok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/shell', '--timeout=90s'], { timeoutMs: 100_000 }), 'pod/shell condition met\n');
    assert.equal(await jp(['-n', NS, 'get', 'pod', 'shell'], '{.metadata.labels.run} {.status.phase}'), 'shell Running');
  });

  it('create -f: a Deployment and a Service from a manifest', async () => {
    const manifest = deploymentYaml('web', 2) + '---\n' + serviceYaml('web');
    const out = await kok(['-n', NS, 'create', '-f', '-'], { input: manifest });
    assert.equal(out, 'deployment.apps/web created\nservice/web created\n');
    const again = await k(['-n', NS, 'create', '-f', '-'], { input: manifest });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /AlreadyExists.*deployments\.apps "web" already exists/);
  });

  it('wait --for=condition=Available deployment, rollout status', async () => {
    assert.equal(await kok(['-n', NS, 'wait', '--for=condition=Available', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 }), 'deployment.apps/web condition met\n');
    assert.match(await kok(['-n', NS, 'rollout', 'status', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 }), /deployment "web" successfully rolled out/);
  });

  // ------------------------------------------------------------------ get

  it('get: table, -o wide|yaml|json|name|jsonpath, -A, -l, --show-labels, --sort-by', async () => {
    const table = await kok(['-n', NS, 'get', 'pods']);
    assert.match(table, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    assert.match(table, /\nshell\s+1\/1\s+Running\s+0\s+\S+\n/);
    const wide = await kok(['-n', NS, 'get', 'pod', 'shell', '-o', 'wide']);
    assert.match(wide, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n/);
    assert.match(wide, new RegExp(`\\nshell\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+10\\.251\\.\\d+\\.\\d+\\s+${NODE}\\s+<none>\\s+<none>\\n`));
    const yaml = await kok(['-n', NS, 'get', 'pod', 'shell', '-o', 'yaml']);
    assert.match(yaml, /^apiVersion: v1\nkind: Pod\n/);
    assert.match(yaml, new RegExp(`\\n  nodeName: ${NODE}\\n`));
    const json = JSON.parse(await kok(['-n', NS, 'get', 'deployments', '-o', 'json']));
    assert.equal(json.kind, 'List');
    assert.deepEqual(json.items.map((d: { metadata: { name: string } }) => d.metadata.name).sort(), ['made', 'web']);
    assert.equal(await kok(['-n', NS, 'get', 'deploy', '-o', 'name']), 'deployment.apps/made\ndeployment.apps/web\n');
    assert.equal(await jp(['-n', NS, 'get', 'deploy', 'web'], '{.spec.replicas} {.status.readyReplicas}'), '2 2');
    const all = await kok(['get', 'pods', '-A']);
    assert.match(all, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    assert.match(all, new RegExp(`\\n${NS}\\s+shell\\s+1/1\\s+Running`));
    const cms = await kok(['get', 'configmaps', '--all-namespaces']);
    for (const ns of ['default', 'kube-system', NS]) assert.match(cms, new RegExp(`\\n${ns}\\s+kube-root-ca\\.crt\\s+1\\s`), `kube-root-ca.crt in ${ns}`);
    const labelled = await kok(['-n', NS, 'get', 'pods', '-l', 'app=web', '-o', 'name']);
    assert.equal(labelled.trim().split('\n').length, 2, labelled);
    assert.ok(labelled.split('\n').filter(Boolean).every((l) => l.startsWith('pod/web-')), labelled);
    assert.equal(await kok(['-n', NS, 'get', 'pods', '-l', 'app=nothing']), '');
    const shown = await kok(['-n', NS, 'get', 'pod', 'shell', '--show-labels']);
    assert.match(shown, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+LABELS\n/);
    assert.match(shown, /\nshell\s+.*\srun=shell\n/);
    const sorted = await kok(['-n', NS, 'get', 'pods', '--sort-by=.metadata.name', '-o', 'custom-columns=NAME:.metadata.name', '--no-headers']);
    const names = sorted.trim().split('\n');
    assert.deepEqual(names, [...names].sort(), 'sorted by name');
    const byReplicas = await kok(['-n', NS, 'get', 'deploy', '--sort-by=.spec.replicas', '--no-headers']);
    assert.deepEqual(byReplicas.trim().split('\n').map((l) => l.split(/\s+/)[0]), ['made', 'web'], 'made (1 replica) before web (2)');
  });

  it('get -w prints a change as it happens', async () => {
    const w = kstream(['-n', NS, 'get', 'pods', 'shell', '-w', '--output-watch-events']);
    await waitFor('the initial watch row', () => /ADDED\s+shell\s+1\/1\s+Running/.test(w.out()), 30_000);
    await kok(['-n', NS, 'label', 'pod', 'shell', 'watched=yes']);
    await waitFor('a MODIFIED row for the labelled pod', () => /MODIFIED\s+shell\s+1\/1\s+Running/.test(w.out()), 30_000);
    assert.equal(w.proc.exitCode, null, 'get -w keeps watching');
    w.proc.kill('SIGINT');
  });

  // ------------------------------------------------------------------ describe

  it('describe pod, deployment, service, node, each with its events', async () => {
    const pod = await kok(['-n', NS, 'describe', 'pod', 'shell']);
    assert.match(pod, /^Name:\s+shell\nNamespace:\s+acc\n/);
    assert.match(pod, new RegExp(`\\nNode:\\s+${NODE}/`));
    assert.match(pod, /\nStatus:\s+Running\n/);
    assert.match(pod, /\nEvents:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n/);
    assert.match(pod, new RegExp(`Normal\\s+Scheduled\\s+.*default-scheduler\\s+Successfully assigned acc/shell to ${NODE}`));
    assert.match(pod, /Normal\s+Started\s+.*kubelet\s+Started container shell/);
    const dep = await kok(['-n', NS, 'describe', 'deployment', 'web']);
    assert.match(dep, /\nReplicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable\n/);
    assert.match(dep, /\nStrategyType:\s+RollingUpdate\n/);
    assert.match(dep, /Normal\s+ScalingReplicaSet\s+.*Scaled up replica set web-[a-z0-9]+ from 0 to 2/);
    // Services get events from controllers only in special cases (load balancers): record one
    // with create -f, as any component would, and describe finds it by involvedObject.
    const uid = await jp(['-n', NS, 'get', 'svc', 'web'], '{.metadata.uid}');
    await kok(['-n', NS, 'create', '-f', '-'], { input: eventYaml(uid) });
    const svc = await kok(['-n', NS, 'describe', 'service', 'web']);
    assert.match(svc, /\nType:\s+ClusterIP\n/);
    assert.match(svc, /\nIP:\s+10\.121\.\d+\.\d+\n/);
    assert.match(svc, /\nTargetPort:\s+8080\/TCP\n/);
    assert.match(svc, /Normal\s+Checked\s+.*acceptance-test\s+service web was looked at/);
    const node = await kok(['describe', 'node', NODE]);
    assert.match(node, new RegExp(`^Name:\\s+${NODE}\\n`));
    assert.match(node, /\n\s+Ready\s+True\s/);
    assert.match(node, /\nEvents:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n/);
    assert.match(node, /Normal\s+\w+\s+/);
  });

  // ------------------------------------------------------------------ apply, diff, replace

  it('apply -f: default validation, updates, --server-side, --dry-run=server', async () => {
    const bad = await k(['-n', NS, 'apply', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo}\ndata: {a: "1"}\ndatta: {b: "2"}\n' });
    assert.notEqual(bad.code, 0, 'an unknown field is refused by default');
    assert.match(bad.stderr, /unknown field "datta"/);
    assert.equal((await k(['-n', NS, 'get', 'cm', 'typo'])).code, 1, 'nothing stored');
    const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\ndata: {v: "${v}"}\n`;
    assert.equal(await kok(['-n', NS, 'apply', '-f', '-'], { input: cm('1') }), 'configmap/applied created\n');
    assert.equal(await kok(['-n', NS, 'apply', '-f', '-'], { input: cm('1') }), 'configmap/applied unchanged\n');
    assert.equal(await kok(['-n', NS, 'apply', '-f', '-'], { input: cm('2') }), 'configmap/applied configured\n');
    assert.equal(await jp(['-n', NS, 'get', 'cm', 'applied'], '{.data.v}'), '2');
    // Updating a running Deployment through apply (scale 2 → 3) is what the controllers act on.
    assert.equal(await kok(['-n', NS, 'apply', '-f', '-'], { input: deploymentYaml('web', 3) }), 'deployment.apps/web configured\n');
    await kok(['-n', NS, 'wait', '--for=jsonpath={.status.readyReplicas}=3', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 });
    const ssa = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {owner: kubectl}\n';
    assert.equal(await kok(['-n', NS, 'apply', '--server-side', '-f', '-'], { input: ssa }), 'configmap/ssa serverside-applied\n');
    assert.equal(await jp(['-n', NS, 'get', 'cm', 'ssa', '--show-managed-fields'], '{.metadata.managedFields[0].manager} {.metadata.managedFields[0].operation}'), 'kubectl Apply');
    const conflict = await k(['-n', NS, 'apply', '--server-side', '--field-manager=other', '-f', '-'], { input: ssa.replace('owner: kubectl', 'owner: other') });
    assert.notEqual(conflict.code, 0, 'a second manager conflicts');
    assert.match(conflict.stderr, /conflict/i);
    assert.equal(await kok(['-n', NS, 'apply', '--dry-run=server', '-f', '-'], { input: cm('3').replace('applied', 'dry') }), 'configmap/dry created (server dry run)\n');
    assert.match((await k(['-n', NS, 'get', 'cm', 'dry'])).stderr, /NotFound.*configmaps "dry" not found/);
  });

  it('diff: exit 1 with the difference, exit 0 without', async () => {
    const d = await k(['-n', NS, 'diff', '-f', '-'], { input: deploymentYaml('web', 4) });
    assert.equal(d.code, 1, `diff exits 1 when there are differences: ${d.stderr}`);
    assert.match(d.stdout, /\n-\s+replicas: 3\n/);
    assert.match(d.stdout, /\n\+\s+replicas: 4\n/);
    const same = await k(['-n', NS, 'diff', '-f', '-'], { input: deploymentYaml('web', 3) });
    assert.equal(same.code, 0, `no differences: ${same.stderr}${same.stdout}`);
    assert.equal(same.stdout, '');
    assert.equal(await jp(['-n', NS, 'get', 'deploy', 'web'], '{.spec.replicas}'), '3', 'diff changed nothing');
  });

  it('replace -f', async () => {
    const y = await kok(['-n', NS, 'get', 'cm', 'cfg', '-o', 'yaml']);
    assert.equal(await kok(['-n', NS, 'replace', '-f', '-'], { input: y.replace('  b: "2"', '  b: "replaced"') }), 'configmap/cfg replaced\n');
    assert.equal(await jp(['-n', NS, 'get', 'cm', 'cfg'], '{.data.b}'), 'replaced');
    const stale = await k(['-n', NS, 'replace', '-f', '-'], { input: y });
    assert.notEqual(stale.code, 0, 'a replace at an old resourceVersion conflicts');
    assert.match(stale.stderr, /Conflict|the object has been modified/);
  });

  // ------------------------------------------------------------------ edit, label, annotate, scale

  it('edit (KUBE_EDITOR), label, annotate', async () => {
    const editor = path.join(home, 'editor.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i \'s/^  a: "1"$/  a: "edited"/\' "$1"\n');
    chmodSync(editor, 0o755);
    assert.equal(await kok(['-n', NS, 'edit', 'cm', 'cfg'], { env: { KUBE_EDITOR: editor, EDITOR: editor } }), 'configmap/cfg edited\n');
    assert.equal(await jp(['-n', NS, 'get', 'cm', 'cfg'], '{.data.a}'), 'edited');
    assert.equal(await kok(['-n', NS, 'label', 'cm', 'cfg', 'tier=gold']), 'configmap/cfg labeled\n');
    assert.equal(await kok(['-n', NS, 'annotate', 'cm', 'cfg', 'note=hello world']), 'configmap/cfg annotated\n');
    assert.equal(await jp(['-n', NS, 'get', 'cm', 'cfg'], '{.metadata.labels.tier}|{.metadata.annotations.note}'), 'gold|hello world');
    const clash = await k(['-n', NS, 'label', 'cm', 'cfg', 'tier=silver']);
    assert.notEqual(clash.code, 0, 'label without --overwrite refuses to change a value');
    assert.match(clash.stderr, /already has a value \(gold\)/);
    assert.equal(await kok(['-n', NS, 'label', 'cm', 'cfg', 'tier-']), 'configmap/cfg unlabeled\n');
    assert.equal(await jp(['-n', NS, 'get', 'cm', 'cfg'], '{.metadata.labels}'), '');
  });

  it('scale', async () => {
    assert.equal(await kok(['-n', NS, 'scale', 'deployment', 'web', '--replicas=1']), 'deployment.apps/web scaled\n');
    await kok(['-n', NS, 'wait', '--for=jsonpath={.status.replicas}=1', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.equal(await jp(['-n', NS, 'get', 'rs', '-l', 'app=web'], '{.items[0].spec.replicas}'), '1');
  });

  // ------------------------------------------------------------------ rollouts

  it('set image, then rollout status follows the new ReplicaSet to the end', async () => {
    assert.equal(await kok(['-n', NS, 'set', 'image', 'deployment/web', 'web=node:20-bookworm-slim']), 'deployment.apps/web image updated\n');
    assert.match(await kok(['-n', NS, 'rollout', 'status', 'deployment/web', '--timeout=120s'], { timeoutMs: 130_000 }), /deployment "web" successfully rolled out\n$/);
    const pods = JSON.parse(await kok(['-n', NS, 'get', 'pods', '-l', 'app=web', '-o', 'json'])).items as { metadata: { deletionTimestamp?: string }; spec: { containers: { image: string }[] }; status: { phase: string } }[];
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    assert.equal(live.length, 1);
    assert.equal(live[0].spec.containers[0].image, 'node:20-bookworm-slim');
    assert.equal(live[0].status.phase, 'Running');
    assert.equal((await jp(['-n', NS, 'get', 'rs', '-l', 'app=web'], '{range .items[*]}{.spec.replicas}{"\\n"}{end}')).split('\n').sort().join(','), '0,1', 'old ReplicaSet scaled to 0');
  });

  it('rollout restart: a new ReplicaSet with the restartedAt annotation', async () => {
    const before = await jp(['-n', NS, 'get', 'deploy', 'web'], '{.metadata.generation}');
    assert.equal(await kok(['-n', NS, 'rollout', 'restart', 'deployment/web']), 'deployment.apps/web restarted\n');
    assert.match(await kok(['-n', NS, 'rollout', 'status', 'deployment/web', '--timeout=120s'], { timeoutMs: 130_000 }), /deployment "web" successfully rolled out\n$/);
    assert.match(await jp(['-n', NS, 'get', 'deploy', 'web'], '{.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}'), /^\d{4}-\d\d-\d\dT/);
    assert.ok(Number(await jp(['-n', NS, 'get', 'deploy', 'web'], '{.metadata.generation}')) > Number(before));
    assert.equal((await jp(['-n', NS, 'get', 'rs', '-l', 'app=web'], '{range .items[*]}{.spec.replicas}{"\\n"}{end}')).split('\n').sort().join(','), '0,0,1', 'three ReplicaSets, only the newest scaled up');
  });

  // ------------------------------------------------------------------ logs, exec

  it('logs, logs -f follows new lines', async () => {
    const lines = (await kok(['-n', NS, 'logs', 'shell', '--tail=3'])).trim().split('\n');
    assert.equal(lines.length, 3);
    for (const l of lines) assert.match(l, /^tick \d+$/);
    const f = kstream(['-n', NS, 'logs', '-f', 'shell', '--tail=1']);
    const first = await waitFor('the first followed line', () => /tick (\d+)/.exec(f.out())?.[1], 30_000);
    await waitFor('a later line arriving while following', () => {
      const nums = [...f.out().matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
      return nums.some((n) => n >= Number(first) + 2);
    }, 30_000);
    assert.equal(f.proc.exitCode, null, 'logs -f keeps following');
    f.proc.kill('SIGINT');
  });

  it('logs -f of a quiet container answers at once (headers before the first line)', async () => {
    await kok(['-n', NS, 'run', 'quiet', '--image=busybox:1.36', '--restart=Never', '--', 'sleep', '3600']);
    await kok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/quiet', '--timeout=90s'], { timeoutMs: 100_000 });
    const kc = loadKubeconfig(cluster.kubeconfig);
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${kc.server}/api/v1/namespaces/${NS}/pods/quiet/log?follow=true`);
      const req = https.get(u, { ca: kc.ca, cert: kc.cert, key: kc.key, timeout: 10_000 } as https.RequestOptions, (res) => {
        resolve(res.statusCode ?? 0);
        res.destroy();
      });
      req.on('timeout', () => req.destroy(new Error('no response headers within 10 s for a quiet follow')));
      req.on('error', reject);
    });
    assert.equal(status, 200);
  });

  it('exec: output, -i stdin, -t terminal, exit codes', async () => {
    assert.equal(await kok(['-n', NS, 'exec', 'shell', '--', 'echo', 'hi from the pod']), 'hi from the pod\n');
    const code = await k(['-n', NS, 'exec', 'shell', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(code.code, 3, 'kubectl exits with the command\'s exit code');
    assert.equal(code.stdout, 'out\n');
    assert.match(code.stderr, /^err\n/);
    assert.match(code.stderr, /command terminated with exit code 3/);
    const missing = await k(['-n', NS, 'exec', 'shell', '--', 'no-such-binary']);
    assert.notEqual(missing.code, 0);
    assert.equal(await kok(['-n', NS, 'exec', '-i', 'shell', '--', 'sh', '-c', 'tr a-z A-Z; echo done'], { input: 'piped through stdin\n' }), 'PIPED THROUGH STDIN\ndone\n');
    // -t needs a terminal on kubectl's side: script(1) gives it one.
    const kubectlCmd = `kubectl --kubeconfig ${cluster.kubeconfig} --cache-dir ${cache} -n ${NS} exec -it shell -- sh -c 'tty; exit 4'`;
    const tty = await new Promise<Result>((resolve) => {
      execFile('script', ['-qec', kubectlCmd, '/dev/null'], { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
    assert.equal(tty.code, 4, `exit code through a TTY: ${tty.stdout}${tty.stderr}`);
    assert.match(tty.stdout, /\/dev\/pts\/\d+/, 'the command ran on a terminal');
  });

  // ------------------------------------------------------------------ auth

  it('auth can-i', async () => {
    assert.equal(await kok(['-n', NS, 'auth', 'can-i', 'create', 'pods']), 'yes\n');
    const no = await k(['-n', NS, 'auth', 'can-i', 'create', 'pods', '--as=bob']);
    assert.equal(no.code, 1);
    assert.equal(no.stdout, 'no\n');
    await kok(['-n', NS, 'create', 'rolebinding', 'bob-view', '--clusterrole=view', '--user=bob']);
    await waitFor('bob may list pods', async () => (await k(['-n', NS, 'auth', 'can-i', 'list', 'pods', '--as=bob'])).stdout === 'yes\n', 10_000);
    assert.equal((await k(['-n', NS, 'auth', 'can-i', 'get', 'secrets', '--as=bob'])).stdout, 'no\n');
    assert.equal((await k(['-n', 'default', 'auth', 'can-i', 'list', 'pods', '--as=bob'])).stdout, 'no\n');
  });

  // ------------------------------------------------------------------ delete

  it('delete -f and by name', async () => {
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: doomed}\ndata: {a: "1"}\n';
    await kok(['-n', NS, 'apply', '-f', '-'], { input: manifest });
    assert.equal(await kok(['-n', NS, 'delete', '-f', '-'], { input: manifest }), 'configmap "doomed" deleted\n');
    assert.equal(await kok(['-n', NS, 'delete', 'cm', 'applied']), 'configmap "applied" deleted\n');
    assert.equal(await kok(['-n', NS, 'delete', 'pod', 'quiet', '--grace-period=1']), 'pod "quiet" deleted\n');
    for (const [kind, name] of [['cm', 'doomed'], ['cm', 'applied'], ['pod', 'quiet']]) {
      assert.match((await k(['-n', NS, 'get', kind, name])).stderr, /NotFound/, `${kind}/${name} is gone`);
    }
    const gone = await k(['-n', NS, 'delete', 'cm', 'never-was']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /NotFound.*configmaps "never-was" not found/);
  });

  it('delete --cascade=orphan keeps the ReplicaSet and pods, without the owner', async () => {
    const rs = await jp(['-n', NS, 'get', 'rs', '-l', 'app=made'], '{.items[0].metadata.name}');
    assert.equal(await kok(['-n', NS, 'delete', 'deployment', 'made', '--cascade=orphan']), 'deployment.apps "made" deleted\n');
    await waitFor('the orphaned ReplicaSet to lose its ownerReference', async () => (await jp(['-n', NS, 'get', 'rs', rs], '{.metadata.ownerReferences}')) === '', 30_000);
    assert.match((await k(['-n', NS, 'get', 'deploy', 'made'])).stderr, /NotFound/);
    assert.equal(await jp(['-n', NS, 'get', 'pods', '-l', 'app=made'], '{.items[*].status.phase}'), 'Running', 'the pod still runs');
    await kok(['-n', NS, 'delete', 'rs', rs, '--cascade=orphan']);
    await kok(['-n', NS, 'delete', 'pods', '-l', 'app=made', '--grace-period=1']);
  });

  it('delete --cascade=foreground returns once the dependents are gone', async () => {
    const out = await kok(['-n', NS, 'delete', 'deployment', 'web', '--cascade=foreground', '--timeout=120s'], { timeoutMs: 130_000 });
    assert.equal(out, 'deployment.apps "web" deleted\n');
    assert.match((await k(['-n', NS, 'get', 'deploy', 'web'])).stderr, /NotFound/);
    assert.equal(await kok(['-n', NS, 'get', 'rs', '-l', 'app=web', '-o', 'name']), '', 'its ReplicaSets went first');
    const pods = JSON.parse(await kok(['-n', NS, 'get', 'pods', '-l', 'app=web', '-o', 'json'])).items as unknown[];
    assert.equal(pods.length, 0, 'and their pods');
  });

  // ------------------------------------------------------------------ ServiceAccounts (acceptance 4)

  it('ServiceAccount admission: default name, a missing account refused, the token mounted', async () => {
    await kok(['create', 'namespace', SA_NS]);
    await waitFor('the default ServiceAccount', async () => (await k(['-n', SA_NS, 'get', 'sa', 'default'])).code === 0, 10_000);
    const ghost = await k(['-n', SA_NS, 'run', 'ghost', '--image=busybox:1.36', '--restart=Never', '--overrides={"apiVersion":"v1","spec":{"serviceAccountName":"ghost"}}', '--', 'sleep', '60']);
    assert.notEqual(ghost.code, 0);
    assert.match(ghost.stderr, /Forbidden.*pods "ghost" is forbidden: error looking up service account sa-test\/ghost: serviceaccount "ghost" not found/);
    await kok(['-n', SA_NS, 'run', 'plain', '--image=busybox:1.36', '--restart=Never', '--', 'sleep', '60']);
    assert.equal(await jp(['-n', SA_NS, 'get', 'pod', 'plain'], '{.spec.serviceAccountName} {.spec.containers[0].volumeMounts[0].mountPath}'), `default ${TOKEN_DIR}`);
    await kok(['-n', SA_NS, 'run', 'nomount', '--image=busybox:1.36', '--restart=Never', '--overrides={"apiVersion":"v1","spec":{"automountServiceAccountToken":false}}', '--', 'sleep', '60']);
    assert.equal(await jp(['-n', SA_NS, 'get', 'pod', 'nomount'], '{.spec.volumes}'), '', 'automountServiceAccountToken: false mounts nothing');
    await kok(['-n', SA_NS, 'delete', 'pod', 'plain', 'nomount', '--grace-period=0', '--force'], { timeoutMs: 60_000 });
  });

  it('a ServiceAccount token from inside a pod can do exactly what its RoleBinding allows', async () => {
    await kok(['-n', SA_NS, 'apply', '-f', '-'], { input: SA_RBAC });
    // A Service that exists before the pod: its variables are in the pod's environment.
    await kok(['-n', SA_NS, 'create', 'service', 'clusterip', 'my-svc', '--tcp=8080:80']);
    await kok(['-n', SA_NS, 'apply', '-f', '-'], { input: SA_POD });
    await kok(['-n', SA_NS, 'wait', '--for=condition=Ready', 'pod/caller', '--timeout=90s'], { timeoutMs: 100_000 });
    const ip = await jp(['-n', 'default', 'get', 'svc', 'kubernetes'], '{.spec.clusterIP}');
    const myIP = await jp(['-n', SA_NS, 'get', 'svc', 'my-svc'], '{.spec.clusterIP}');
    const env = new Map((await kok(['-n', SA_NS, 'exec', 'caller', '--', 'env'])).trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
    assert.equal(env.get('KUBERNETES_SERVICE_HOST'), ip);
    assert.equal(env.get('KUBERNETES_SERVICE_PORT'), '443');
    assert.equal(env.get('KUBERNETES_SERVICE_PORT_HTTPS'), '443');
    assert.equal(env.get('KUBERNETES_PORT'), `tcp://${ip}:443`);
    assert.equal(env.get('KUBERNETES_PORT_443_TCP_ADDR'), ip);
    assert.equal(env.get('MY_SVC_SERVICE_HOST'), myIP);
    assert.equal(env.get('MY_SVC_SERVICE_PORT'), '8080');
    assert.equal(env.get('MY_SVC_SERVICE_PORT_8080_80'), '8080');
    assert.equal(env.get('MY_SVC_PORT_8080_TCP'), `tcp://${myIP}:8080`);
    assert.equal(env.get('MY_SVC_PORT_8080_TCP_PROTO'), 'tcp');
    assert.equal(env.get('MY_SVC_PORT_8080_TCP_PORT'), '8080');
    // From inside the container: the mounted token and CA, the apiserver's address from KUBERNETES_SERVICE_HOST/PORT only.
    const call = async (method: string, urlPath: string) => {
      const out = await kok(['-n', SA_NS, 'exec', 'caller', '--', 'node', '-e', IN_POD_CLIENT, method, urlPath]);
      return Number(out.trim());
    };
    assert.equal(await call('GET', `/api/v1/namespaces/${SA_NS}/pods`), 200, 'list pods in its namespace');
    assert.equal(await call('GET', `/api/v1/namespaces/${SA_NS}/pods/caller`), 200, 'get a pod in its namespace');
    assert.equal(await call('GET', `/api/v1/namespaces/${SA_NS}/secrets`), 403, 'secrets are not in the Role');
    assert.equal(await call('GET', `/api/v1/namespaces/${NS}/pods`), 403, 'another namespace is not bound');
    assert.equal(await call('DELETE', `/api/v1/namespaces/${SA_NS}/pods/caller`), 403, 'delete is not in the Role');
    assert.equal(await call('GET', '/api/v1/nodes'), 403, 'nothing cluster-wide');
    assert.equal(await k(['-n', SA_NS, 'auth', 'can-i', 'list', 'pods', `--as=system:serviceaccount:${SA_NS}:reader`]).then((r) => r.stdout), 'yes\n');
    // The token is bound to the pod: once the pod is gone, it no longer authenticates.
    const token = await kok(['-n', SA_NS, 'exec', 'caller', '--', 'cat', `${TOKEN_DIR}/token`]);
    const kc = loadKubeconfig(cluster.kubeconfig);
    const withToken = (urlPath: string) => new Promise<number>((resolve, reject) => {
      const req = https.get(new URL(`${kc.server}${urlPath}`), { ca: kc.ca, headers: { authorization: `Bearer ${token}` }, timeout: 10_000 } as https.RequestOptions, (res) => { resolve(res.statusCode ?? 0); res.resume(); });
      req.on('error', reject);
    });
    assert.equal(await withToken(`/api/v1/namespaces/${SA_NS}/pods`), 200);
    await kok(['-n', SA_NS, 'delete', 'pod', 'caller', '--grace-period=1'], { timeoutMs: 60_000 });
    await waitFor('the pod-bound token to stop working', async () => (await withToken(`/api/v1/namespaces/${SA_NS}/pods`)) === 401, 30_000);
  });
});

function deploymentYaml(name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: ${name}, image: busybox:1.36, command: [sleep, "3600"], ports: [{containerPort: 8080}]}
`;
}

function serviceYaml(name: string): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  selector: {app: ${name}}
  ports: [{port: 80, targetPort: 8080}]
`;
}

function eventYaml(serviceUid: string): string {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return `apiVersion: v1
kind: Event
metadata: {name: web.checked}
involvedObject: {apiVersion: v1, kind: Service, name: web, namespace: ${NS}, uid: ${serviceUid}}
reason: Checked
message: service web was looked at
type: Normal
source: {component: acceptance-test}
firstTimestamp: "${now}"
lastTimestamp: "${now}"
count: 1
`;
}

const SA_RBAC = `apiVersion: v1
kind: ServiceAccount
metadata: {name: reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-reads-pods}
subjects: [{kind: ServiceAccount, name: reader, namespace: ${SA_NS}}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
`;

const SA_POD = `apiVersion: v1
kind: Pod
metadata: {name: caller}
spec:
  serviceAccountName: reader
  terminationGracePeriodSeconds: 1
  containers:
  - {name: node, image: node:20-bookworm-slim, command: [sleep, "3600"]}
`;

/** Runs in the pod: one request with the mounted token, verifying the apiserver with the mounted CA; prints the status code. */
const IN_POD_CLIENT = `
const fs = require('fs'), https = require('https');
const dir = '${TOKEN_DIR}/';
const [method, urlPath] = process.argv.slice(1);
const url = 'https://' + process.env.KUBERNETES_SERVICE_HOST + ':' + process.env.KUBERNETES_SERVICE_PORT + urlPath;
const req = https.request(url, { method, ca: fs.readFileSync(dir + 'ca.crt'), servername: 'kubernetes.default.svc',
  headers: { authorization: 'Bearer ' + fs.readFileSync(dir + 'token', 'utf8') } }, (res) => { res.resume(); console.log(res.statusCode); });
req.on('error', (e) => { console.error(e.message); process.exit(2); });
// A hung request says so (exit 3) rather than leaving kubectl exec to time out with no output.
req.setTimeout(20000, () => { console.error('no answer from the apiserver in 20 s (' + method + ' ' + urlPath + ')'); process.exit(3); });
req.end();
`;
