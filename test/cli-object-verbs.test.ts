/**
 * Issue 15, coxctl's verbs that change objects, against one `coxswain up` cluster and with the
 * real kubectl 1.32 as the reference: scale (and its precondition error), rollout status,
 * history (table and --revision detail, for a Deployment and a StatefulSet), undo, pause,
 * resume and restart, label and annotate (with their --overwrite errors), edit through a
 * non-interactive $EDITOR (sed), completion run by a real bash, and apply's progress counter
 * (drawn on a pty, absent on a pipe). Named cli-*, not coxctl-*: scripts/test.js runs coxctl-*
 * files in its lane for tests without Docker, and this one starts a node with containers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kubectlFor } from './lib/kubectl';
import { COXCTL, startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';

const NODE = 'cxo-node';
const SERVICE_CIDR = '10.193.0.0/16';
const CLUSTER_CIDR = '10.239.0.0/16';
const NODE_PORTS = '32150-32199';
const NS = 'cxo';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: c, image: "busybox:1.36", command: [sleep, "3600"], env: [{name: STAGE, value: one}]}
`;

const STATEFULSET = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: ${NS}}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: c, image: "busybox:1.36", command: [sleep, "3600"]}
`;

describe('coxctl object verbs', { timeout: 4 * 60_000 }, () => {
  let home: string;
  let cluster: UpCluster;
  let cache: string;
  let bin: string;
  const { k, kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache, namespace: NS }));

  const coxctl = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> =>
    new Promise((resolve) => {
      execFile(process.execPath, [COXCTL, '-n', NS, ...args], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig, ...env }, timeout: 90_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const ok = async (args: string[], env?: NodeJS.ProcessEnv): Promise<string> => {
    const r = await coxctl(args, env);
    assert.equal(r.code, 0, `coxctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const rolledOut = () => waitFor('web rolled out', async () => (await coxctl(['rollout', 'status', 'deploy/web', '-w=false'])).stdout.includes('successfully rolled out'), 60_000, 250);

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-cxo-'));
    cache = path.join(home, 'kubectl-cache');
    bin = mkdtempSync(path.join(os.tmpdir(), 'cxo-bin-'));
    writeFileSync(path.join(bin, 'coxctl'), `#!/bin/sh\nexec "${process.execPath}" "${COXCTL}" "$@"\n`);
    chmodSync(path.join(bin, 'coxctl'), 0o755);
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    await kok(['create', 'namespace', NS]);
    await kok(['apply', '-f', '-'], { input: DEPLOYMENT + '---\n' + STATEFULSET });
  });

  after(async () => {
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('rollout status watches until done, in kubectl words', async () => {
    const r = await coxctl(['rollout', 'status', 'deployment/web', '--timeout', '90s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployment "web" successfully rolled out\n$/);
    // kubectl's two kinds of progress line: before the controller has seen the spec, then the counts
    for (const line of r.stdout.trim().split('\n').slice(0, -1)) assert.match(line, /^Waiting for deployment (spec update to be observed\.\.\.|"web" rollout to finish: )/);
    assert.equal(r.stdout.trim().split('\n').pop(), (await kok(['rollout', 'status', 'deployment/web'])).trim().split('\n').pop());
    const sts = await coxctl(['rollout', 'status', 'sts/db', '--timeout', '90s']);
    assert.equal(sts.code, 0, sts.stderr);
    assert.equal(sts.stdout.trim().split('\n').pop(), (await kok(['rollout', 'status', 'sts/db'])).trim().split('\n').pop());
    const missing = await coxctl(['rollout', 'status', 'deploy/nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, (await k(['rollout', 'status', 'deploy/nope'])).stderr);
  });

  it('scale through /scale, and the --current-replicas precondition', async () => {
    assert.equal(await ok(['scale', 'deploy/web', '--replicas', '3']), 'deployment.apps/web scaled\n');
    assert.equal(await jp(['get', 'deploy/web'], '{.spec.replicas}'), '3');
    const bad = await coxctl(['scale', 'deploy/web', '--replicas', '2', '--current-replicas', '5']);
    const ref = await k(['scale', 'deploy/web', '--replicas', '2', '--current-replicas', '5']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, ref.stderr);
    assert.equal(await jp(['get', 'deploy/web'], '{.spec.replicas}'), '3');
    const noCount = await coxctl(['scale', 'deploy/web']);
    assert.equal(noCount.stderr, 'error: required flag(s) "replicas" not set\n');
    assert.match((await k(['scale', 'deploy/web'])).stderr, /required flag\(s\) \\?"replicas\\?" not set/);
    assert.equal(await ok(['scale', 'deploy', 'web', '--replicas', '2', '--current-replicas', '3']), 'deployment.apps/web scaled\n');
    assert.equal(await jp(['get', 'deploy/web'], '{.spec.replicas}'), '2');
  });

  it('label and annotate, with kubectl errors', async () => {
    assert.equal(await ok(['label', 'deploy', 'web', 'tier=front']), 'deployment.apps/web labeled\n');
    const clash = await coxctl(['label', 'deploy/web', 'tier=back']);
    assert.equal(clash.code, 1);
    assert.equal(clash.stderr, "error: 'tier' already has a value (front), and --overwrite is false\n");
    assert.equal(clash.stderr, (await k(['label', 'deploy/web', 'tier=back'])).stderr);
    assert.equal(await ok(['label', 'deploy/web', 'tier=back', '--overwrite']), (await kok(['label', 'deploy/web', 'tier=front', '--overwrite'])).replace('front', 'back'));
    assert.equal(await jp(['get', 'deploy/web'], '{.metadata.labels.tier}'), 'front');
    assert.equal(await ok(['label', 'deploy/web', 'tier-']), 'deployment.apps/web unlabeled\n');
    assert.equal(await ok(['label', 'deploy/web', 'tier-']), await kok(['label', 'deploy/web', 'tier-']));
    assert.equal(await ok(['label', 'deploy', '-l', 'app=web', 'x=1']), 'deployment.apps/web labeled\n');
    const spec = await coxctl(['label', 'deploy/web', 'bad=a=b']);
    assert.equal(spec.stderr, (await k(['label', 'deploy/web', 'bad=a=b'])).stderr);

    assert.equal(await ok(['annotate', 'deploy/web', 'owner=me']), 'deployment.apps/web annotated\n');
    const aclash = await coxctl(['annotate', 'deploy/web', 'owner=you']);
    assert.equal(aclash.code, 1);
    assert.equal(aclash.stderr, (await k(['annotate', 'deploy/web', 'owner=you'])).stderr);
    assert.equal(await ok(['annotate', 'deploy/web', 'owner-']), await kok(['annotate', 'deploy/web', 'owner-']));
  });

  it('rollout history, undo, pause, resume and restart', async () => {
    await kok(['set', 'env', 'deploy/web', 'STAGE=two']);
    await rolledOut();
    assert.equal(await ok(['rollout', 'history', 'deploy/web']), await kok(['rollout', 'history', 'deploy/web']));
    assert.match(await ok(['rollout', 'history', 'deploy/web']), /^deployment\.apps\/web \nREVISION {2}CHANGE-CAUSE\n1 {9}<none>\n2 {9}<none>\n\n$/);
    assert.equal(await ok(['rollout', 'history', 'deploy/web', '--revision', '1']), await kok(['rollout', 'history', 'deploy/web', '--revision', '1']));
    assert.equal(await ok(['rollout', 'history', 'sts/db']), await kok(['rollout', 'history', 'sts/db']));
    assert.equal(await ok(['rollout', 'history', 'sts/db', '--revision', '1']), await kok(['rollout', 'history', 'sts/db', '--revision', '1']));

    assert.equal(await ok(['rollout', 'undo', 'deploy/web']), 'deployment.apps/web rolled back\n');
    assert.equal(await jp(['get', 'deploy/web'], '{.spec.template.spec.containers[0].env[0].value}'), 'one');
    await rolledOut();
    assert.equal(await ok(['rollout', 'history', 'deploy/web']), await kok(['rollout', 'history', 'deploy/web']));
    assert.equal(await ok(['rollout', 'undo', 'deploy/web', '--to-revision', '3']), await kok(['rollout', 'undo', 'deploy/web', '--to-revision', '3']));
    const noRev = await coxctl(['rollout', 'undo', 'deploy/web', '--to-revision', '9']);
    assert.equal(noRev.stderr, (await k(['rollout', 'undo', 'deploy/web', '--to-revision', '9'])).stderr);

    assert.equal(await ok(['rollout', 'pause', 'deploy/web']), 'deployment.apps/web paused\n');
    assert.equal(await jp(['get', 'deploy/web'], '{.spec.paused}'), 'true');
    const again = await coxctl(['rollout', 'pause', 'deploy/web']);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, (await k(['rollout', 'pause', 'deploy/web'])).stderr);
    const restartPaused = await coxctl(['rollout', 'restart', 'deploy/web']);
    assert.equal(restartPaused.stderr, (await k(['rollout', 'restart', 'deploy/web'])).stderr);
    assert.equal(await ok(['rollout', 'resume', 'deploy/web']), 'deployment.apps/web resumed\n');
    const notPaused = await coxctl(['rollout', 'resume', 'deploy/web']);
    assert.equal(notPaused.stderr, (await k(['rollout', 'resume', 'deploy/web'])).stderr);

    assert.equal(await ok(['rollout', 'restart', 'deploy/web']), 'deployment.apps/web restarted\n');
    assert.match(await jp(['get', 'deploy/web'], '{.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    await rolledOut();
  });

  it('edit with a sed $EDITOR: a change, no change, and an invalid change', async () => {
    // The editor is a script that runs one sed expression on the file it is given.
    let scripts = 0;
    const editor = (expr: string) => {
      const file = path.join(bin, `editor-${scripts++}.sh`);
      writeFileSync(file, `#!/bin/sh\nexec sed -i -e '${expr}' "$1"\n`);
      chmodSync(file, 0o755);
      return { KUBE_EDITOR: file, EDITOR: '' };
    };
    const changed = await coxctl(['edit', 'deploy/web'], editor('s/replicas: 2/replicas: 1/'));
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(changed.stdout, 'deployment.apps/web edited\n', changed.stderr);
    assert.equal(await jp(['get', 'deploy/web'], '{.spec.replicas}'), '1');

    const none = await coxctl(['edit', 'deploy/web'], { KUBE_EDITOR: 'true' });
    assert.equal(none.code, 0);
    assert.equal(none.stderr, 'Edit cancelled, no changes made.\n');
    process.env.KUBE_EDITOR = 'true';
    try {
      assert.equal(none.stderr, (await k(['edit', 'deploy/web'])).stderr);
    } finally {
      delete process.env.KUBE_EDITOR;
    }

    const invalid = await coxctl(['edit', 'deploy/web', '-o', 'json'], editor('s/"replicas": 1/"replicas": -1/'));
    assert.equal(invalid.code, 1);
    const lines = invalid.stderr.trim().split('\n');
    assert.equal(lines[0], 'error: deployments.apps "web" is invalid');
    assert.match(lines[1], /^A copy of your changes has been stored to ".*coxctl-edit-.*\.json"$/);
    assert.equal(lines[2], 'error: Edit cancelled, no valid changes were saved.');
    // The reopened file carries the server's reasons in its header, as kubectl's does.
    const kept = readFileSync(/"(.*)"/.exec(lines[1])![1], 'utf8');
    assert.match(kept, /^# reopened with the relevant failures\.\n#\n# deployments\.apps "web" was not valid:\n# \* spec\.replicas: .*-1.*\n#\n/m);
    assert.match(kept, /"replicas": -1/);
    process.env.KUBE_EDITOR = editor('s/"replicas": 1/"replicas": -1/').KUBE_EDITOR;
    try {
      const ref = (await k(['edit', 'deploy/web', '-o', 'json'])).stderr.trim().split('\n');
      assert.deepEqual([lines[0], lines[2]], [ref[0], ref[2]]);
    } finally {
      delete process.env.KUBE_EDITOR;
    }
    assert.equal(await jp(['get', 'deploy/web'], '{.spec.replicas}'), '1');
  });

  it('completion: a real bash completes verbs, types and names through coxctl __complete', async () => {
    const script = await ok(['completion', 'bash']);
    const bash = (line: string[], cword: number): Promise<string> =>
      new Promise((resolve, reject) => {
        const words = line.map((w) => `'${w}'`).join(' ');
        const prog = `${script}\ncomplete -p coxctl\nCOMP_WORDS=(${words}); COMP_CWORD=${cword}; _coxctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
        execFile('bash', ['--norc', '-c', prog], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, KUBECONFIG: cluster.kubeconfig } }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout),
        );
      });
    const verbs = await bash(['coxctl', 'ro'], 1);
    assert.equal(verbs, 'complete -o default -F _coxctl coxctl\nrollout\n');
    assert.equal((await bash(['coxctl', 'rollout', 'st'], 2)).split('\n')[1], 'status');
    assert.deepEqual((await bash(['coxctl', 'rollout', 'status', ''], 3)).trim().split('\n').slice(1), ['deployments', 'daemonsets', 'statefulsets']);
    assert.equal((await bash(['coxctl', '-n', NS, 'rollout', 'status', 'deploy/w'], 5)).split('\n')[1], 'deploy/web');
    assert.equal((await bash(['coxctl', '-n', NS, 'get', 'deploy', ''], 5)).split('\n')[1], 'web');
    assert.ok((await bash(['coxctl', 'get', 'stat'], 2)).split('\n').includes('statefulsets'));
    assert.ok((await ok(['completion', 'zsh'])).includes('compdef _coxctl coxctl'));
  });

  it('apply of many objects: a counter on a terminal, nothing on a pipe', async () => {
    const many = Array.from({ length: 8 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-${i}, namespace: ${NS}}\ndata: {i: "${i}"}\n`).join('---\n');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cxo-apply-'));
    writeFileSync(path.join(dir, 'many.yaml'), many);
    const r = await coxctl(['apply', '-f', dir]);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout.split('\n').filter(Boolean).length, 8);

    // On a terminal (util-linux `script` gives coxctl a pty) the counter is drawn and erased.
    const tty = await new Promise<string>((resolve, reject) => {
      const cmd = `"${process.execPath}" "${COXCTL}" -n ${NS} apply -f "${dir}"`;
      execFile('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig } }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    assert.match(tty, /applying 8\/8 \(100%\)/);
    assert.match(tty, /configmap\/cm-7 unchanged/);
    assert.ok(tty.endsWith('\r\x1b[K') || /\r\x1b\[K\s*$/.test(tty), JSON.stringify(tty.slice(-60)));
  });
});
