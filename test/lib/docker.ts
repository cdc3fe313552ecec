import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { bridgeNameFor, removeBridge } from '../../kubelet/pod-network';
import { mountsUnder } from '../../kubelet/volumes';

const run = promisify(execFile);

/** Runs a command and returns its stdout; rejects with stderr in the message. */
export async function sh(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
  try {
    const r = await run(cmd, args, { timeout: opts.timeoutMs ?? 60_000, env: { ...process.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024 });
    return r.stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** IDs of the containers (running or not) carrying every given label (`key=value`). */
export async function containersWithLabels(labels: string[], all = true): Promise<string[]> {
  const args = ['ps', '-q', '--no-trunc', ...(all ? ['-a'] : []), ...labels.flatMap((l) => ['--filter', `label=${l}`])];
  return (await sh('docker', args)).split('\n').filter(Boolean);
}

/** Force-removes containers, then the kubelet pod networks (bridges) of the given names; ignores what is already gone. */
export async function dockerCleanup(containers: string[], networks: string[] = []): Promise<void> {
  if (containers.length) await sh('docker', ['rm', '-f', ...containers]).catch(() => undefined);
  for (const n of networks) await removeBridge(bridgeNameFor(n));
}

/** A random 10.250.x.0/24 that no Docker network on this engine and no interface of this host uses (for a test's pod network). */
export async function pickFreeSubnet(docker: Docker = new Docker()): Promise<string> {
  const used = new Set<string>();
  for (const n of await docker.listNetworks()) {
    const info = (await docker.getNetwork(n.Id).inspect()) as Docker.NetworkInspectInfo;
    for (const c of info.IPAM?.Config ?? []) if (c.Subnet) used.add(c.Subnet);
  }
  for (const line of (await sh('ip', ['-4', '-o', 'addr'])).split('\n')) {
    const m = /inet (\d+)\.(\d+)\.(\d+)\.\d+\/24/.exec(line);
    if (m) used.add(`${m[1]}.${m[2]}.${m[3]}.0/24`);
  }
  for (let tries = 0; tries < 500; tries++) {
    const cidr = `10.250.${1 + Math.floor(Math.random() * 254)}.0/24`;
    if (!used.has(cidr)) return cidr;
  }
  throw new Error('no free 10.250.x.0/24 subnet');
}

/**
 * Unmounts every mount point under `dir`, deepest first (the kubelet puts Secret and projected
 * volumes, such as every pod's ServiceAccount token, on tmpfs; a kubelet stopped with pods
 * still on it leaves them mounted, and removing the test's folder would fail with EBUSY).
 */
export async function unmountUnder(dir: string): Promise<void> {
  for (const m of await mountsUnder(dir)) await sh('umount', ['-l', m]).catch(() => undefined);
}
