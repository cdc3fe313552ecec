/**
 * One dockerd per bed host, started inside the host's network namespace with every path of its
 * own under the host's folder (data root, exec root with its containerd, socket, pid file, an
 * empty daemon.json so /etc/docker/daemon.json never applies), and the bed's images loaded from
 * a tar that is saved from the root Docker engine once and cached by image ID.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { alive, endProcesses, must, run } from './bed-run';
import { waitFor } from './util';

export const DEFAULT_IMAGES = ['busybox:1.36', 'registry.k8s.io/pause:3.10'];

/** Where the saved image tars are kept between runs. */
const IMAGE_CACHE = '/tmp/coxswain-bed-images';

/** Paths of one host's dockerd, all under `dir`. */
export function dockerdPaths(dir: string) {
  return {
    dataRoot: path.join(dir, 'docker'),
    execRoot: path.join(dir, 'exec'),
    socket: path.join(dir, 'docker.sock'),
    pidFile: path.join(dir, 'docker.pid'),
    config: path.join(dir, 'daemon.json'),
    log: path.join(dir, 'dockerd.log'),
  };
}

/**
 * A tar of `images` saved from the root Docker engine, reused while their image IDs are the
 * same. Throws naming the image when the root engine does not have it.
 */
export async function imageTar(images: string[]): Promise<string> {
  const ids: string[] = [];
  for (const image of images) {
    const r = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', image]);
    if (r.code !== 0) throw new Error(`bed image ${image} is not in the root Docker engine (seed it with: npm run images:offline): ${r.stderr.trim()}`);
    ids.push(r.stdout.trim());
  }
  const key = createHash('sha256').update(images.map((im, i) => `${im}=${ids[i]}`).join('\n')).digest('hex').slice(0, 16);
  const tar = path.join(IMAGE_CACHE, `${key}.tar`);
  if (existsSync(tar)) return tar;
  mkdirSync(IMAGE_CACHE, { recursive: true });
  const partial = `${tar}.${process.pid}.partial`;
  await must('docker', ['save', '-o', partial, ...images], { timeoutMs: 300_000 });
  renameSync(partial, tar);
  return tar;
}

/** Resolves true when a Docker engine answers GET /_ping on the unix socket. */
function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * Starts dockerd inside `netns` (detached, so it outlives a CLI that starts it), waits until it
 * answers, and returns its pid. `bip` is its docker0 address (a /24 distinct per host).
 */
export async function startDockerd(netns: string, dir: string, bip: string): Promise<number> {
  if (existsSync('/run/containerd/containerd.sock')) {
    // dockerd 20.10 uses a running system containerd instead of its own: every bed host would
    // share it, and containers with host networking would land in the root namespace.
    throw new Error('a system containerd runs (/run/containerd/containerd.sock): the bed needs a containerd per dockerd; stop the system one first');
  }
  const p = dockerdPaths(dir);
  mkdirSync(dir, { recursive: true });
  writeFileSync(p.config, '{}\n');
  const log = openSync(p.log, 'a');
  const child = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', 'dockerd',
    '--config-file', p.config, '--data-root', p.dataRoot, '--exec-root', p.execRoot, '--pidfile', p.pidFile,
    '-H', `unix://${p.socket}`, '--bip', bip, '--shutdown-timeout', '5'], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited = false;
  child.on('exit', () => { exited = true; });
  child.unref();
  const tail = () => readFileSync(p.log, 'utf8').split('\n').slice(-15).join('\n');
  await waitFor(`dockerd of ${netns} to answer on ${p.socket}`, async () => {
    if (exited) throw new Error(`dockerd of ${netns} exited; its log ends with:\n${tail()}`);
    return ping(p.socket);
  }, 60_000, 50).catch((err: Error) => {
    throw exited ? err : new Error(`${err.message}\n${tail()}`);
  });
  return child.pid as number;
}

export async function loadImages(socket: string, tar: string): Promise<void> {
  await must('docker', ['-H', `unix://${socket}`, 'load', '-q', '-i', tar], { timeoutMs: 300_000 });
}

/** IDs of the containers this host's dockerd created (its data root lists them, running or not). */
function containerIds(dir: string): string[] {
  try {
    return readdirSync(path.join(dockerdPaths(dir).dataRoot, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch {
    return [];
  }
}

/** Pids of processes in the cgroup of one of `ids` (the containers' own processes, whatever their namespaces). */
function pidsInContainers(ids: string[]): number[] {
  if (ids.length === 0) return [];
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cg = '';
    try {
      cg = readFileSync(`/proc/${entry}/cgroup`, 'utf8');
    } catch {
      continue;
    }
    if (ids.some((id) => cg.includes(`/${id}`))) out.push(Number(entry));
  }
  return out;
}

/**
 * Stops a host's dockerd and everything it runs: removes its containers while it still answers,
 * then SIGTERMs it and waits; containers, shims or a containerd that survive (a killed dockerd)
 * are killed by their cgroup, and the containers' empty cgroups are removed.
 */
export async function stopDockerd(dir: string): Promise<void> {
  const p = dockerdPaths(dir);
  if (existsSync(p.socket) && (await ping(p.socket))) {
    const ps = await run('docker', ['-H', `unix://${p.socket}`, 'ps', '-aq'], { timeoutMs: 20_000 });
    const ids = ps.stdout.split('\n').filter(Boolean);
    if (ids.length) await run('docker', ['-H', `unix://${p.socket}`, 'rm', '-f', ...ids], { timeoutMs: 60_000 });
  }
  let pid = 0;
  try {
    pid = Number(readFileSync(p.pidFile, 'utf8').trim());
  } catch {
    /* never started or already stopped */
  }
  if (pid && alive(pid)) await endProcesses([pid], 15_000);
  const ids = containerIds(dir);
  await endProcesses(pidsInContainers(ids), 2_000);
  for (const ctrl of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    for (const id of ids) {
      try {
        rmdirSync(path.join('/sys/fs/cgroup', ctrl, 'docker', id));
      } catch {
        /* not there, or not a cgroup v1 controller */
      }
    }
  }
}
