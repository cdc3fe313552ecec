/**
 * Issue 14, "why is my pod pending", as a user asks it: a `coxswain up` cluster (its own real
 * node, which has no `disk=ssd` label) and three hollow nodes (`coxswain hollow-nodes`) labelled
 * `disk=ssd`, each kept out for a different reason: one tainted `gpu=true:NoSchedule`, one
 * cordoned, one with 1 CPU. A pod selecting `disk=ssd` and asking for 2 CPUs fits nowhere;
 * `coxctl why-pending` names every node with the plugin and the reason that rejected it and
 * exits 0, and `coxctl describe pod` shows the same grouped. Both read what the scheduler
 * records for the pod's last attempt (annotation `scheduler.coxswain.io/last-attempt`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PODS } from '../lib/resources';
import type { KubeObject } from '../lib/client';
import { kubectlFor } from './lib/kubectl';
import { COXCTL, spawnHollowNodes, startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';

const NODE = 'wy-node';
const SERVICE_CIDR = '10.172.0.0/16';
const CLUSTER_CIDR = '10.218.0.0/16';
const NODE_PORTS = '32950-32999';
/** Hollow node groups of one node each: name prefix → extra `coxswain hollow-nodes` flags. */
const HOLLOW: Record<string, string[]> = {
  'why-gpu-': ['--taints', 'gpu=true:NoSchedule'],
  'why-cordoned-': [],
  'why-small-': ['--cpu', '1'],
};
const GPU = 'why-gpu-0';
const CORDONED = 'why-cordoned-0';
const SMALL = 'why-small-0';

const TAINT = 'node(s) had untolerated taint {gpu: true}';
const SELECTOR = "node(s) didn't match Pod's node affinity/selector";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe('coxctl why-pending', { timeout: 3 * 60_000 }, () => {
  let home: string;
  let cluster: UpCluster;
  let cache: string;
  const hollow: ChildProcess[] = [];
  let hollowOut = '';
  const { kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache }));

  const coxctl = (args: string[]): Promise<Result> =>
    new Promise((resolve) => {
      execFile(process.execPath, [COXCTL, ...args], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const pod = (name: string, spec: Record<string, unknown>) =>
    cluster.client().create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }], ...spec } } as KubeObject, 'default');

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-why-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    for (const [prefix, flags] of Object.entries(HOLLOW)) {
      hollow.push(spawnHollowNodes(cluster.kubeconfig, ['--count', '1', '--prefix', prefix, '--labels', 'disk=ssd', ...flags], (t) => (hollowOut += t)));
    }
    await waitFor('3 hollow nodes Ready', async () => {
      const ready = await jp(['get', 'nodes', '-l', 'disk=ssd'], '{range .items[*]}{.status.conditions[?(@.type=="Ready")].status} {end}');
      return ready.split(' ').filter((s) => s === 'True').length === 3;
    }, 30_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}; hollow-nodes said:\n${hollowOut.slice(-2000)}`);
    });
    await kok(['cordon', CORDONED]);
  });

  after(async () => {
    for (const p of hollow) if (p.exitCode === null) p.kill('SIGKILL');
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('names every node with the plugin and reason that rejected the pod, and exits 0', async () => {
    await pod('big', { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { requests: { cpu: '2' } } }] });
    let last: Result | undefined;
    const r = await waitFor(
      'a recorded attempt that rejected all four nodes',
      async () => {
        last = await coxctl(['why-pending', 'big']);
        return last.code === 0 && /0\/4 nodes are available/.test(last.stdout) ? last : undefined;
      },
      30_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last answer: exit ${last?.code}\n${last?.stdout}${last?.stderr}`);
    });
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^Pod:\s+default\/big$/m);
    assert.match(r.stdout, /^Status:\s+Pending, PodScheduled=False \(Unschedulable\) for \d+s$/m);
    assert.match(r.stdout, /^Last Attempt:\s+on 4 nodes, same result since \d+s ago \(\S+\)$/m);
    assert.match(r.stdout, /^FailedScheduling:\s+0\/4 nodes are available: 1 Insufficient cpu, 1 node\(s\) didn't match Pod's node affinity\/selector, 1 node\(s\) had untolerated taint \{gpu: true\}, 1 node\(s\) were unschedulable\.$/m);
    const table = r.stdout.slice(r.stdout.indexOf('\nNODE ') + 1).trimEnd().split('\n');
    assert.deepEqual(
      table.map((l) => l.split(/\s{2,}/)),
      [
        ['NODE', 'PLUGIN', 'REASON'],
        [CORDONED, 'NodeUnschedulable', 'node(s) were unschedulable'],
        [GPU, 'TaintToleration', TAINT],
        [SMALL, 'NodeResourcesFit', 'Insufficient cpu'],
        [NODE, 'NodeAffinity', SELECTOR],
      ],
    );

    const d = await coxctl(['describe', 'pod', 'big']);
    assert.equal(d.code, 0, d.stderr);
    assert.doesNotMatch(d.stdout, /last-attempt=/, 'the record is shown decoded, not as raw JSON under Annotations');
    const section = d.stdout.slice(d.stdout.indexOf('\nScheduling:\n'));
    assert.match(section, /^ {2}Last Attempt:\s+on 4 nodes, same result since \d+s ago \(\S+\)$/m);
    for (const [plugin, reason, node] of [
      ['NodeAffinity', SELECTOR, NODE],
      ['NodeResourcesFit', 'Insufficient cpu', SMALL],
      ['NodeUnschedulable', 'node(s) were unschedulable', CORDONED],
      ['TaintToleration', TAINT, GPU],
    ]) {
      assert.ok(section.split('\n').some((l) => l.trim().split(/\s{2,}/).join('|') === ['1', plugin, reason, node].join('|')), `describe lists ${node} under ${plugin}:\n${section}`);
    }
  });

  it('says where a bound pod is; fails clearly for a missing pod and for one no scheduler has tried', async () => {
    await pod('placed', { nodeName: GPU, tolerations: [{ key: 'gpu', operator: 'Exists' }] });
    assert.deepEqual(await coxctl(['why-pending', 'placed']), { code: 0, stdout: 'pod default/placed is bound to node why-gpu-0\n', stderr: '' });

    const missing = await coxctl(['why-pending', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error from server (NotFound): pods "nope" not found\n');

    await pod('orphan', { schedulerName: 'nobody' });
    const untried = await coxctl(['why-pending', 'orphan', '-n', 'default']);
    assert.equal(untried.code, 1);
    assert.equal(untried.stdout, '');
    assert.match(untried.stderr, /^error: no scheduling attempt is recorded for pod default\/orphan \(annotation scheduler\.coxswain\.io\/last-attempt\), created \d+s ago; the scheduler "nobody" has not tried to place it yet, or is not running\n$/);
  });
});
