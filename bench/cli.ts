/**
 * bench:cli — how fast coxctl starts and answers, next to kubectl: `get pods` (20 pods in the
 * namespace) against one control plane (etcd + apiserver over HTTPS), each command run
 * COXSWAIN_BENCH_CLI_RUNS times (default 20) after two warm-up runs, wall time from spawn to
 * exit. Also `coxctl --help` (no cluster: start-up alone) and `node -e 0` (the floor any Node
 * program pays). kubectl is `kubectl` on PATH (COXSWAIN_BENCH_KUBECTL overrides), with a warm
 * discovery cache, as a user's would be. COXSWAIN_BENCH_CLI_BASELINE=path/to/bin/coxctl.js adds another
 * build (e.g. main's) for a before/after.
 *
 *   npm run bench:cli
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeObject } from '../lib/client';
import { PODS } from '../lib/resources';
import { REPO, startControlPlane, type ControlPlane } from '../test/lib/cluster';
import { emit, envInt, machineLoad, note, sourceRevision, summarize, table, waitQuiet } from './lib/report';

const COXCTL = path.join(REPO, 'bin/coxctl.js');

/** Runs a command to completion and resolves with its wall time in ms; rejects on a non-zero exit. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c) => (err += c));
    p.on('error', reject);
    p.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`));
    });
  });
}

async function measure(name: string, runs: number, cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ name: string; samples: number[] }> {
  for (let i = 0; i < 2; i++) await timed(cmd, args, env);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await timed(cmd, args, env));
  return { name, samples };
}

async function main(): Promise<void> {
  const runs = envInt('COXSWAIN_BENCH_CLI_RUNS', 20);
  const kubectl = process.env.COXSWAIN_BENCH_KUBECTL || 'kubectl';
  let cp: ControlPlane | undefined;
  try {
    emit({ bench: 'cli', kind: 'machine', ...(await waitQuiet()), nproc: machineLoad().nproc, cpu: os.cpus()[0]?.model, node: process.version, revision: sourceRevision() });
    cp = await startControlPlane({ store: 'etcd' });
    for (let i = 0; i < 20; i++) {
      await cp.client.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } as KubeObject, 'default');
    }
    const env = { ...process.env, KUBECONFIG: cp.kubeconfig };
    const cache = mkdtempSync(path.join(os.tmpdir(), 'bench-cli-kubectl-'));
    const results = [
      await measure('node -e 0', runs, process.execPath, ['-e', '0'], env),
      await measure('coxctl --help', runs, process.execPath, [COXCTL, '--help'], env),
      await measure('coxctl get pods', runs, process.execPath, [COXCTL, 'get', 'pods'], env),
      await measure('kubectl get pods', runs, kubectl, ['--kubeconfig', cp.kubeconfig, '--cache-dir', cache, 'get', 'pods'], env),
    ];
    const baseline = process.env.COXSWAIN_BENCH_CLI_BASELINE;
    if (baseline) results.push(await measure('coxctl get pods (baseline)', runs, process.execPath, [baseline, 'get', 'pods'], env));
    const direct = '/usr/lib/google-cloud-sdk/bin/kubectl.1.32';
    if (!process.env.COXSWAIN_BENCH_KUBECTL && existsSync(direct)) {
      results.push(await measure('kubectl.1.32 get pods', runs, direct, ['--kubeconfig', cp.kubeconfig, '--cache-dir', cache, 'get', 'pods'], env));
    }
    const rows: (string | number)[][] = [['command', 'p50 ms', 'p90 ms', 'min ms', 'max ms']];
    for (const r of results) {
      const s = summarize(r.samples);
      emit({ bench: 'cli', scenario: r.name, system: r.name.startsWith('kubectl') ? 'kubectl' : r.name.startsWith('node') ? 'node' : 'coxctl', runs, ...s, minMs: Math.min(...r.samples) });
      rows.push([r.name, s.p50Ms, s.p90Ms, Math.min(...r.samples), s.maxMs]);
    }
    table(`coxctl vs kubectl start-up (${runs} runs each, load ${machineLoad().loadavg.join(' ')})`, rows);
  } finally {
    await cp?.stop().catch((err) => note(`stopping the control plane: ${err}`));
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
