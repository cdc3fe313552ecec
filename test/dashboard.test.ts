/**
 * `coxctl dashboard` end to end (issue 15, acceptance 2): the real coxctl binary
 * serves the UI for a whole `coxswain up` cluster (real kubelet and Docker, so
 * logs and exec are real), and headless Chromium (Debian's, driven by
 * playwright-core) uses it as a person would. Screenshots go to the folder the
 * test prints.
 *
 * Runs on its own ports, node name and CIDRs (dsh-node, 10.193.0.0/16,
 * 10.203.0.0/16) beside the other e2e tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ApiClient } from '../lib/client';
import { renderKubeconfig, loadKubeconfig, writeKubeconfig } from '../lib/kubeconfig';
import { COXCTL, coxctl, startUp, tearDownUp, type UpCluster } from './lib/up';
import { REPO } from './lib/cluster';
import { waitFor } from './lib/util';

const NODE = 'dsh-node';
const SERVICE_CIDR = '10.193.0.0/16';
const CLUSTER_CIDR = '10.203.0.0/16';
const NS = 'dsh';
const CHROMIUM = '/usr/bin/chromium';
const SCREENS = path.join(os.tmpdir(), `coxswain-dashboard-screens-${process.pid}`);

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: talker, namespace: ${NS}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.5; done"]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: web, image: "busybox:1.36", command: ["sleep", "3600"]}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: viewer, namespace: ${NS}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: viewer-view, namespace: ${NS}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: viewer, namespace: ${NS}}]
`;

interface Dashboard {
  proc: ChildProcess;
  url: string;
  port: number;
  output: () => string;
}

/** `coxctl dashboard --port 0 --no-open` with `kubeconfig`; resolves with the URL it prints. */
async function startDashboard(kubeconfig: string): Promise<Dashboard> {
  const proc = spawn(process.execPath, [COXCTL, 'dashboard', '--port', '0', '--no-open'], { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (c) => (out += c));
  proc.stderr!.on('data', (c) => (out += c));
  const url = await waitFor('coxctl dashboard to print its URL', () => {
    if (proc.exitCode !== null) throw new Error(`coxctl dashboard exited ${proc.exitCode}: ${out}`);
    return /Serving the dashboard for \S+ on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
  }, 20_000);
  return { proc, url, port: Number(new URL(url).port), output: () => out };
}

async function stopDashboard(d: Dashboard | undefined): Promise<void> {
  if (!d || d.proc.exitCode !== null) return;
  const exited = new Promise((r) => d.proc.once('exit', r));
  d.proc.kill('SIGINT');
  await exited;
}

/** A raw request to the dashboard with headers a browser on another site would send. */
function rawGet(port: number, pathName: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathName, headers, setHost: !('host' in headers) }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

const text = (page: Page, selector: string) => page.locator(selector).innerText();

describe('coxctl dashboard in headless Chromium', { skip: existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not installed`, timeout: 240_000 }, () => {
  let home: string;
  let cluster: UpCluster;
  let client: ApiClient;
  let dash: Dashboard;
  let browser: Browser;
  let page: Page;
  let shot = 0;
  const screenshot = async (name: string, p: Page = page) => {
    const file = path.join(SCREENS, `${String(++shot).padStart(2, '0')}-${name}.png`);
    await p.screenshot({ path: file, fullPage: true });
  };

  before(async () => {
    assert.ok(existsSync(path.join(REPO, 'dist/cli/dashboard/ui/main.js')), "the dashboard's bundle is missing: run `npm run build` (tsc, then scripts/bundle-dashboard.js)");
    mkdirSync(SCREENS, { recursive: true });
    console.log(`# dashboard screenshots: ${SCREENS}`);
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-dashboard-'));
    cluster = await startUp({ home: path.join(home, 'home'), nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: '31400-31500', readyTimeoutMs: 120_000 });
    client = cluster.client();
    await writeFile(path.join(home, 'manifests.yaml'), MANIFESTS);
    await coxctl(cluster.kubeconfig, ['apply', '-f', path.join(home, 'manifests.yaml')]);
    dash = await startDashboard(cluster.kubeconfig);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await stopDashboard(dash);
    await tearDownUp(cluster, path.join(home, 'home'), NODE, SERVICE_CIDR);
    if (home && !process.env.COXSWAIN_KEEP_TEST_DIRS) await rm(home, { recursive: true, force: true });
  });

  test('the overview lists nodes, pods and events as text in the page', async () => {
    await page.goto(dash.url);
    await waitFor('the node in the nodes table', async () => (await text(page, '#nodes')).includes(NODE), 30_000, 200);
    await waitFor('talker Running in the pods table', async () => /talker\s+1\/1\s+Running/.test(await text(page, '#pods')), 60_000, 300);
    await waitFor('an event in the events table', async () => /Scheduled|Pulled|Started|Created/.test(await text(page, '#events')), 30_000, 300);
    // Plain DOM text (no shadow roots): what a screen reader or a script reads.
    const body = await page.evaluate<string>('document.body.innerText');
    assert.match(body, new RegExp(`${NS}\\s+talker`));
    assert.equal(await page.evaluate<boolean>('[...document.querySelectorAll("*")].some((e) => e.shadowRoot)'), false);
    await screenshot('overview');
  });

  test('a pod created after the page loaded appears without a reload, and its Delete button deletes it', async () => {
    await page.evaluate('window.loadedOnce = true');
    await client.request('POST', `/api/v1/namespaces/${NS}/pods`, {
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'late-comer', namespace: NS }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }] } },
    });
    await waitFor('late-comer in the pods table', async () => (await text(page, '#pods')).includes('late-comer'), 20_000, 200);
    assert.equal(await page.evaluate<boolean>('window.loadedOnce === true'), true, 'the page was not reloaded');
    await screenshot('live-pod');
    // Its Delete button (after the confirmation) deletes it, and the row goes away.
    page.once('dialog', (d) => void d.accept());
    await page.locator('button[name="delete-pod-late-comer"]').click();
    await waitFor('late-comer gone from the API', async () => (await client.request('GET', `/api/v1/namespaces/${NS}/pods/late-comer`).then(() => false, (err: { code?: number }) => err.code === 404)), 30_000, 300);
    await waitFor('late-comer gone from the page', async () => !(await text(page, '#pods')).includes('late-comer'), 10_000, 200);
  });

  test("a pod's logs stream into the page", async () => {
    await page.goto(`${dash.url}#/pods/${NS}/talker/logs`);
    const first = await waitFor('a log line', async () => [...(await text(page, '#logs')).matchAll(/line (\d+)/g)].at(-1)?.[1], 30_000, 200);
    await waitFor('newer lines without a reload', async () => [...(await text(page, '#logs')).matchAll(/line (\d+)/g)].some((m) => Number(m[1]) >= Number(first) + 3), 20_000, 200);
    assert.match(await text(page, '#log-state'), /following/);
    await screenshot('logs');
  });

  test('the terminal runs a command in the container (exec over WebSocket)', async () => {
    await page.goto(`${dash.url}#/pods/${NS}/talker/exec`);
    await waitFor('the exec session', async () => /connected \(v5\.channel\.k8s\.io\)/.test(await text(page, '#exec-state')), 20_000, 200);
    await page.locator('#terminal').click();
    await page.keyboard.type('echo dashboard-$((6*7))\n');
    await waitFor('the answer in the terminal', async () => (await text(page, '#terminal .xterm-rows')).includes('dashboard-42'), 15_000, 200);
    await screenshot('terminal');
  });

  test('the scale button changes the replica count (and shows a refusal); restart sets restartedAt', async () => {
    await page.goto(`${dash.url}#/workloads`);
    const input = page.locator(`input[name="replicas-${NS}-web"]`);
    await waitFor('the web Deployment row', async () => (await input.count()) === 1, 20_000, 200);
    await waitFor('the scale button enabled by RBAC', () => page.locator(`button[name="scale-${NS}-web"]`).isEnabled(), 10_000, 200);
    // A value the apiserver refuses: its message appears in the page's alert.
    await input.fill('-1');
    await page.locator(`button[name="scale-${NS}-web"]`).click();
    await waitFor("the server's refusal in the alert", async () => (await page.locator('#error').count()) === 1 && /must be greater than or equal to 0/.test(await text(page, '#error')), 10_000, 200);
    await screenshot('scale-refused');
    await input.fill('2');
    await page.locator(`button[name="scale-${NS}-web"]`).click();
    await waitFor('spec.replicas 2 in the API', async () => (await client.request<{ spec: { replicas: number } }>('GET', `/apis/apps/v1/namespaces/${NS}/deployments/web`)).spec.replicas === 2, 10_000, 200);
    await waitFor('2/2 ready in the page', async () => /web\s+2\/2/.test(await text(page, '#deployments')), 60_000, 300);
    await screenshot('scaled');
    // Restart: the pod template's restartedAt annotation, as kubectl rollout restart sets it.
    await page.locator(`button[name="restart-${NS}-web"]`).click();
    await waitFor('the restartedAt annotation', async () => {
      const d = await client.request<{ spec: { template: { metadata?: { annotations?: Record<string, string> } } } }>('GET', `/apis/apps/v1/namespaces/${NS}/deployments/web`);
      return /^\d{4}-\d\d-\d\dT/.test(d.spec.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'] ?? '');
    }, 10_000, 200);
  });

  test('a view-only user sees the buttons disabled, and a refused call shows the server error', async () => {
    const token = (await client.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${NS}/serviceaccounts/viewer/token`, { body: { spec: { expirationSeconds: 3600 } } })).status.token;
    const admin = loadKubeconfig(cluster.kubeconfig);
    const kc = path.join(home, 'viewer.kubeconfig');
    await writeKubeconfig(kc, renderKubeconfig({ name: 'viewer', server: admin.server, ca: admin.ca!, token, user: 'viewer' }));
    const viewerDash = await startDashboard(kc);
    const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      // The viewer may not list across namespaces: the page says so, and works in its namespace.
      await p.goto(`${viewerDash.url}#/workloads`);
      await waitFor('the refusal to list all deployments', async () => /forbidden/i.test(await text(p, 'main')), 20_000, 200);
      await p.locator('input[name="namespace"]').fill(NS);
      await p.locator('input[name="namespace"]').press('Enter');
      const scale = p.locator(`button[name="scale-${NS}-web"]`);
      await waitFor('the web Deployment row', async () => (await scale.count()) === 1, 20_000, 200);
      // Disabled while the access review is asked, then with the answer as its title.
      await waitFor('the scale button disabled with the reason', async () => /you may not patch deployments\/scale/.test((await scale.getAttribute('title')) ?? ''), 10_000, 200);
      assert.equal(await scale.isEnabled(), false);
      const del = p.locator(`button[name="delete-${NS}-web"]`);
      await waitFor('the delete button disabled with the reason', async () => /you may not delete deployments/.test((await del.getAttribute('title')) ?? ''), 10_000, 200);
      assert.equal(await del.isEnabled(), false);
      // The same call made anyway (the page's own fetch) gets the apiserver's refusal.
      const refused = await p.evaluate<{ status: number; body: string }>(`fetch('/apis/apps/v1/namespaces/${NS}/deployments/web/scale', { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: '{"spec":{"replicas":5}}' })
        .then(async (r) => ({ status: r.status, body: await r.text() }))`);
      assert.equal(refused.status, 403);
      assert.match(refused.body, /cannot patch resource "deployments\/scale"|forbidden/);
      await screenshot('viewer', p);
    } finally {
      await p.close();
      await stopDashboard(viewerDash);
    }
  });

  test('requests from another site or host name are refused', async () => {
    const evilHost = await rawGet(dash.port, '/api/v1/pods', { host: `evil.example:${dash.port}` });
    assert.equal(evilHost.status, 403);
    assert.match(evilHost.body, /host "evil.example:\d+" is not one of/);
    const evilOrigin = await rawGet(dash.port, '/api/v1/pods', { origin: 'http://evil.example' });
    assert.equal(evilOrigin.status, 403);
    const crossSite = await rawGet(dash.port, '/api/v1/pods', { 'sec-fetch-site': 'cross-site' });
    assert.equal(crossSite.status, 403);
    const ws = await rawGet(dash.port, `/api/v1/namespaces/${NS}/pods/talker/exec?command=id&stdout=true`, {
      origin: 'http://evil.example', connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'v5.channel.k8s.io',
    }).catch((err: Error) => ({ status: 0, body: err.message }));
    assert.notEqual(ws.status, 101);
    const own = await rawGet(dash.port, '/api/v1/namespaces/dsh/pods', {});
    assert.equal(own.status, 200);
    assert.match(dash.output(), /refused GET \/api\/v1\/pods: host "evil.example/);
  });
});
