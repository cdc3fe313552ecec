/**
 * Test harness: a real control plane made of real processes on loopback.
 *
 *   const cp = await startControlPlane({ store: 'etcd' });   // or 'coxswain'
 *   cp.client  // ApiClient as cluster admin
 *   cp.kubeconfig  // admin kubeconfig path (for kubectl / coxctl)
 *   await cp.startComponent('controllers', ['--port', String(await freePort())]);
 *   await cp.stop();
 *
 * Every port is free-picked, every file lives in a temp folder, and stop()
 * kills every process it started (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiClient } from '../../lib/client';
import { renderKubeconfig, writeKubeconfig } from '../../lib/kubeconfig';
import { ensureClusterPki, pkiPaths, type ClusterPki, type KeyPairPem } from '../../lib/pki';
import { storeMemberFlags, type StoreMemberPorts } from '../../lib/store-members';
import { unmountUnder } from './docker';
import { freePort, waitFor } from './util';

export { freePort, waitFor };

export const REPO = path.resolve(__dirname, '../../..');
export const ENTRY = path.join(REPO, 'dist/cli/coxswain.js');

export interface Proc {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code/signal when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node dist/cli/coxswain.js <args>` (or any command) with output to a log file. */
export function startProcess(name: string, logDir: string, args: string[], opts: { command?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  const logFile = path.join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  // COXSWAIN_TEST_CPU_PROF_DIR: each Coxswain process writes a V8 CPU profile there when it exits (benchmarks' "where does the time go").
  const profDir = process.env.COXSWAIN_TEST_CPU_PROF_DIR;
  const prof = profDir && !opts.command ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${name}.${Date.now()}.cpuprofile`] : [];
  const child = spawn(opts.command ?? process.execPath, opts.command ? args : [...prof, ENTRY, ...args], {
    env: { ...process.env, COXSWAIN_LOG_LEVEL: process.env.COXSWAIN_LOG_LEVEL ?? 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { name, child, logFile, exited };
}

export async function stopProcess(p: Proc, graceMs = 5_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(t);
}

export interface StoreCluster {
  endpoints: string[];
  procs: Proc[];
  /** Each Coxswain store replica's /metrics URL (etcd: none). */
  metricsUrls?: string[];
}

/** Starts a single-member Debian etcd 3.4 on free ports. */
export async function startEtcd(dir: string): Promise<StoreCluster> {
  const client = await freePort();
  const peer = await freePort();
  const p = startProcess('etcd', dir, [
    '--name', 'e1',
    '--data-dir', path.join(dir, 'etcd-data'),
    '--listen-client-urls', `http://127.0.0.1:${client}`,
    '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `e1=http://127.0.0.1:${peer}`,
  ], { command: 'etcd' });
  return { endpoints: [`http://127.0.0.1:${client}`], procs: [p] };
}

/** Starts an n-replica Coxswain store, each replica its own process. */
export async function startCoxswainStore(dir: string, replicas = 3): Promise<StoreCluster> {
  const members: StoreMemberPorts[] = [];
  for (let i = 1; i <= replicas; i++) members.push({ name: `s${i}`, clientPort: await freePort(), peerPort: await freePort(), metricsPort: await freePort() });
  const procs = members.map((m) => startProcess(`store-${m.name}`, dir, ['store', ...storeMemberFlags(m, members, path.join(dir, 'store', m.name))]));
  return { endpoints: members.map((m) => `http://127.0.0.1:${m.clientPort}`), procs, metricsUrls: members.map((m) => `http://127.0.0.1:${m.metricsPort}/metrics`) };
}

export interface ControlPlane {
  dir: string;
  server: string;
  kubeconfig: string;
  pki: ClusterPki;
  client: ApiClient;
  store: StoreCluster;
  apiserver: Proc;
  /** The apiserver's audit log (JSON lines). */
  auditLog: string;
  /** Stops the apiserver process (SIGKILL when `kill`) and starts a new one on the same port; resolves when it is ready. */
  restartApiserver(opts?: { kill?: boolean; down?: () => Promise<void> }): Promise<void>;
  /** Kubeconfig path for a component (scheduler, controllers, kubelet, proxy). */
  componentKubeconfig(name: 'scheduler' | 'controllers' | 'kubelet' | 'proxy'): string;
  /** Flags that turn on a kubelet's API (gRPC, mutual TLS) on a free port, with this cluster's node certificate. */
  kubeletApiFlags(): Promise<string[]>;
  /** Starts `coxswain <component> --kubeconfig <its kubeconfig> ...args` as a process; stop() stops it. */
  startComponent(component: 'scheduler' | 'controllers' | 'kubelet' | 'proxy', args?: string[], name?: string): Proc;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  store?: 'etcd' | 'coxswain';
  replicas?: number;
  nodeName?: string;
  serviceCidr?: string;
  nodePortRange?: string;
  keepDir?: boolean;
  /** Extra apiserver flags (e.g. --token-auth-file). */
  apiserverArgs?: string[];
}

/** Starts a store (etcd or Coxswain's), an apiserver over HTTPS with fresh PKI, and writes kubeconfigs. */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-test-'));
  await mkdir(path.join(dir, 'kubeconfigs'), { recursive: true });
  const nodeName = opts.nodeName ?? 'test-node';
  const pki = await ensureClusterPki(dir, { nodeName });
  const store = opts.store === 'coxswain' ? await startCoxswainStore(dir, opts.replicas ?? 3) : await startEtcd(dir);
  const port = await freePort();
  const server = `https://127.0.0.1:${port}`;
  const paths = pkiPaths(dir);
  const auditLog = path.join(dir, 'audit.log');
  const apiserverArgs = [
    'apiserver',
    '--bind-address', '127.0.0.1',
    '--secure-port', String(port),
    '--tls-cert-file', paths.apiserver.cert,
    '--tls-private-key-file', paths.apiserver.key,
    '--client-ca-file', paths.ca.cert,
    '--store-endpoints', store.endpoints.join(','),
    '--service-cluster-ip-range', opts.serviceCidr ?? '10.96.0.0/12',
    '--service-node-port-range', opts.nodePortRange ?? '30000-32767',
    '--kubelet-client-certificate', paths.apiserverKubeletClient.cert,
    '--kubelet-client-key', paths.apiserverKubeletClient.key,
    '--kubelet-certificate-authority', paths.ca.cert,
    '--service-account-key-file', paths.serviceAccount.pub,
    '--service-account-signing-key-file', paths.serviceAccount.key,
    '--audit-log-path', auditLog,
    ...(opts.apiserverArgs ?? []),
  ];
  const apiserver = startProcess('apiserver', dir, apiserverArgs);
  const kc = (pair: KeyPairPem, user: string) => renderKubeconfig({ name: 'coxswain-test', server, ca: pki.ca.cert, cert: pair.cert, key: pair.key, user });
  const kubeconfig = path.join(dir, 'kubeconfig');
  await writeKubeconfig(kubeconfig, kc(pki.admin, 'admin'));
  const components = { scheduler: pki.scheduler, controllers: pki.controllers, kubelet: pki.kubelet, proxy: pki.proxy };
  for (const [name, pair] of Object.entries(components)) await writeKubeconfig(path.join(dir, 'kubeconfigs', `${name}.kubeconfig`), kc(pair, name));
  const client = new ApiClient({ server, ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key });
  const extra: Proc[] = [];
  const cp: ControlPlane = {
    dir,
    server,
    kubeconfig,
    pki,
    client,
    store,
    apiserver,
    auditLog,
    async restartApiserver(o = {}) {
      if (o.kill) { cp.apiserver.child.kill('SIGKILL'); await cp.apiserver.exited; } else await stopProcess(cp.apiserver);
      await o.down?.();
      cp.apiserver = startProcess('apiserver', dir, apiserverArgs);
      await waitFor('the restarted apiserver to answer /readyz', () => client.request('GET', '/readyz', { timeoutMs: 2000 }).then(() => true), 60_000);
    },
    componentKubeconfig: (name) => path.join(dir, 'kubeconfigs', `${name}.kubeconfig`),
    kubeletApiFlags: async () => [
      '--port', String(await freePort()),
      '--tls-cert-file', paths.kubelet(nodeName).cert,
      '--tls-private-key-file', paths.kubelet(nodeName).key,
      '--client-ca-file', paths.ca.cert,
    ],
    startComponent(component, args = [], name = component) {
      const p = startProcess(name, dir, [component, '--kubeconfig', cp.componentKubeconfig(component), ...args]);
      extra.push(p);
      return p;
    },
    async stop() {
      client.close();
      for (const p of extra.reverse()) await stopProcess(p);
      await stopProcess(cp.apiserver);
      await Promise.all(store.procs.map((p) => stopProcess(p)));
      await unmountUnder(dir);
      if (!opts.keepDir && !process.env.COXSWAIN_KEEP_TEST_DIRS) await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor('the apiserver to answer /readyz', () => client.request('GET', '/readyz', { timeoutMs: 2000 }).then(() => true), 60_000);
  } catch (err) {
    await cp.stop().catch(() => undefined);
    throw err;
  }
  return cp;
}
