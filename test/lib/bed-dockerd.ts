/**
 * One dockerd per bed host, started inside the host's network namespace with every path of its
 * own under the host's folder (data root, exec root, socket, pid file, an empty daemon.json so
 * /etc/docker/daemon.json never applies), and the bed's images loaded from a tar that is saved
 * from the root Docker engine once and cached by image ID.
 *
 * Each dockerd gets a containerd of its own, started here in the same namespace and passed with
 * --containerd: dockerd 20.10 would otherwise use a system containerd whenever
 * /run/containerd/containerd.sock exists, shared by every host, and containers with host
 * networking would then run in the root namespace.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { alive, endProcesses, must, run, startInNamespace } from './bed-run';

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
    containerd: {
      config: path.join(dir, 'containerd.toml'),
      root: path.join(dir, 'docker', 'containerd'),
      state: path.join(dir, 'exec', 'containerd'),
      socket: path.join(dir, 'exec', 'containerd.sock'),
      pidFile: path.join(dir, 'containerd.pid'),
      log: path.join(dir, 'containerd.log'),
    },
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

/** Resolves true when something accepts a connection on the unix socket. */
function accepts(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Starts a containerd and then dockerd inside `netns`, waits until dockerd answers, and returns
 * dockerd's pid. `bip` is its docker0 address (a /24 distinct per host).
 */
export async function startDockerd(netns: string, dir: string, bip: string): Promise<number> {
  const p = dockerdPaths(dir);
  const c = p.containerd;
  mkdirSync(c.root, { recursive: true });
  mkdirSync(c.state, { recursive: true });
  writeFileSync(p.config, '{}\n');
  writeFileSync(c.config, [
    'version = 2',
    `root = ${JSON.stringify(c.root)}`,
    `state = ${JSON.stringify(c.state)}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = ${JSON.stringify(c.socket)}`,
    '',
  ].join('\n'));
  const containerd = await startInNamespace(netns, 'containerd', ['--config', c.config], { what: `containerd to listen on ${c.socket}`, logFile: c.log, ready: () => accepts(c.socket) });
  writeFileSync(c.pidFile, `${containerd}\n`);
  return startInNamespace(netns, 'dockerd', [
    '--config-file', p.config, '--data-root', p.dataRoot, '--exec-root', p.execRoot, '--pidfile', p.pidFile,
    '--containerd', c.socket, '-H', `unix://${p.socket}`, '--bip', bip, '--shutdown-timeout', '5',
  ], { what: `dockerd to answer on ${p.socket}`, logFile: p.log, ready: () => ping(p.socket) });
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
 * then SIGTERMs dockerd and then its containerd and waits; container processes that survive (a
 * killed dockerd) are killed by their cgroup, and the containers' empty cgroups are removed.
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
  let containerd = 0;
  try {
    containerd = Number(readFileSync(p.containerd.pidFile, 'utf8').trim());
  } catch {
    /* never started */
  }
  if (containerd && alive(containerd)) await endProcesses([containerd], 10_000);
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
