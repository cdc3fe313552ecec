import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pod, Volume } from 'kubernetes-types/core/v1';
import type { Logger } from '../lib/log';
import { bytesOf } from '../lib/quantity';
import type { PodObjects, PodRuntimeFacts, PreparedVolume } from './pod-inputs';
import { writeAtomic } from './atomic-writer';
import { VolumeError, memoryVolumeName, pluginDir, volumePayload, wantsTmpfs, type TokenLookup } from './volume-payloads';
import type { PodSources } from './pod-sources';
import { LABEL_NODE, LABEL_POD_UID, type ContainerRuntime } from './runtime';
import { ANN_PROVISIONED_BY, LOCAL_PATH_PROVISIONER } from '../lib/volume-binding';

/**
 * Pod volumes on this host. Each pod has `<rootDir>/pods/<uid>/volumes/<plugin>/<name>`;
 * configMap, secret, downwardAPI and projected volumes are written with
 * Kubernetes' AtomicWriter layout (atomic-writer.ts), so a refresh is seen by
 * running containers all at once. emptyDir with
 * `medium: Memory` is a Docker tmpfs volume labelled with the pod uid.
 * The payload of each volume is computed by the pure `volumePayload` (volume-payloads.ts);
 * this module does the IO: writes, tmpfs mounts, ownership, hostPath checks, unmounts.
 */

const run = promisify(execFile);

/** Whether `dir` is a mount point (its device differs from its parent's). */
async function isMountPoint(dir: string): Promise<boolean> {
  const [a, b] = await Promise.all([fs.stat(dir).catch(() => undefined), fs.stat(path.dirname(dir)).catch(() => undefined)]);
  return !!a && !!b && a.dev !== b.dev;
}

/** Mount points at or under `dir` (from /proc/self/mountinfo), deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp && (mp === dir || mp.startsWith(`${dir}/`))) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

/**
 * Gives a volume's tree to the pod's fsGroup, like kubelet's SetVolumeOwnership:
 * group fsGroup, group read (and write unless read-only) added to every file,
 * setgid and group search on directories so new files inherit the group.
 * Symbolic links are left alone (the AtomicWriter's point into `..data`).
 */
export async function setVolumeOwnership(dir: string, fsGroup: number, readOnly: boolean): Promise<void> {
  const mask = readOnly ? 0o440 : 0o660;
  const walk = async (p: string): Promise<void> => {
    const st = await fs.lstat(p);
    if (st.isSymbolicLink()) return;
    await fs.chown(p, st.uid, fsGroup);
    if (st.isDirectory()) {
      await fs.chmod(p, (st.mode & 0o7777) | mask | 0o110 | 0o2000);
      for (const e of await fs.readdir(p)) await walk(path.join(p, e));
    } else await fs.chmod(p, (st.mode & 0o7777) | mask);
  };
  await walk(await fs.realpath(dir));
}

async function checkHostPath(p: string, type: string | undefined, vol: string): Promise<void> {
  const st = await fs.stat(p).catch(() => undefined);
  const fail = (what: string) => {
    throw new VolumeError(`hostPath type check failed: ${p} is not a ${what} (volume ${vol})`);
  };
  switch (type ?? '') {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!st) await fs.mkdir(p, { recursive: true, mode: 0o755 });
      else if (!st.isDirectory()) fail('directory');
      return;
    case 'Directory':
      if (!st?.isDirectory()) fail('directory');
      return;
    case 'FileOrCreate':
      if (!st) {
        await fs.mkdir(path.dirname(p), { recursive: true, mode: 0o755 });
        await fs.writeFile(p, '', { mode: 0o644 });
      } else if (!st.isFile()) fail('file');
      return;
    case 'File':
      if (!st?.isFile()) fail('file');
      return;
    case 'Socket':
      if (!st?.isSocket()) fail('socket');
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) fail('character device');
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) fail('block device');
      return;
    default:
      throw new VolumeError(`volume ${vol}: unknown hostPath type ${JSON.stringify(type)}`);
  }
}

/** Where secret and projected volumes are mounted as tmpfs (outside --root-dir, so removing that never meets a busy mount). */
export const DEFAULT_TMPFS_ROOT = '/run/coxswain/kubelet';

export interface VolumeManagerOptions {
  rootDir: string;
  /** Root of the tmpfs mounts of secret and projected volumes: `<tmpfsRoot>/<uid>/<plugin>/<name>`. Default DEFAULT_TMPFS_ROOT. */
  tmpfsRoot?: string;
  /** false: secret and projected volumes are written to disk (`--no-tmpfs-volumes`). Default true. */
  tmpfs?: boolean;
  nodeName: string;
  sources: PodSources;
  runtime: ContainerRuntime;
  log: Logger;
  now?: () => number;
}

interface CachedToken {
  token: string;
  issuedAt: number;
  expiresAt: number;
}

export class VolumeManager {
  private readonly tokens = new Map<string, CachedToken>();
  private tmpfsWarned = false;

  constructor(private readonly opts: VolumeManagerOptions) {}

  podDir(uid: string): string {
    return path.join(this.opts.rootDir, 'pods', uid);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /**
   * Prepares (or refreshes) every volume of the pod and returns them by name.
   * Throws VolumeError naming the first volume that cannot be prepared.
   */
  async setup(pod: Pod, objects: PodObjects, facts: Pick<PodRuntimeFacts, 'podIP' | 'hostIP' | 'nodeName'>): Promise<Map<string, PreparedVolume>> {
    const uid = pod.metadata!.uid!;
    const out = new Map<string, PreparedVolume>();
    const fsGroup = pod.spec?.securityContext?.fsGroup;
    if ((pod.spec?.volumes ?? []).length > 0) await this.claimPodDir(uid);
    for (const v of pod.spec?.volumes ?? []) {
      const dir = path.join(this.podDir(uid), 'volumes', pluginDir(v), v.name);
      if (v.emptyDir) {
        if (v.emptyDir.medium === 'Memory') {
          const size = v.emptyDir.sizeLimit !== undefined ? bytesOf(v.emptyDir.sizeLimit) : 0;
          const o = [...(size > 0 ? [`size=${size}`] : []), ...(fsGroup !== undefined ? [`gid=${fsGroup}`, 'mode=2777'] : [])].join(',');
          out.set(v.name, {
            readOnly: false,
            dockerVolume: {
              name: memoryVolumeName(uid, v.name),
              options: { type: 'tmpfs', device: 'tmpfs', ...(o ? { o } : {}) },
              labels: { [LABEL_POD_UID]: uid, [LABEL_NODE]: this.opts.nodeName },
            },
          });
        } else {
          await fs.mkdir(dir, { recursive: true });
          await fs.chmod(dir, 0o777);
          if (fsGroup !== undefined) {
            const st = await fs.stat(dir);
            await fs.chown(dir, st.uid, fsGroup);
            await fs.chmod(dir, 0o2777);
          }
          out.set(v.name, { hostPath: dir, readOnly: false });
        }
      } else if (v.hostPath) {
        await checkHostPath(v.hostPath.path, v.hostPath.type, v.name);
        out.set(v.name, { hostPath: v.hostPath.path, readOnly: false });
      } else if (v.persistentVolumeClaim) {
        out.set(v.name, { hostPath: await this.claimPath(pod, v), readOnly: v.persistentVolumeClaim.readOnly === true });
      } else if (v.configMap || v.secret || v.downwardAPI || v.projected) {
        await this.refreshTokens(pod, v);
        const payload = volumePayload(pod, v, objects, facts, (vol, p) => this.tokens.get(`${uid}/${vol}/${p}`)?.token);
        if (wantsTmpfs(v)) await this.ensureTmpfs(dir, path.join(this.tmpfsDir(uid), pluginDir(v), v.name), pod, v.name);
        if (await writeAtomic(dir, payload)) {
          if (fsGroup !== undefined) await setVolumeOwnership(dir, fsGroup, true);
          this.opts.log.debug({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, volume: v.name }, 'volume contents updated');
        }
        out.set(v.name, { hostPath: dir, readOnly: true });
      } else {
        const type = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
        throw new VolumeError(`volume ${v.name}: volume type ${type} is not supported by this kubelet`);
      }
    }
    return out;
  }

  /**
   * The host directory of a claim's volume: the claim must be Bound to a volume whose claimRef
   * names it (else the pod waits, with a FailedMount event); a hostPath volume's directory is
   * created when missing (DirectoryOrCreate unless the volume says otherwise: local-path
   * volumes come into being this way on their node, mode 0777 so that containers running as
   * any user can write), a `local` volume's must exist.
   */
  private async claimPath(pod: Pod, v: Volume): Promise<string> {
    const ns = pod.metadata?.namespace ?? 'default';
    const claimName = v.persistentVolumeClaim!.claimName;
    const pvc = await this.opts.sources.getPersistentVolumeClaim(ns, claimName);
    if (!pvc) throw new VolumeError(`persistentvolumeclaim "${claimName}" not found`);
    const pvName = pvc.spec?.volumeName;
    if (!pvName || pvc.status?.phase !== 'Bound') throw new VolumeError(`persistentvolumeclaim "${claimName}" is not bound to a volume yet (phase ${pvc.status?.phase ?? 'Pending'})`);
    const pv = await this.opts.sources.getPersistentVolume(pvName);
    if (!pv) throw new VolumeError(`persistentvolume "${pvName}" (bound to claim "${claimName}") not found`);
    const ref = pv.spec?.claimRef;
    if (ref?.name !== claimName || ref.namespace !== ns || (ref.uid && ref.uid !== pvc.metadata?.uid)) {
      throw new VolumeError(`persistentvolume "${pvName}" is not bound to claim "${claimName}"`);
    }
    const p = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
    if (!p) throw new VolumeError(`persistentvolume "${pvName}": only hostPath and local volumes can be mounted by this kubelet`);
    if (pv.spec?.hostPath && pv.metadata?.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER && !(await fs.stat(p).catch(() => undefined))) {
      // a new local-path volume: writable by any user the pod's containers run as (as k3s' provisioner makes them)
      await fs.mkdir(p, { recursive: true, mode: 0o777 });
      await fs.chmod(p, 0o777);
    }
    if (pv.spec?.hostPath) await checkHostPath(p, pv.spec.hostPath.type ?? 'DirectoryOrCreate', v.name);
    else if (!(await fs.stat(p).catch(() => undefined))) throw new VolumeError(`persistentvolume "${pvName}": local path ${p} does not exist on this node`);
    return p;
  }

  /** Requests tokens for projected serviceAccountToken sources that have none or are past 80% of their lifetime. */
  private async refreshTokens(pod: Pod, v: Volume): Promise<void> {
    const uid = pod.metadata!.uid!;
    for (const s of v.projected?.sources ?? []) {
      const t = s.serviceAccountToken;
      if (!t) continue;
      const key = `${uid}/${v.name}/${t.path}`;
      const cached = this.tokens.get(key);
      const now = this.now();
      if (cached && now < cached.issuedAt + 0.8 * (cached.expiresAt - cached.issuedAt)) continue;
      const r = await this.opts.sources.serviceAccountToken(pod, t.audience, t.expirationSeconds ?? 3600);
      if (r) this.tokens.set(key, { token: r.token, issuedAt: now, expiresAt: r.expiresAt });
      else if (cached && now < cached.expiresAt) continue;
      else this.tokens.delete(key);
    }
  }

  private tmpfsDir(uid: string): string {
    return path.join(this.opts.tmpfsRoot ?? DEFAULT_TMPFS_ROOT, uid);
  }

  /**
   * Makes the volume directory `dir` a symlink to a tmpfs mounted at `target`
   * (Docker resolves it when bind-mounting). A volume already on disk (written
   * before, running containers see it) stays there; where the kubelet may not
   * mount (not root, or an unprivileged container), the volume is written to
   * disk and a warning says so once.
   */
  private async ensureTmpfs(dir: string, target: string, pod: Pod, volume: string): Promise<void> {
    // Off (`--no-tmpfs-volumes`, a kubelet in a container of its own, whose mounts the host's Docker never sees): on disk.
    if (this.opts.tmpfs === false) return;
    const st = await fs.lstat(dir).catch(() => undefined);
    if (st?.isDirectory()) return;
    if (st?.isSymbolicLink() && (await isMountPoint(target))) return;
    try {
      await fs.mkdir(target, { recursive: true, mode: 0o755 });
      if (!(await isMountPoint(target))) await run('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', target], { timeout: 10_000 });
      await fs.mkdir(path.dirname(dir), { recursive: true, mode: 0o755 });
      await fs.rm(dir, { force: true });
      await fs.symlink(target, dir);
    } catch (err) {
      if (!this.tmpfsWarned) {
        this.tmpfsWarned = true;
        this.opts.log.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, volume, err: (err as Error).message.trim() }, 'cannot mount tmpfs for a secret volume (the kubelet needs root for it); secret files are written to disk');
      }
    }
  }

  /** Removes the pod's volume directories (unmounting tmpfs volumes first) and memory-backed volumes (after its containers are gone). */
  async cleanup(uid: string): Promise<void> {
    for (const k of this.tokens.keys()) if (k.startsWith(`${uid}/`)) this.tokens.delete(k);
    await this.removeTmpfs(uid);
    await fs.rm(this.podDir(uid), { recursive: true, force: true });
    await this.opts.runtime.removeVolumes({ [LABEL_POD_UID]: uid, [LABEL_NODE]: this.opts.nodeName });
  }

  /** Unmounts the pod's tmpfs volumes and removes its tmpfs directory; returns whether all of it went. */
  private async removeTmpfs(uid: string): Promise<boolean> {
    const tmpfs = this.tmpfsDir(uid);
    let ok = true;
    for (const mp of await mountsUnder(await fs.realpath(tmpfs).catch(() => tmpfs))) {
      await run('umount', [mp], { timeout: 10_000 }).catch((err: Error) => {
        // Unmounted meanwhile (by the pod's own cleanup) is fine.
        if (!/not mounted|no mount point/i.test(err.message)) ok = false;
        this.opts.log.warn({ mount: mp, err: err.message.trim() }, 'cannot unmount a pod volume');
      });
    }
    if (!ok) return false; // never recurse into a directory that still has a mount under it
    await fs.rm(tmpfs, { recursive: true, force: true }).catch((err: Error) => {
      ok = false;
      this.opts.log.warn({ dir: tmpfs, err: err.message }, 'cannot remove the pod\'s tmpfs directory');
    });
    return ok;
  }

  /**
   * Kubernetes' orphaned pod volume cleanup for the tmpfs root: unmounts and
   * removes `<tmpfsRoot>/<uid>` of every pod that this kubelet does not run
   * (`isKnown` false: not in the API for this node) and that has no container
   * left in Docker, of any node (kubelets of several nodes on one machine share
   * the tmpfs root, and a pod's tmpfs appears only after its sandbox exists).
   * Leftovers of a killed kubelet or of a test's cluster go this way. Returns
   * the uids cleaned.
   */
  async cleanupOrphanedTmpfs(isKnown: (uid: string) => boolean): Promise<string[]> {
    const root = this.opts.tmpfsRoot ?? DEFAULT_TMPFS_ROOT;
    const entries = await fs.readdir(root, { withFileTypes: true }).catch(() => []);
    const cleaned: string[] = [];
    for (const e of entries) {
      const uid = e.name;
      if (!e.isDirectory() || isKnown(uid)) continue;
      if ((await this.opts.runtime.listContainers({ [LABEL_POD_UID]: uid })).length > 0) continue;
      if (isKnown(uid)) continue; // became known while Docker was asked
      for (const k of this.tokens.keys()) if (k.startsWith(`${uid}/`)) this.tokens.delete(k);
      if (await this.removeTmpfs(uid)) cleaned.push(uid);
    }
    if (cleaned.length) this.opts.log.info({ pods: cleaned }, 'removed the tmpfs volumes of orphaned pods');
    return cleaned;
  }

  /**
   * An empty, world-writable file for one container instance's termination
   * message (`<podDir>/containers/<name>/<restartCount>`), bind-mounted at its
   * terminationMessagePath; removed with the pod directory.
   */
  async terminationMessageFile(uid: string, containerName: string, restartCount: number): Promise<string> {
    await this.claimPodDir(uid);
    const dir = path.join(this.podDir(uid), 'containers', containerName);
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    const file = path.join(dir, String(restartCount));
    await fs.writeFile(file, '');
    await fs.chmod(file, 0o666); // containers running as any user may write it
    return file;
  }

  /**
   * A Localhost seccomp profile: the JSON of `<rootDir>/seccomp/<name>`, as
   * Kubernetes' kubelet reads them; undefined when it cannot be read (or names a path outside).
   */
  async seccompProfile(name: string): Promise<string | undefined> {
    const dir = path.join(this.opts.rootDir, 'seccomp');
    const file = path.resolve(dir, name);
    if (!file.startsWith(dir + path.sep)) return undefined;
    return fs.readFile(file, 'utf8').catch(() => undefined);
  }

  /** Writes one of the pod's kubelet-managed files (`<podDir>/<name>`: etc-hosts, resolv.conf) when its content changed; returns its path. */
  async podFile(uid: string, name: string, content: string): Promise<string> {
    await this.claimPodDir(uid);
    const file = path.join(this.podDir(uid), name);
    if ((await fs.readFile(file, 'utf8').catch(() => undefined)) !== content) await fs.writeFile(file, content, { mode: 0o644 });
    return file;
  }

  /**
   * Marks the pod directory as this node's (`<podDir>/node`), so kubelets of
   * several nodes sharing one root dir on a machine never remove each other's.
   */
  private async claimPodDir(uid: string): Promise<void> {
    const marker = path.join(this.podDir(uid), 'node');
    if ((await fs.readFile(marker, 'utf8').catch(() => undefined)) === this.opts.nodeName) return;
    await fs.mkdir(this.podDir(uid), { recursive: true, mode: 0o750 });
    await fs.writeFile(marker, this.opts.nodeName);
  }

  /** This node's pod directories on disk (to find those of pods deleted while the kubelet was down). */
  async podUidsOnDisk(): Promise<string[]> {
    const uids = await fs.readdir(path.join(this.opts.rootDir, 'pods')).catch(() => [] as string[]);
    const mine: string[] = [];
    for (const uid of uids) {
      const owner = await fs.readFile(path.join(this.podDir(uid), 'node'), 'utf8').catch(() => undefined);
      if (owner === this.opts.nodeName) mine.push(uid);
    }
    return mine;
  }
}
