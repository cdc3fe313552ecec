/**
 * A multi-host test bed on one machine: each host is a network namespace on a private bridge
 * with its own dockerd (see bed-net.ts for the network, bed-dockerd.ts for the engines,
 * bed-sshd.ts for an SSH server inside a host). Hosts share the filesystem and the PID space;
 * only the network differs, so each host gets its own folder (`host.dir`).
 *
 *   const bed = await createBed({ prefix: 'cxt', hosts: 2 });
 *   bed.spawn(bed.hosts[0], process.execPath, ['bin/coxswain.js', 'agent', ...]);
 *   await bed.cut(bed.hosts[1]); ...; await bed.restore(bed.hosts[1]);
 *   await bed.destroy();
 *
 * A bed records itself in /run/coxswain-bed/<prefix>.json, so `destroyStaleBed(prefix)` (which
 * createBed calls first) can remove what a crashed run left: processes in the namespaces,
 * dockerds and their containers, mounts, namespaces, links, FORWARD rules and the folder.
 * Needs root, iproute2, iptables, nsenter (util-linux) and dockerd.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BedHost } from './bed-host';
import { DEFAULT_IMAGES, dockerdPaths, imageTar, loadImages, startDockerd, stopDockerd } from './bed-dockerd';
import { bedNames, bedNamespaces, checkPrefix, chooseSubnet, createBridge, createHostLink, cutHost, pidsInNamespace, removeBedNetwork, restoreHost } from './bed-net';
import { alive, endProcesses, run, unmountUnder, type RunResult } from './bed-run';

export type { BedHost } from './bed-host';
export { startSshd, createSshKeyPair, sshClient, type Sshd, type SshKeyPair, type SshClient } from './bed-sshd';

export interface BedOptions {
  /** Names every namespace, link and rule of the bed: 2-8 lower-case letters or digits. */
  prefix: string;
  /** Number of hosts, 1-32: h1 ... hN. */
  hosts: number;
  /** A /24 for the bridge; default the first of 10.99.0.0/24, 10.99.1.0/24, ... not routed yet. */
  subnet?: string;
  /** The bed's folder (one sub-folder per host); default /tmp/<prefix>-bed. Removed by destroy. */
  dir?: string;
  /** Images loaded into every host's dockerd from the root engine; default busybox:1.36 and registry.k8s.io/pause:3.10. */
  images?: string[];
  /** Host N's docker0 is 172.30.(bipBase+N-1).1/24; default 1. */
  bipBase?: number;
}

export interface Bed {
  prefix: string;
  dir: string;
  hosts: BedHost[];
  /** The bridge in the root namespace. */
  bridge: string;
  /** The root namespace's address on the bridge (.1): every host's default route goes through it. */
  gateway: string;
  /** The bed's /24. */
  subnet: string;
  /** Starts a command inside the host's network namespace with DOCKER_HOST set to its dockerd (unless opts.env sets it). Ended by destroy. */
  spawn(host: BedHost, cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Runs a command inside the host's network namespace to completion (never rejects on a non-zero exit). */
  exec(host: BedHost, cmd: string, args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<RunResult>;
  /** Cuts the host's link: it can no longer reach or be reached by another host or the root namespace. */
  cut(host: BedHost): Promise<void>;
  /** Brings a cut host's link back; resolves when the link is up on both sides. */
  restore(host: BedHost): Promise<void>;
  /** Ends every process in the bed (spawned ones too), the dockerds and their containers; removes namespaces, links, rules and the folder. */
  destroy(): Promise<void>;
}

/** What a bed records about itself for destroyStaleBed and the CLI. */
export interface BedRecord { prefix: string; dir: string; subnet: string; gateway: string; bridge: string; hosts: BedHost[] }

const RECORDS = '/run/coxswain-bed';
const recordFile = (prefix: string) => path.join(RECORDS, `${prefix}.json`);

/** The record of a bed created by this or an earlier process, if any. */
export function readBedRecord(prefix: string): BedRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordFile(prefix), 'utf8')) as BedRecord;
  } catch {
    return undefined;
  }
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => {
    try {
      accessSync(path.join(d, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Why a bed cannot be created on this machine (for a test's skip), or undefined when it can. */
export function bedUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the multi-host bed needs Linux';
  if (process.getuid?.() !== 0) return 'the multi-host bed needs root (network namespaces, bridges, iptables)';
  const missing = ['ip', 'iptables', 'nsenter', 'dockerd', 'docker'].filter((c) => !onPath(c));
  return missing.length ? `the multi-host bed needs ${missing.join(', ')} on the PATH` : undefined;
}

function hostOf(prefix: string, dir: string, index: number, ip: string): BedHost {
  const hostDir = path.join(dir, `h${index}`);
  const socket = dockerdPaths(hostDir).socket;
  return { name: `h${index}`, netns: bedNames.host(prefix, index), ip, dir: hostDir, dockerSocket: socket, dockerHost: `unix://${socket}` };
}

const indexOf = (host: BedHost) => Number(host.name.slice(1));

export async function createBed(opts: BedOptions): Promise<Bed> {
  const { prefix } = opts;
  checkPrefix(prefix);
  if (!Number.isInteger(opts.hosts) || opts.hosts < 1 || opts.hosts > 32) throw new Error(`bed hosts: ${opts.hosts} is not a whole number from 1 to 32`);
  const bipBase = opts.bipBase ?? 1;
  if (!Number.isInteger(bipBase) || bipBase < 0 || bipBase + opts.hosts - 1 > 255) throw new Error(`bed bipBase: ${bipBase} leaves no 172.30.x.0/24 for every host`);
  const unavailable = bedUnavailable();
  if (unavailable) throw new Error(unavailable);
  await destroyStaleBed(prefix);

  const dir = path.resolve(opts.dir ?? `/tmp/${prefix}-bed`);
  // destroy removes the folder: never take one that holds something else.
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`bed dir ${dir} exists and is not empty: give a new or empty folder`);
  const images = opts.images ?? DEFAULT_IMAGES;
  const tar = images.length ? imageTar(images) : Promise.resolve(undefined);
  tar.catch(() => undefined); // awaited below; do not let an early failure go unhandled meanwhile
  const subnet = await chooseSubnet(opts.subnet);
  const hosts = Array.from({ length: opts.hosts }, (_, i) => hostOf(prefix, dir, i + 1, subnet.hostIp(i + 1)));
  const record: BedRecord = { prefix, dir, subnet: subnet.cidr, gateway: subnet.gateway, bridge: bedNames.bridge(prefix), hosts };
  mkdirSync(RECORDS, { recursive: true });
  writeFileSync(recordFile(prefix), JSON.stringify(record, null, 2));
  try {
    mkdirSync(dir, { recursive: true });
    await createBridge(prefix, subnet);
    await Promise.all(hosts.map(async (h) => {
      const i = indexOf(h);
      await createHostLink(prefix, i, subnet);
      await startDockerd(h.netns, h.dir, `172.30.${bipBase + i - 1}.1/24`);
      const file = await tar;
      if (file) await loadImages(h.dockerSocket, file);
    }));
  } catch (err) {
    await destroyStaleBed(prefix);
    throw err;
  }
  return bedOf(record);
}

function bedOf(record: BedRecord): Bed {
  const children = new Set<ChildProcess>();
  const nsenter = (host: BedHost, cmd: string, args: string[]): [string, string[]] => ['nsenter', [`--net=/run/netns/${host.netns}`, '--', cmd, ...args]];
  const withDockerHost = (host: BedHost, env: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv =>
    env?.DOCKER_HOST ? env : { ...(env ?? process.env), DOCKER_HOST: host.dockerHost };
  return {
    prefix: record.prefix,
    dir: record.dir,
    hosts: record.hosts,
    bridge: record.bridge,
    gateway: record.gateway,
    subnet: record.subnet,
    spawn(host, cmd, args, opts = {}) {
      const [c, a] = nsenter(host, cmd, args);
      const child = spawn(c, a, { ...opts, env: withDockerHost(host, opts.env) });
      children.add(child);
      child.on('exit', () => children.delete(child));
      return child;
    },
    exec(host, cmd, args, opts = {}) {
      const [c, a] = nsenter(host, cmd, args);
      return run(c, a, { ...opts, env: withDockerHost(host, undefined) });
    },
    cut: (host) => cutHost(record.prefix, indexOf(host)),
    restore: (host) => restoreHost(record.prefix, indexOf(host)),
    async destroy() {
      // Spawned processes first, gracefully, while the network and the dockerds still work.
      await endProcesses([...children].map((c) => c.pid).filter((p): p is number => p !== undefined), 10_000);
      await destroyStaleBed(record.prefix);
    },
  };
}

/**
 * Removes the bed `prefix` whatever state it is in (a crashed run, a half-created bed, a bed
 * the CLI left up): containers, dockerds, every process in its namespaces, mounts under its
 * folder, the namespaces, links and FORWARD rules, the folder and its record.
 */
export async function destroyStaleBed(prefix: string): Promise<void> {
  checkPrefix(prefix);
  const record = readBedRecord(prefix);
  const dir = record?.dir ?? `/tmp/${prefix}-bed`;
  const hostDirs = record ? record.hosts.map((h) => h.dir)
    : existsSync(dir) ? readdirSync(dir).filter((n) => /^h\d+$/.test(n)).map((n) => path.join(dir, n)) : [];
  await Promise.all(hostDirs.map((d) => stopDockerd(d)));
  const namespaces = await bedNamespaces(prefix);
  await Promise.all(namespaces.map(async (ns) => endProcesses(await pidsInNamespace(ns), 5_000)));
  await unmountUnder(dir);
  await removeBedNetwork(prefix);
  rmSync(dir, { recursive: true, force: true });
  try {
    unlinkSync(recordFile(prefix));
  } catch {
    /* no record */
  }
}

/** The pid of the host's dockerd from its pid file, when it runs (to check later that destroy ended it). */
export function dockerdPid(host: BedHost): number | undefined {
  try {
    const pid = Number(readFileSync(dockerdPaths(host.dir).pidFile, 'utf8').trim());
    return alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}
