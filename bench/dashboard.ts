/**
 * bench:dashboard — how long `coxctl dashboard` takes to show a cluster of 500
 * Running pods (issue 15, acceptance 3), next to the command-line baseline in
 * the same run.
 *
 * Setup: etcd, an apiserver, the scheduler and `coxswain hollow-nodes` (10
 * nodes), so 500 pods become Running without Docker. Then, RUNS times each:
 * - dashboard first render: a fresh headless Chromium page (no cache) opens the
 *   dashboard's overview; measured from navigation start to the moment the pods
 *   table holds every pod as text (performance.now() in the page), and from
 *   page.goto() as the test harness sees it;
 * - `kubectl get pods -A` and `coxctl get pods -A` for the same pods (process
 *   start to exit, output to /dev/null).
 * Also: the bundle's size, and how long a new pod takes to appear in an open page.
 *
 *   npm run bench:dashboard           # PODS=500 RUNS=10 NODES=10
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { chromium } from 'playwright-core';
import type { KubeObject } from '../lib/client';
import { NODES, PODS } from '../lib/resources';
import { REPO, freePort, startControlPlane, startProcess, stopProcess, type Proc } from '../test/lib/cluster';
import { emit, envInt, machineLoad, note, round, sleep, sourceRevision, summarize, table, waitQuiet } from './lib/report';

const POD_COUNT = envInt('PODS', 500);
const RUNS = envInt('RUNS', 10);
const NODE_COUNT = envInt('NODES', 10);
const NS = 'bench-dash';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const UI_DIR = path.join(REPO, 'dist/cli/dashboard/ui');

/** The few browser globals the page functions use (this file is compiled without the DOM types). */
interface PageGlobals {
  document: { querySelectorAll(s: string): ArrayLike<{ textContent: string }>; querySelector(s: string): unknown };
  performance: { now(): number };
}

/** Wall milliseconds of one command run, output discarded; throws on a non-zero exit. */
function timeCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c) => (err += c));
    p.on('exit', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

function bundleSize(): { files: number; bytes: number; gzipBytes: number; firstLoadBytes: number; firstLoadGzipBytes: number } {
  const files = readdirSync(UI_DIR).filter((f) => /^(main\.|chunk-|index\.html)/.test(f) && /\.(js|css|html)$/.test(f));
  const index = readFileSync(path.join(UI_DIR, 'index.html'), 'utf8');
  const main = readFileSync(path.join(UI_DIR, 'main.js'), 'utf8');
  // What the overview loads: index.html, what it links, and the chunks main.js imports statically.
  const first = new Set(['index.html', ...[...index.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]!), ...[...main.matchAll(/from"\.\/(chunk-[A-Z0-9]+\.js)"/g)].map((m) => m[1]!)]);
  let bytes = 0;
  let gzipBytes = 0;
  let firstLoadBytes = 0;
  let firstLoadGzipBytes = 0;
  for (const f of files) {
    const b = readFileSync(path.join(UI_DIR, f));
    const gz = gzipSync(b).length;
    bytes += statSync(path.join(UI_DIR, f)).size;
    gzipBytes += gz;
    if (first.has(f)) {
      firstLoadBytes += b.length;
      firstLoadGzipBytes += gz;
    }
  }
  return { files: files.length, bytes, gzipBytes, firstLoadBytes, firstLoadGzipBytes };
}

async function main(): Promise<void> {
  const quiet = await waitQuiet();
  const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  emit({ bench: 'dashboard', kind: 'machine', ...machineLoad(), cpu: os.cpus()[0]?.model, memGiB: round(os.totalmem() / 2 ** 30, 1), quiet, node: process.version, revision: sourceRevision(), pods: POD_COUNT, nodes: NODE_COUNT, runs: RUNS });
  const size = bundleSize();
  emit({ bench: 'dashboard', scenario: 'bundle', system: 'coxswain', ...size });
  note(`bundle: ${size.files} files, ${round(size.bytes / 1024, 1)} KiB (${round(size.gzipBytes / 1024, 1)} KiB gzip); the overview loads ${round(size.firstLoadBytes / 1024, 1)} KiB (${round(size.firstLoadGzipBytes / 1024, 1)} KiB gzip)`);
  note('starting etcd, the apiserver, the scheduler and hollow nodes');
  const cp = await startControlPlane({ store: 'etcd', serviceCidr: '10.179.0.0/16' });
  const procs: Proc[] = [];
  let dashboard: ReturnType<typeof spawn> | undefined;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    procs.push(cp.startComponent('scheduler', ['--port', String(await freePort())]));
    procs.push(startProcess('hollow', cp.dir, ['hollow-nodes', '--kubeconfig', cp.kubeconfig, '--count', String(NODE_COUNT), '--prefix', 'dash-', '--pods', '110', '--lease-renew-interval', '10s', '--lease-duration-seconds', '40'], { env: { COXSWAIN_LOG_LEVEL: 'warn' } }));
    const t0 = Date.now();
    while ((await cp.client.list<Node & KubeObject>(NODES)).items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length < NODE_COUNT) {
      if (Date.now() - t0 > 120_000) throw new Error('hollow nodes not Ready within 2 minutes');
      await sleep(300);
    }
    await cp.client.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });
    const names = Array.from({ length: POD_COUNT }, (_, i) => `p-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(
        names.slice(i, i + 25).map((name) =>
          cp.client.request('POST', `/api/v1/namespaces/${NS}/pods`, { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { app: 'bench' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } }),
        ),
      );
    }
    const t1 = Date.now();
    for (;;) {
      const running = (await cp.client.list<Pod & KubeObject>(PODS, { namespace: NS })).items.filter((p) => p.status?.phase === 'Running').length;
      if (running >= POD_COUNT) break;
      if (Date.now() - t1 > 180_000) throw new Error(`only ${running} of ${POD_COUNT} pods Running after 3 minutes`);
      await sleep(500);
    }
    note(`${POD_COUNT} pods Running on ${NODE_COUNT} hollow nodes`);

    dashboard = spawn(process.execPath, [path.join(REPO, 'bin/coxctl.js'), 'dashboard', '--port', '0', '--no-open'], { env: { ...process.env, KUBECONFIG: cp.kubeconfig }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    dashboard.stdout!.on('data', (c) => (out += c));
    const t2 = Date.now();
    let url: string | undefined;
    while (!(url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1])) {
      if (Date.now() - t2 > 20_000) throw new Error(`coxctl dashboard printed no URL: ${out}`);
      await sleep(50);
    }
    const total = POD_COUNT;
    const render: number[] = [];
    const renderWall: number[] = [];
    const appear: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const w0 = Date.now();
      await page.goto(url);
      // The page's own clock: navigation start to the pods table holding every pod as text.
      // (Functions, not strings: the page's Content-Security-Policy forbids eval.)
      const inPage = await page.waitForFunction(
        (want: number) => {
          const { document, performance } = globalThis as unknown as PageGlobals;
          const rows = Array.from(document.querySelectorAll('#pods tbody tr'));
          return rows.filter((r) => r.textContent.includes('Running')).length >= want ? performance.now() : 0;
        },
        total,
        { timeout: 60_000, polling: 'raf' },
      );
      renderWall.push(Date.now() - w0);
      render.push(Number(await inPage.jsonValue()));
      // A pod created now, to its row in the open page.
      const name = `late-${i}`;
      const a0 = Date.now();
      await cp.client.request('POST', `/api/v1/namespaces/${NS}/pods`, { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } });
      await page.waitForFunction((key: string) => (globalThis as unknown as PageGlobals).document.querySelector(`#pods tbody tr[data-key="${key}"]`) !== null, `${NS}/${name}`, { timeout: 30_000, polling: 'raf' });
      appear.push(Date.now() - a0);
      await context.close();
      await cp.client.request('DELETE', `/api/v1/namespaces/${NS}/pods/${name}`, { query: { gracePeriodSeconds: 0 } });
    }
    const env = { KUBECONFIG: cp.kubeconfig };
    const kubectl: number[] = [];
    const coxctl: number[] = [];
    const cache = path.join(cp.dir, 'kube-cache');
    for (let i = 0; i < RUNS; i++) {
      if (hasKubectl) kubectl.push(await timeCommand('kubectl', ['--cache-dir', cache, 'get', 'pods', '-A'], env));
      coxctl.push(await timeCommand(process.execPath, [path.join(REPO, 'bin/coxctl.js'), 'get', 'pods', '-A'], env));
    }
    const rows: [string, number[]][] = [
      [`dashboard first render, ${total} pods (in page, navigation start → table complete)`, render],
      ['dashboard first render (harness: page.goto → table complete)', renderWall],
      ['new pod → its row in the open page', appear],
      ...(hasKubectl ? ([[`kubectl get pods -A (${total} pods, process start → exit)`, kubectl]] as [string, number[]][]) : []),
      [`coxctl get pods -A (${total} pods)`, coxctl],
    ];
    for (const [scenario, samples] of rows) emit({ bench: 'dashboard', scenario, system: scenario.startsWith('kubectl') ? 'kubectl' : 'coxswain', pods: total, ...summarize(samples) });
    table(`Dashboard with ${total} Running pods on ${NODE_COUNT} hollow nodes, ${RUNS} runs each (revision ${sourceRevision()})`, [
      ['measure', 'p50 ms', 'p90 ms', 'max ms'],
      ...rows.map(([s, samples]) => {
        const x = summarize(samples);
        return [s, x.p50Ms, x.p90Ms, x.maxMs];
      }),
    ]);
  } finally {
    await browser.close().catch(() => undefined);
    if (dashboard && dashboard.exitCode === null) {
      const exited = new Promise((r) => dashboard!.once('exit', r));
      dashboard.kill('SIGINT');
      await exited;
    }
    for (const p of procs.reverse()) await stopProcess(p);
    await cp.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
