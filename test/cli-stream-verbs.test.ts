/**
 * coxctl's streaming verbs (logs, exec, port-forward, cp, events, wait) against one real
 * `coxswain up` cluster, each compared with the real kubectl 1.32 where it has the same verb.
 * Own node name, CIDRs and NodePort range (cxs-node, 10.197.0.0/16, 10.202.0.0/16, 32130-32159).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kubectlFor, type KubectlResult } from './lib/kubectl';
import { COXCTL, startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';

const NODE = 'cxs-node';
const SERVICE_CIDR = '10.197.0.0/16';
const CLUSTER_CIDR = '10.202.0.0/16';
const NODE_PORTS = '32130-32159';

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

const MANIFESTS = `
apiVersion: v1
kind: Pod
metadata: {name: talker, labels: {app: talker}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo one; echo two; echo three; exec sleep 3600"]
  - name: side
    image: busybox:1.36
    command: ["sh", "-c", "echo side-start; exec sleep 3600"]
---
apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: t
    image: busybox:1.36
    command: ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.3; done"]
---
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:1.36
    command: ["sh", "-c", "echo run-$(cat /proc/sys/kernel/random/uuid); sleep 1; exit 1"]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: httpd
        image: busybox:1.36
        command: ["sh", "-c", "mkdir -p /www && echo hello-from-$(hostname) > /www/index.html && echo serving && exec httpd -f -p 8080 -h /www"]
        ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: front, port: 80, targetPort: http}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: hello}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: c, image: "busybox:1.36", command: ["sh", "-c", "echo hello-from-job"]}
`;

/** A humanDuration ("45s", "5m3s", "3h5m", "2d4h") in seconds. */
function seconds(text: string): number {
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, y: 365 * 86400 };
  let total = 0;
  for (const m of text.matchAll(/(\d+)([smhdy])/g)) total += Number(m[1]) * unit[m[2]];
  return total;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('coxctl logs, exec, port-forward, cp, events, wait', { timeout: 4 * 60_000 }, () => {
  let home: string;
  let cluster: UpCluster;
  let cache: string;
  const { k, kok } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache }));

  const coxctl = (args: string[], input?: string): Promise<Run> =>
    new Promise((resolve) => {
      const p = execFile(process.execPath, [COXCTL, ...args], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, timeout: 60_000, maxBuffer: 32 << 20 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      p.stdin!.end(input ?? '');
    });
  /** Runs the same arguments with coxctl and kubectl; asserts equal exit codes and returns both. */
  const both = async (args: string[], input?: string): Promise<{ c: Run; kc: KubectlResult }> => {
    const [c, kc] = await Promise.all([coxctl(args, input), k(args, { input })]);
    assert.equal(c.code, kc.code, `exit codes of ${args.join(' ')}: coxctl ${c.code} (${c.stderr}) kubectl ${kc.code} (${kc.stderr})`);
    return { c, kc };
  };
  const same = async (args: string[], input?: string): Promise<Run> => {
    const { c, kc } = await both(args, input);
    assert.equal(c.stdout, kc.stdout, `stdout of ${args.join(' ')}`);
    assert.equal(c.stderr, kc.stderr, `stderr of ${args.join(' ')}`);
    return c;
  };

  /**
   * As `same`, for output whose per-container blocks kubectl prints in no fixed order (it reads
   * `--all-containers` from a Go map): the same blocks, each in its own order; coxctl keeps the pod's.
   */
  const sameBlocks = async (args: string[]): Promise<Run> => {
    const { c, kc } = await both(args);
    const blocks = (out: string) => {
      const m = new Map<string, string[]>();
      for (const line of out.split('\n').filter(Boolean)) {
        const key = /^\[[^\]]*\]/.exec(line)?.[0] ?? '';
        m.set(key, [...(m.get(key) ?? []), line]);
      }
      return [...m.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    };
    assert.deepEqual(blocks(c.stdout), blocks(kc.stdout), `stdout of ${args.join(' ')}`);
    assert.equal(c.stderr, kc.stderr, `stderr of ${args.join(' ')}`);
    return c;
  };

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-cxs-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    await kok(['apply', '-f', '-'], { input: MANIFESTS });
    await kok(['wait', '--for=condition=Ready', 'pod/talker', 'pod/ticker', '--timeout=60s'], { timeoutMs: 70_000 });
    await kok(['wait', '--for=condition=Available', 'deploy/web', '--timeout=60s'], { timeoutMs: 70_000 });
    await kok(['wait', '--for=condition=Complete', 'job/hello', '--timeout=60s'], { timeoutMs: 70_000 });
    await waitFor('talker to have logged', async () => (await coxctl(['logs', 'talker', '-c', 'main'])).stdout === 'one\ntwo\nthree\n', 20_000, 200);
  });

  after(async () => {
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('wait: condition met, jsonpath, selector, delete, and the timeout error, as kubectl', async () => {
    await kok(['run', 'doomed', '--image=busybox:1.36', '--restart=Never', '--', 'sleep', '3600']);
    const [ready, available, , , timedOut] = await Promise.all([
      same(['wait', '--for=condition=Ready', 'pod/talker', 'pod/ticker']),
      same(['wait', '--for=condition=Available=True', 'deployment/web']),
      same(['wait', '--for=jsonpath={.status.phase}=Running', 'pods', '-l', 'app=web']),
      same(['wait', '--for=jsonpath={.status.conditions[?(@.type=="Ready")].status}=True', 'pod/talker']),
      same(['wait', '--for=condition=Nope', 'pod/talker', '--timeout=1s']),
      same(['wait', '--for=condition=Ready', 'pods', '-l', 'app=nothing']),
    ]);
    assert.equal(ready.stdout, 'pod/talker condition met\npod/ticker condition met\n');
    assert.equal(available.stdout, 'deployment.apps/web condition met\n');
    assert.equal(timedOut.stderr, 'error: timed out waiting for the condition on pods/talker\n');
    // --for=delete, waiting while the pod goes away
    const waiter = coxctl(['wait', '--for=delete', 'pod/doomed', '--timeout=60s']);
    await kok(['delete', 'pod', 'doomed', '--wait=false', '--grace-period=1']);
    const w = await waiter;
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout, 'pod/doomed condition met\n');
  });

  it('logs: containers, workloads, selectors, prefixes and errors, as kubectl', async () => {
    const [side, dflt, , , , dep, all, prev, missing] = await Promise.all([
      same(['logs', 'talker', '-c', 'side']),
      same(['logs', 'talker']),
      same(['logs', 'talker', 'side']),
      same(['logs', 'talker', '-c', 'main', '--tail=2']),
      same(['logs', 'job/hello']),
      same(['logs', 'deploy/web']),
      sameBlocks(['logs', 'talker', '--all-containers', '--prefix']),
      same(['logs', 'talker', '-c', 'side', '--previous']),
      same(['logs', 'nope']),
      same(['logs', 'talker', '-c', 'nope']),
    ]);
    assert.equal(side.stdout, 'side-start\n');
    assert.equal(all.stdout, '[pod/talker/main] one\n[pod/talker/main] two\n[pod/talker/main] three\n[pod/talker/side] side-start\n');
    assert.equal(dflt.stderr, 'Defaulted container "main" out of: main, side\n');
    assert.match(dep.stderr, /^Found 2 pods, using pod\/web-/);
    assert.equal(prev.stderr, 'Error from server (BadRequest): previous terminated container "side" in pod "talker" not found\n');
    assert.equal(missing.stderr, 'error: error from server (NotFound): pods "nope" not found in namespace "default"\n');
    // kubectl reads a selector's pods in map order: compare the lines as sets
    const { c, kc } = await both(['logs', '-l', 'app=web', '--prefix']);
    assert.deepEqual(c.stdout.split('\n').sort(), kc.stdout.split('\n').sort());
    assert.match(c.stdout, /^\[pod\/web-[a-z0-9-]+\/httpd\] serving$/m);
    const ts = await coxctl(['logs', 'talker', '-c', 'main', '--tail=1', '--timestamps']);
    assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z three\n$/);
    // --previous: the instance before the last restart
    const restarts = async () => Number((await kok(['get', 'pod', 'crasher', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}'])).trim() || '0');
    await waitFor('crasher to restart', async () => (await restarts()) >= 1, 60_000, 500);
    const before = await same(['logs', 'crasher', '--previous']);
    assert.match(before.stdout, /^run-[0-9a-f-]+\n$/);
  });

  it('logs -f follows new lines until interrupted', async () => {
    const p = spawn(process.execPath, [COXCTL, 'logs', '-f', 'ticker', '--tail=1'], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    try {
      const first = Number(await waitFor('the first line', () => /tick (\d+)/.exec(out)?.[1], 20_000, 50));
      await waitFor('two newer lines', () => out.includes(`tick ${first + 2}\n`), 20_000, 50);
      assert.equal(p.exitCode, null, 'still following');
      assert.equal(out.split('\n')[0], `tick ${first}`, '--tail=1 starts with one line');
    } finally {
      p.kill('SIGINT');
    }
  });

  it('exec: output, stderr, stdin, exit codes and workloads, as kubectl', async () => {
    const big = 'x'.repeat(300_000);
    const [r, upper, wc, dflt, , , notty, nocmd, missing] = await Promise.all([
      same(['exec', 'talker', '-c', 'main', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']),
      same(['exec', '-i', 'talker', '-c', 'main', '--', 'tr', 'a-z', 'A-Z'], 'hello stdin\n'),
      coxctl(['exec', '-i', 'talker', '-c', 'main', '--', 'wc', '-c'], big),
      same(['exec', 'talker', '--', 'echo', 'hi']),
      same(['exec', 'deploy/web', '--', 'hostname']),
      same(['exec', 'svc/web', '--', 'hostname']),
      same(['exec', '-it', 'talker', '-c', 'main', '--', 'echo', 'plain']),
      coxctl(['exec', 'talker']),
      coxctl(['exec', 'nope', '--', 'true']),
    ]);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\ncommand terminated with exit code 3\n');
    assert.equal(r.code, 3);
    assert.equal(upper.stdout, 'HELLO STDIN\n');
    assert.equal(wc.stdout.trim(), '300000');
    assert.equal(dflt.stderr, 'Defaulted container "main" out of: main, side\n');
    assert.equal(notty.stderr, 'Unable to use a TTY - input is not a terminal or the right kind of file\n');
    assert.equal(nocmd.stderr, 'error: you must specify at least one command for the container\n');
    assert.equal(missing.stderr, 'Error from server (NotFound): pods "nope" not found\n');
  });

  it('exec -it: a real TTY, its size, a resize on SIGWINCH, and the exit code', { skip: !hasScript && '`script` (util-linux) not installed' }, async () => {
    // The terminal is resized (by a background job on the same pty) once the first size was
    // printed; the remote shell waits for the new size (stty may set columns and rows in two
    // steps, so it waits for both), then prints it again.
    const flag = path.join(home, 'resize-now');
    const remote = `tty; sleep 0.5; stty size; i=0; while [ "$(stty size)" != "40 120" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; stty size; exit 7`;
    const inner = `${process.execPath} ${COXCTL} exec -it talker -c main -- sh -c '${remote}'`;
    const cmd = `stty cols 100 rows 30; (while [ ! -e ${flag} ]; do sleep 0.05; done; stty cols 120 rows 40 < /dev/tty) & KUBECONFIG=${cluster.kubeconfig} ${inner}`;
    const r = await new Promise<Run>((resolve) => {
      const p = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      p.stdout.on('data', (c) => {
        stdout += c;
        if (/30 100/.test(stdout)) void writeFile(flag, '');
      });
      const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
      p.on('exit', (code) => {
        clearTimeout(t);
        resolve({ code: code ?? -1, stdout, stderr: '' });
      });
    });
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assert.match(r.stdout, /30 100[\s\S]*40 120/, r.stdout);
    assert.match(r.stdout, /command terminated with exit code 7/);
    assert.equal(r.code, 7, r.stdout);
  });

  it('wait shows its progress on stderr only when stderr is a terminal', { skip: !hasScript && '`script` (util-linux) not installed' }, async () => {
    const cmd = `KUBECONFIG=${cluster.kubeconfig} ${process.execPath} ${COXCTL} wait --for=condition=Nope pod/talker --timeout=2500ms`;
    const out = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 20_000 }).stdout;
    assert.match(out, /Waiting for pod\/talker: 1s/);
    assert.match(out, /error: timed out waiting for the condition on pods\/talker/);
  });

  it('port-forward: svc/x resolves the named target port; traffic flows through the printed local port', async () => {
    const p = spawn(process.execPath, [COXCTL, 'port-forward', 'svc/web', ':80', '--address', '127.0.0.1'], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    try {
      const port = Number(await waitFor('the Forwarding line', () => /^Forwarding from 127\.0\.0\.1:(\d+) -> 8080\n/.exec(out)?.[1], 20_000, 50).catch((e: Error) => {
        throw new Error(`${e.message}: ${out}${err}`);
      }));
      for (let i = 0; i < 2; i++) {
        const body = spawnSync('timeout', ['5', 'wget', '-qO-', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
        assert.match(body.stdout, /^hello-from-web-/, `${body.stderr}${err}`);
      }
      await waitFor('a Handling line per connection', () => out.split(`Handling connection for ${port}\n`).length === 3, 5_000, 50);
    } finally {
      p.kill('SIGINT');
    }
    const code = await new Promise((resolve) => p.once('exit', resolve));
    assert.equal(code, 0);

    // A pod by name, a named container port, both loopback addresses by default; kubectl prints the same lines.
    const pod = (await kok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    const lines = async (bin: string, args: string[]) => {
      const q = spawn(bin, args, { env: { ...process.env, KUBECONFIG: cluster.kubeconfig } });
      let text = '';
      let exited = false;
      q.on('exit', () => (exited = true));
      q.stdout.on('data', (d) => (text += d));
      q.stderr.on('data', (d) => (text += d));
      try {
        return await waitFor(`${bin} port-forward lines`, () => (text.split('\n').length >= 3 || exited ? text : undefined), 15_000, 50);
      } catch {
        return text;
      } finally {
        q.kill('SIGINT');
      }
    };
    const mine = await lines(process.execPath, [COXCTL, 'port-forward', `pod/${pod}`, '32133:http']);
    assert.equal(mine, 'Forwarding from 127.0.0.1:32133 -> 8080\nForwarding from [::1]:32133 -> 8080\n');
    const theirs = await lines('kubectl', ['--cache-dir', cache, 'port-forward', `pod/${pod}`, '32134:http']);
    // kubectl 1.32 needs SPDY (over WebSocket) for port-forward; compare once the apiserver speaks it.
    if (theirs.startsWith('Forwarding')) assert.equal(theirs, mine.replaceAll('32133', '32134'));

    // The pod going away ends the forward, as kubectl's "lost connection to pod".
    await kok(['run', 'pf-target', '--image=busybox:1.36', '--restart=Never', '--', 'sleep', '3600']);
    await kok(['wait', '--for=condition=Ready', 'pod/pf-target', '--timeout=30s']);
    const q = spawn(process.execPath, [COXCTL, 'port-forward', 'pf-target', ':9999'], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig } });
    let qout = '';
    q.stdout.on('data', (d) => (qout += d));
    q.stderr.on('data', (d) => (qout += d));
    const qexit = new Promise<number | null>((resolve) => q.once('exit', resolve));
    await waitFor('the forward to start', () => qout.includes('Forwarding from'), 15_000, 50);
    await kok(['delete', 'pod', 'pf-target', '--wait=false', '--grace-period=1']);
    assert.equal(await qexit, 1);
    assert.match(qout, /error: lost connection to pod\n$/);
  });

  it('cp: a tree to the pod and back, in both directions, matching kubectl', async () => {
    const src = path.join(home, 'src');
    const longName = 'n'.repeat(120) + '.txt';
    await mkdir(path.join(src, 'sub', 'deeper'), { recursive: true });
    await writeFile(path.join(src, 'a.txt'), 'alpha\n');
    await writeFile(path.join(src, 'sub', 'b.bin'), Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251)));
    await writeFile(path.join(src, 'sub', 'deeper', longName), 'long\n');
    const tree = async (dir: string): Promise<Record<string, string>> => {
      const out: Record<string, string> = {};
      const walk = async (d: string) => {
        for (const e of await readdir(d)) {
          const f = path.join(d, e);
          if ((await stat(f)).isDirectory()) await walk(f);
          else out[path.relative(dir, f)] = (await readFile(f)).toString('base64');
        }
      };
      await walk(dir);
      return out;
    };
    const want = await tree(src);

    const up = await coxctl(['cp', src, 'talker:/tmp/up', '-c', 'main']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal((await coxctl(['exec', 'talker', '-c', 'main', '--', 'cat', '/tmp/up/a.txt'])).stdout, 'alpha\n');
    const { c, kc } = await both(['cp', 'talker:/tmp/up', path.join(home, 'back-k'), '-c', 'main']);
    assert.equal(c.stdout + c.stderr, kc.stdout + kc.stderr);
    assert.deepEqual(await tree(path.join(home, 'back-k')), want, 'kubectl reads what coxctl wrote');
    const down = await coxctl(['cp', 'talker:/tmp/up', path.join(home, 'back-c'), '-c', 'main']);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await tree(path.join(home, 'back-c')), want, 'the round trip keeps names and bytes');

    await kok(['cp', src, 'talker:/tmp/kup', '-c', 'main']);
    await coxctl(['cp', 'talker:/tmp/kup', path.join(home, 'back-kup'), '-c', 'main']);
    assert.deepEqual(await tree(path.join(home, 'back-kup')), want, 'coxctl reads what kubectl wrote');

    // copying into an existing folder puts the file inside it, as kubectl
    await coxctl(['cp', path.join(src, 'a.txt'), 'talker:/tmp', '-c', 'main']);
    assert.equal((await coxctl(['exec', 'talker', '-c', 'main', '--', 'cat', '/tmp/a.txt'])).stdout, 'alpha\n');
    // (kubectl's exit code here depends on a race between its goroutines: not compared)
    const nope = await coxctl(['cp', 'talker:/nope', path.join(home, 'nope'), '-c', 'main']);
    assert.equal(nope.code, 1);
    assert.match(nope.stdout, /tar: .*nope: No such file or directory/);
    assert.equal(nope.stderr, 'command terminated with exit code 1\n');
    await same(['cp', path.join(home, 'missing'), 'talker:/tmp/x', '-c', 'main']);
  });

  it('events: the table sorted by time, --for, --types, -A, and -w', async () => {
    await kok(['run', 'stuck', '--image=busybox:1.36', '--restart=Never', '--overrides={"spec":{"nodeSelector":{"nowhere":"x"}}}', '--', 'sleep', '1']);
    const rows = (text: string) => text.trimEnd().split('\n').map((l) => l.split(/\s{2,}/).slice(1).join(' | '));
    for (const args of [['events'], ['events', '--for', 'pod/talker'], ['events', '--types', 'Warning'], ['events', '-A', '--types=Warning']]) {
      await waitFor(`coxctl ${args.join(' ')} to list what kubectl lists`, async () => {
        const { c, kc } = await both(args);
        assert.equal(c.stdout.split('\n')[0].split(/\s{2,}/).join('|'), kc.stdout.split('\n')[0].split(/\s{2,}/).join('|'), 'headers');
        assert.deepEqual(rows(c.stdout).sort(), rows(kc.stdout).sort());
        assert.equal(c.stderr, kc.stderr);
        return true;
      }, 15_000, 500);
    }
    const warn = await coxctl(['events', '--types', 'Warning']);
    assert.match(warn.stdout, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
    assert.match(warn.stdout, /^\S+\s+Warning\s+FailedScheduling\s+Pod\/stuck\s+0\/1 nodes are available/m);
    // oldest first: the last-seen ages never grow down the table
    const ages = (await coxctl(['events', '-A'])).stdout.trimEnd().split('\n').slice(1).map((l) => seconds(l.split(/\s{2,}/)[1].split(' ')[0]));
    assert.ok(ages.length > 5, `${ages.length} events`);
    assert.deepEqual(ages, [...ages].sort((a, b) => b - a), 'sorted by last seen');
    assert.equal((await same(['events', '--types', 'Bad'])).stderr, 'error: valid --types are Normal or Warning\n');
    assert.equal((await same(['events', '-n', 'kube-node-lease'])).stderr, 'No events found in kube-node-lease namespace.\n');

    // -w prints the header once, then each new event
    const p = spawn(process.execPath, [COXCTL, 'events', '-w', '--for', 'pod/late'], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    try {
      await kok(['run', 'late', '--image=busybox:1.36', '--restart=Never', '--', 'sleep', '3600']);
      await waitFor('a Scheduled row for the new pod', () => /^\S+\s+Normal\s+Scheduled\s+Pod\/late\s/m.test(out), 20_000, 50);
      assert.match(out, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
      assert.equal(out.match(/^LAST SEEN/gm)?.length, 1);
    } finally {
      p.kill('SIGINT');
    }
  });
});
