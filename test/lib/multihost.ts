/**
 * Coxswain hosts on a multi-host test bed (test/lib/bed.ts): `coxswain server`
 * and `coxswain agent` started inside a host's network namespace, as a user
 * would start them on a VM, with the host's own Docker engine.
 */
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Bed, BedHost } from './bed';
import { REPO } from './cluster';
import { waitFor } from './util';

const run = promisify(execFile);
export const COXSWAIN_BIN = path.join(REPO, 'bin/coxswain.js');

export interface HostNode {
  host: BedHost;
  role: 'server' | 'agent';
  home: string;
  proc: ChildProcess;
  output(): string;
  errors(): string;
  exited: Promise<number | null>;
  kubeconfig: string;
}

/** Starts `coxswain <role> --home <host dir>/home --node-name <host> --node-ip <ip> ...args` inside the host. */
export function startNode(bed: Bed, host: BedHost, role: 'server' | 'agent', args: string[] = []): HostNode {
  const home = path.join(host.dir, 'home');
  const proc = bed.spawn(host, process.execPath, [COXSWAIN_BIN, role, '--home', home, '--node-name', host.name, '--node-ip', host.ip, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { host, role, home, proc, output: () => out, errors: () => err, exited, kubeconfig: path.join(home, 'kubeconfig') };
}

/** Waits for the ready line; fails at once, with what the process said, if it exits first. */
export async function waitReady(n: HostNode, timeoutMs = 180_000): Promise<string> {
  let gone: number | null | undefined;
  void n.exited.then((c) => (gone = c));
  return waitFor(`${n.role} on ${n.host.name} to be ready`, () => {
    if (gone !== undefined) throw new Error(`${n.role} on ${n.host.name} exited with ${gone}: ${n.errors().trim()} ${n.output().trim()}`.slice(0, 2000));
    return n.output().split('\n').find((l) => l.startsWith(`coxswain: ${n.role} ready`));
  }, timeoutMs, 200);
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stopNode(n: HostNode, graceMs = 20_000): Promise<void> {
  if (n.proc.exitCode !== null || n.proc.signalCode !== null) return;
  n.proc.kill('SIGTERM');
  const t = setTimeout(() => n.proc.kill('SIGKILL'), graceMs);
  await n.exited;
  clearTimeout(t);
}

/** The real kubectl, from the root namespace (which reaches every host over the bed's bridge). */
export async function kubectl(kubeconfig: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const child = run('kubectl', ['--kubeconfig', kubeconfig, '--request-timeout=10s', ...args], { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 << 20 });
  if (opts.input !== undefined) child.child.stdin?.end(opts.input);
  try {
    return (await child).stdout;
  } catch (e) {
    const x = e as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(' ')}: ${x.stderr?.trim() || x.message}`);
  }
}

/** Names of the running containers of pods on a host's Docker engine, as `namespace/pod` → pod uid. */
export async function runningPods(host: BedHost): Promise<Map<string, string>> {
  const { stdout } = await run('docker', ['-H', host.dockerHost, 'ps', '--filter', 'label=io.kubernetes.pod.name', '--format', '{{.Label "io.kubernetes.pod.namespace"}}/{{.Label "io.kubernetes.pod.name"}} {{.Label "io.kubernetes.pod.uid"}}'], { timeout: 20_000 });
  const m = new Map<string, string>();
  for (const line of stdout.split('\n').filter(Boolean)) {
    const [name, uid] = line.split(' ');
    m.set(name, uid);
  }
  return m;
}
