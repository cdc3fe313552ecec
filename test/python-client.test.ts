/**
 * The official Kubernetes Python client (Debian's python3-kubernetes) against a
 * whole `coxswain up` cluster: list, create, watch, logs, patch, scale and
 * delete, as test/python/client_scenario.py does them. The client sends boolean
 * query parameters as Python prints them (`watch=True`), which the apiserver must
 * read as Kubernetes does (only absent, `0` and `false` are false).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './lib/cluster';
import { startUp, tearDownUp, type UpCluster } from './lib/up';

const NODE = 'python-node';
const SERVICE_CIDR = '10.124.0.0/16';
const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(REPO, 'test/python/client_scenario.py');

interface Step {
  step: string;
  [field: string]: unknown;
}

function runScenario(kubeconfig: string, ns: string): Promise<{ code: number; steps: Step[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, [SCRIPT, kubeconfig, ns], { timeout: 5 * 60_000 }, (err, stdout, stderr) => {
      const steps = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Step);
      resolve({ code: err ? 1 : 0, steps, stderr });
    });
  });
}

describe('the official Python client: list, create, watch, logs, patch, scale, delete', { timeout: 8 * 60_000 }, () => {
  let home: string;
  let cluster: UpCluster;
  let result: { code: number; steps: Step[]; stderr: string };
  const step = (name: string): Step => {
    const s = result.steps.find((x) => x.step === name);
    assert.ok(s, `the scenario reached "${name}" (exit ${result.code}): ${result.stderr.slice(-2000)}`);
    return s;
  };

  before(async () => {
    assert.ok(existsSync(PYTHON), `${PYTHON} exists (Debian's python3-kubernetes is installed for it)`);
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-python-'));
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: '10.254.0.0/16', nodePortRange: '31700-31799' });
    result = await runScenario(cluster.kubeconfig, 'py');
  });

  after(() => tearDownUp(cluster, home, NODE, SERVICE_CIDR));

  it('reads the version and lists nodes and namespaces', () => {
    assert.match(String(step('version').gitVersion), /^v1\.\d+/);
    const list = step('list');
    assert.deepEqual(list.nodes, [NODE]);
    assert.ok((list.namespaces as string[]).includes('default'));
  });

  it('creates a Deployment', () => {
    assert.deepEqual(step('create'), { step: 'create', deployment: 'talker', uid: true });
  });

  it('watches pods (watch=True) until one runs', () => {
    const w = step('watch');
    assert.ok((w.types as string[]).includes('ADDED'), `watch events: ${JSON.stringify(w.types)}`);
    assert.match(String(w.running), /^talker-/);
  });

  it("reads the pod's logs", () => {
    assert.match(String(step('logs').text), /hello from python-made pod/);
  });

  it('patches a ConfigMap and a Deployment', () => {
    const p = step('patch');
    assert.deepEqual(p.data, { mode: 'loud', extra: '1' });
    assert.equal((p.labels as Record<string, string>).tier, 'demo');
  });

  it('scales through /scale and the pods follow', () => {
    assert.deepEqual(step('scale'), { step: 'scale', specReplicas: 2, readyReplicas: 2 });
  });

  it('deletes, and a deleted object reads 404', () => {
    assert.deepEqual(step('delete'), { step: 'delete', configMapStatus: 404 });
    assert.equal(result.code, 0, result.stderr);
  });
});
