/**
 * coxctl end to end: the real binary (bin/coxctl.js) against a real control
 * plane (etcd + apiserver over HTTPS, from test/lib/cluster.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, startControlPlane, waitFor, type ControlPlane } from './lib/cluster';

const BIN = path.join(REPO, 'bin/coxctl.js');
let cp: ControlPlane;
let dir: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function coxctl(args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: { ...process.env, KUBECONFIG: cp.kubeconfig, ...opts.env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  });
}

async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await coxctl(args, { stdin });
  assert.equal(r.code, 0, `coxctl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

const deployment = (replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  namespace: cx
  labels: {app: hello}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      containers:
      - {name: web, image: "busybox:1.36", ports: [{containerPort: 8080}]}
`;

before(async () => {
  cp = await startControlPlane({ store: 'etcd' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'coxctl-e2e-'));
  writeFileSync(path.join(dir, '00-namespace.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: cx}\n');
  writeFileSync(path.join(dir, '10-deployment.yaml'), deployment(2));
  writeFileSync(
    path.join(dir, '20-service.json'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'hello', namespace: 'cx' }, spec: { selector: { app: 'hello' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }],
    }),
  );
});

after(async () => {
  await cp?.stop();
});

test('discovery: api-resources and short names', async () => {
  const out = await ok(['api-resources']);
  assert.match(out, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/m);
  assert.match(out, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
  const r = await coxctl(['get', 'widgets']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), 'error: the server doesn\'t have a resource type "widgets"');
});

test('apply a folder: created, then unchanged, then configured', async () => {
  assert.equal(await ok(['apply', '-f', dir]), 'namespace/cx created\ndeployment.apps/hello created\nservice/hello created\n');
  assert.equal(await ok(['apply', '-f', dir]), 'namespace/cx unchanged\ndeployment.apps/hello unchanged\nservice/hello unchanged\n');
  assert.equal(await ok(['apply', '-f', '-'], deployment(3)), 'deployment.apps/hello configured\n');
  const dep = JSON.parse(await ok(['-n', 'cx', 'get', 'deploy', 'hello', '-o', 'json']));
  assert.equal(dep.kind, 'Deployment');
  assert.equal(dep.spec.replicas, 3);
});

test('get: tables, several types, -A, -l, names, yaml/json lists', async () => {
  const multi = await ok(['-n', 'cx', 'get', 'deploy,svc']);
  assert.match(multi, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\ndeployment\.apps\/hello\s+/m);
  assert.match(multi, /\n\nNAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\nservice\/hello\s+ClusterIP\s+10\./);

  const all = await ok(['get', 'svc', '-A']);
  assert.match(all, /^NAMESPACE\s+NAME\s+TYPE/m);
  assert.match(all, /^cx\s+hello\s+ClusterIP/m);
  assert.match(all, /^default\s+kubernetes\s+ClusterIP\s+10\.96\.0\.1/m);

  const wide = await ok(['get', 'deploy/hello', '-n', 'cx', '-o', 'wide']);
  assert.match(wide.split('\n')[0], /SELECTOR/);

  assert.equal(await ok(['get', 'deploy,svc', '-n', 'cx', '-l', 'app=hello', '-o', 'name']), 'deployment.apps/hello\n');

  const list = JSON.parse(await ok(['get', 'svc', '-n', 'cx', '-o', 'json']));
  assert.equal(list.kind, 'List');
  assert.deepEqual(
    list.items.map((i: { kind: string; metadata: { name: string } }) => `${i.kind}/${i.metadata.name}`),
    ['Service/hello'],
  );
  assert.match(await ok(['get', 'ns', 'cx', '-o', 'yaml']), /^apiVersion: v1\nkind: Namespace\n/);

  const empty = await coxctl(['get', 'pods', '-n', 'cx']);
  assert.equal(empty.code, 0);
  assert.equal(empty.stdout, '');
  assert.equal(empty.stderr, 'No resources found in cx namespace.\n');

  const missing = await coxctl(['get', 'pods', 'nope']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'Error from server (NotFound): pods "nope" not found\n');
});

test('describe deployment and service', async () => {
  const d = await ok(['describe', 'deploy', 'hello', '-n', 'cx']);
  assert.match(d, /^Name:\s+hello$/m);
  assert.match(d, /^Namespace:\s+cx$/m);
  assert.match(d, /^Replicas:\s+3 desired \| /m);
  assert.match(d, /^StrategyType:\s+RollingUpdate$/m);
  assert.match(d, /^Events:/m);
  const s = await ok(['describe', 'svc/hello', '-n', 'cx']);
  assert.match(s, /^Type:\s+ClusterIP$/m);
  assert.match(s, /^Port:\s+http {2}80\/TCP$/m);
  assert.match(s, /^TargetPort:\s+8080\/TCP$/m);
});

test('get -w prints the list once with a header, then a row per change', async () => {
  const child = spawn(process.execPath, [BIN, 'get', 'svc', '-n', 'cx', '-w'], { env: { ...process.env, KUBECONFIG: cp.kubeconfig } });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  try {
    await waitFor('initial list', () => /^hello\s+ClusterIP/m.test(out), 15_000, 50);
    await ok(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: second, namespace: cx}\nspec: {ports: [{port: 81}]}\n');
    await waitFor('the new service as a row', () => /^second\s+ClusterIP/m.test(out), 15_000, 50);
    assert.equal(out.match(/^NAME\s/gm)?.length, 1, 'one header only');
  } finally {
    child.kill('SIGTERM');
  }
});

test('delete by name, by file, --ignore-not-found, and errors', async () => {
  assert.equal(await ok(['delete', 'svc', 'second', '-n', 'cx']), 'service "second" deleted\n');
  const again = await coxctl(['delete', 'svc/second', '-n', 'cx']);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, 'Error from server (NotFound): services "second" not found\n');
  assert.equal((await coxctl(['delete', 'svc', 'second', '-n', 'cx', '--ignore-not-found'])).code, 0);

  const out = await ok(['delete', '-f', path.join(dir, '10-deployment.yaml'), '-f', path.join(dir, '20-service.json')]);
  assert.equal(out, 'deployment.apps "hello" deleted\nservice "hello" deleted\n');
  const gone = await coxctl(['get', 'deploy', 'hello', '-n', 'cx']);
  assert.equal(gone.stderr, 'Error from server (NotFound): deployments.apps "hello" not found\n');
});

test('missing kubeconfig and unreachable server are clear errors', async () => {
  const missing = await coxctl(['get', 'pods'], { env: { KUBECONFIG: path.join(dir, 'nope.kubeconfig') } });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, new RegExp(`kubeconfig ${path.join(dir, 'nope.kubeconfig').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} not found`));

  const bad = path.join(dir, 'bad.kubeconfig');
  writeFileSync(bad, readFileSync(cp.kubeconfig, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:1'));
  const refused = await coxctl(['--kubeconfig', bad, 'get', 'pods']);
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, 'The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n');
});
