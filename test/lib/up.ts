/**
 * Runs `coxswain up` as a user would (the real bin, real child processes), on
 * ports and address ranges of its own so it can run beside another cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { ApiClient } from '../../lib/client';
import { inCidr, parseCidr } from '../../lib/ipv4';
import { loadKubeconfig } from '../../lib/kubeconfig';
import { freePort, REPO } from './cluster';
import { containersWithLabels, dockerCleanup, sh, unmountUnder } from './docker';
import { removePodTmpfs } from './kubelet-harness';

export interface UpCluster {
  home: string;
  nodeName: string;
  kubeconfig: string;
  storeEndpoints: string[];
  proc: ChildProcess;
  /** The ports it was started with (the Ingress server's among them). */
  ports: UpPorts;
  /** Everything `coxswain up` printed on stdout so far. */
  output(): string;
  /** Seconds from spawn to the ready line. */
  readySeconds: number;
  client(): ApiClient;
  /** Ctrl-C: SIGINT, then waits for `up` to exit. */
  interrupt(timeoutMs?: number): Promise<number | null>;
}

export interface UpOptions {
  home: string;
  nodeName: string;
  serviceCidr: string;
  clusterCidr: string;
  nodePortRange: string;
  /** Reuse these ports (a restart must keep the store's addresses). */
  ports?: UpPorts;
  readyTimeoutMs?: number;
  /** More `coxswain up` flags (e.g. --dns-upstream). */
  extraArgs?: string[];
}

export interface UpPorts {
  storeClient: number[];
  storePeer: number[];
  /** The store replicas' /metrics ports (picked when absent). */
  storeMetrics?: number[];
  apiserver: number;
  scheduler: number;
  controllers: number;
  kubelet: number;
  /** The kubelet API (gRPC); absent in port sets saved before it existed: a free one is picked. */
  kubeletApi?: number;
  proxy: number;
  /** The proxy's Ingress ports (a dev machine may have :80 taken); absent in older port sets: free ones are picked. */
  ingressHttp?: number;
  ingressHttps?: number;
}

export async function pickUpPorts(): Promise<UpPorts> {
  const n = async (k: number) => {
    const out: number[] = [];
    for (let i = 0; i < k; i++) out.push(await freePort());
    return out;
  };
  return {
    storeClient: await n(3),
    storePeer: await n(3),
    apiserver: await freePort(),
    scheduler: await freePort(),
    controllers: await freePort(),
    kubelet: await freePort(),
    kubeletApi: await freePort(),
    proxy: await freePort(),
    ingressHttp: await freePort(),
    ingressHttps: await freePort(),
  };
}

export const COXCTL = path.join(REPO, 'bin/coxctl.js');
export const COXSWAIN = path.join(REPO, 'bin/coxswain.js');

/** Runs coxctl against a kubeconfig; resolves with stdout, rejects with stderr. */
export function coxctl(kubeconfig: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [COXCTL, ...args], { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (err += c));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`coxctl ${args.join(' ')} exited ${code}: ${err.trim()}`))));
    p.stdin.end(input ?? '');
  });
}

/** PIDs of live processes whose command line contains `needle`. */
export function pidsMatching(needle: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle) && Number(d) !== process.pid) pids.push(Number(d));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

async function freePorts(k: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(await freePort());
  return out;
}

export async function startUp(o: UpOptions): Promise<UpCluster> {
  const ports = o.ports ?? (await pickUpPorts());
  const args = [
    COXSWAIN, 'up',
    '--home', o.home,
    '--node-name', o.nodeName,
    '--store-client-ports', ports.storeClient.join(','),
    '--store-peer-ports', ports.storePeer.join(','),
    '--store-metrics-ports', (ports.storeMetrics ??= await freePorts(ports.storeClient.length)).join(','),
    '--apiserver-port', String(ports.apiserver),
    '--scheduler-port', String(ports.scheduler),
    '--controllers-port', String(ports.controllers),
    '--kubelet-healthz-port', String(ports.kubelet),
    '--kubelet-port', String(ports.kubeletApi ?? (ports.kubeletApi = await freePort())),
    '--proxy-port', String(ports.proxy),
    '--ingress-http-port', String(ports.ingressHttp ?? (ports.ingressHttp = await freePort())),
    '--ingress-https-port', String(ports.ingressHttps ?? (ports.ingressHttps = await freePort())),
    '--service-cidr', o.serviceCidr,
    '--cluster-cidr', o.clusterCidr,
    '--node-port-range', o.nodePortRange,
    ...(o.extraArgs ?? []),
  ];
  const t0 = Date.now();
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  let out = '';
  proc.stdout!.on('data', (c) => (out += c));
  proc.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const timeout = o.readyTimeoutMs ?? 90_000;
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (/cluster ready/.test(out)) {
        clearInterval(t);
        resolve();
      } else if (proc.exitCode !== null || Date.now() - t0 > timeout) {
        clearInterval(t);
        proc.kill('SIGINT');
        reject(new Error(`coxswain up was not ready within ${timeout} ms; output:\n${out}`));
      }
    }, 100);
  });
  const readySeconds = (Date.now() - t0) / 1000;
  const kubeconfig = path.join(o.home, 'kubeconfig');
  return {
    home: o.home,
    nodeName: o.nodeName,
    kubeconfig,
    storeEndpoints: ports.storeClient.map((p) => `127.0.0.1:${p}`),
    ports,
    proc,
    output: () => out,
    readySeconds,
    client: () => new ApiClient(loadKubeconfig(kubeconfig)),
    async interrupt(timeoutMs = 30_000) {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGINT');
      const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(t);
      await unmountUnder(o.home);
      return code;
    },
  };
}

/** The replica name (s1, s2, ...) of the current store leader, asked with the real etcdctl. */
export async function storeLeader(endpoints: string[]): Promise<{ name: string; endpoint: string }> {
  const out = await sh('etcdctl', ['--endpoints', endpoints.join(','), '--command-timeout=2s', 'endpoint', 'status', '-w', 'json'], { env: { ETCDCTL_API: '3' }, timeoutMs: 10_000 });
  const statuses = JSON.parse(out) as { Endpoint: string; Status: { header: { member_id: number | string }; leader: number | string } }[];
  const leader = statuses.find((s) => String(s.Status.header.member_id) === String(s.Status.leader));
  if (!leader) throw new Error(`no store leader in ${out}`);
  const idx = endpoints.findIndex((e) => leader.Endpoint.endsWith(e) || e.endsWith(leader.Endpoint.replace(/^https?:\/\//, '')));
  if (idx < 0) throw new Error(`leader endpoint ${leader.Endpoint} is not one of ${endpoints.join(',')}`);
  return { name: `s${idx + 1}`, endpoint: endpoints[idx] };
}

/**
 * Stops a `coxswain up` cluster a test started and removes what it leaves on the
 * host: stray processes under `home`, the node's containers and network, the
 * tmpfs token volumes of pods still on the node (the kubelet removes them only
 * with the pod), the Service addresses on `lo` and, unless
 * COXSWAIN_KEEP_TEST_DIRS is set, `home` itself.
 */
export async function tearDownUp(cluster: UpCluster | undefined, home: string, nodeName: string, serviceCidr: string): Promise<void> {
  await cluster?.interrupt().catch(() => undefined);
  for (const pid of pidsMatching(home)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const label = `coxswain.node=${nodeName}`;
  const uids = (await sh('docker', ['ps', '-a', '--filter', `label=${label}`, '--format', '{{.Label "io.kubernetes.pod.uid"}}']).catch(() => '')).split('\n').filter(Boolean);
  await dockerCleanup(await containersWithLabels([label]).catch(() => []), [`coxswain-${nodeName}`]);
  await removePodTmpfs(uids).catch(() => undefined);
  const cidr = parseCidr(serviceCidr);
  for (const line of (await sh('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo']).catch(() => '')).split('\n')) {
    const m = /inet (\S+)\/32/.exec(line);
    if (m && cidr && inCidr(m[1]!, cidr)) await sh('ip', ['addr', 'del', `${m[1]}/32`, 'dev', 'lo']).catch(() => undefined);
  }
  if (!process.env.COXSWAIN_KEEP_TEST_DIRS) await rm(home, { recursive: true, force: true });
}

/**
 * `coxswain hollow-nodes` with `flags` against `kubeconfig`, deleting its nodes when stopped;
 * its stdout and stderr go to `onOutput` (else nowhere).
 */
export function spawnHollowNodes(kubeconfig: string, flags: string[], onOutput?: (text: string) => void): ChildProcess {
  const out = onOutput ? 'pipe' : 'ignore';
  const p = spawn(process.execPath, [COXSWAIN, 'hollow-nodes', ...flags, '--kubeconfig', kubeconfig, '--delete-nodes'], { stdio: ['ignore', out, out] });
  p.stdout?.on('data', (c) => onOutput?.(String(c)));
  p.stderr?.on('data', (c) => onOutput?.(String(c)));
  return p;
}
