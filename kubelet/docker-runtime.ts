import { statfs } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import type { LogOptions } from './api/log-options';
import { containerCreateOptions, sandboxCreateOptions } from './docker/container-config';
import { runExecCommand, startExecSession } from './docker/exec';
import { fromInspect } from './docker/inspect';
import { dockerContainerStats, type DockerStatsSample } from './docker/stats';
import { containerLogStream, demuxLogs } from './docker/streams';
import type { Logger } from '../lib/log';
import { ndjsonLines } from '../lib/ndjson';
import { maskOf, parseCidr } from '../lib/ipv4';
import {
  ImageError,
  LABEL_OWNED,
  LABEL_POD_UID,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerStats,
  type ExecSession,
  type ExecStreamOptions,
  type ImageFsStats,
  type RuntimeImage,
  type ExecResult,
  type RegistryAuth,
  type PullPolicy,
  type RuntimeContainer,
  type RuntimeEvent,
  type SandboxSpec,
} from './runtime';

/** How long an image reference's ID is trusted without asking Docker again. */
export const IMAGE_ID_TTL_MS = 30_000;

function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}

function errText(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string };
  return e?.json?.message ?? e?.message ?? String(err);
}

function labelFilters(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => (v === '' ? k : `${k}=${v}`));
}

/**
 * ContainerRuntime over the Docker Engine API (dockerode). Inspect results are
 * cached per (container, state) since a container's inspect data only changes
 * with its state.
 */
export class DockerRuntime implements ContainerRuntime {
  private readonly inspectCache = new Map<string, RuntimeContainer>();
  /**
   * Image reference → ID, kept IMAGE_ID_TTL_MS (not for pull policy Always):
   * a pod start then asks Docker nothing about the pause and app images. An
   * image removed through this runtime is forgotten at once; one removed behind
   * its back fails the create with 404, which forgets it too.
   */
  private readonly imageIds = new Map<string, { id: string; at: number }>();
  /**
   * Docker Engine API requests made through this runtime, by `METHOD /path`
   * with IDs and names replaced by `{id}` (a debug counter: how many calls a
   * pod start costs).
   */
  readonly apiCalls = new Map<string, number>();

  constructor(
    readonly docker: Docker,
    private readonly log: Logger,
  ) {
    const modem = docker.modem as { dial?: (opts: { method?: string; path?: string }, cb: unknown) => unknown };
    const dial = modem.dial?.bind(modem);
    if (dial) {
      modem.dial = (opts, cb) => {
        const p = (opts.path ?? '').split('?')[0].replace(/^\/v[\d.]+/, '').replace(/^\/images\/(?!json$|create$|prune$).+\/(json|history|tag|push)$/, '/images/{id}/$1').replace(/^\/(containers|networks|volumes|exec)\/(?!json$|create$|prune$)[^/]+/, '/$1/{id}');
        const key = `${opts.method ?? 'GET'} ${p}`;
        this.apiCalls.set(key, (this.apiCalls.get(key) ?? 0) + 1);
        return dial(opts, cb);
      };
    }
  }

  /** Total Docker API requests so far (see `apiCalls`). */
  get apiCallCount(): number {
    let n = 0;
    for (const v of this.apiCalls.values()) n += v;
    return n;
  }

  static fromSocket(socketPath: string, log: Logger): DockerRuntime {
    return new DockerRuntime(new Docker({ socketPath }), log);
  }

  async version(): Promise<string> {
    const v = await this.docker.version();
    return `docker://${v.Version}`;
  }

  async listContainers(labels: Record<string, string>): Promise<RuntimeContainer[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: labelFilters(labels) } });
    if (this.inspectCache.size > 4096) this.inspectCache.clear();
    const out: RuntimeContainer[] = [];
    await Promise.all(
      list.map(async (c) => {
        const key = `${c.Id}:${c.State}`;
        let rc = this.inspectCache.get(key);
        if (!rc) {
          try {
            rc = fromInspect(await this.docker.getContainer(c.Id).inspect());
          } catch (err) {
            if (statusCode(err) === 404) return; // removed meanwhile
            throw err;
          }
          this.inspectCache.set(key, rc);
        }
        out.push(rc);
      }),
    );
    return out;
  }

  async imageIdOf(image: string): Promise<string | undefined> {
    return this.imageId(image);
  }

  async listImages(): Promise<RuntimeImage[]> {
    const list = await this.docker.listImages({ all: false });
    return list.map((i) => ({
      id: i.Id,
      tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      digests: (i.RepoDigests ?? []).filter((d) => !d.startsWith('<none>@')),
      sizeBytes: i.Size,
    }));
  }

  async imagesInUse(): Promise<Set<string>> {
    const list = await this.docker.listContainers({ all: true });
    return new Set(list.map((c) => c.ImageID).filter(Boolean));
  }

  async removeImage(id: string): Promise<boolean> {
    for (const [ref, v] of this.imageIds) if (v.id === id || ref === id) this.imageIds.delete(ref);
    try {
      await this.docker.getImage(id).remove({ force: false, noprune: false });
      return true;
    } catch (err) {
      const code = statusCode(err);
      if (code === 404) return true;
      if (code === 409) {
        this.log.info({ image: id, err: errText(err) }, 'image not removed');
        return false;
      }
      throw err;
    }
  }

  async logTail(id: string, tailLines: number, maxBytes: number): Promise<string> {
    const raw = (await this.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false, tail: tailLines })) as unknown as Buffer;
    const text = demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
    return text.length > maxBytes ? text.subarray(text.length - maxBytes).toString('utf8') : text.toString('utf8');
  }

  async imageFsStats(): Promise<ImageFsStats> {
    // Docker's root dir when this process sees it (same host), else the root filesystem.
    let dir = '/';
    try {
      const info = (await this.docker.info()) as { DockerRootDir?: string };
      if (info.DockerRootDir) dir = info.DockerRootDir;
    } catch {
      // fall back to /
    }
    const s = await statfs(dir).catch(() => statfs('/'));
    return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
  }

  private async imageId(image: string, cached = false): Promise<string | undefined> {
    const hit = this.imageIds.get(image);
    if (cached && hit && Date.now() - hit.at < IMAGE_ID_TTL_MS) return hit.id;
    try {
      const id = (await this.docker.getImage(image).inspect()).Id;
      if (this.imageIds.size > 1024) this.imageIds.clear();
      this.imageIds.set(image, { id, at: Date.now() });
      return id;
    } catch (err) {
      if (statusCode(err) === 404) {
        this.imageIds.delete(image);
        return undefined;
      }
      throw err;
    }
  }

  async ensureImage(image: string, policy: PullPolicy, auth?: RegistryAuth[]): Promise<{ id: string; pulled: boolean }> {
    const present = policy === 'Always' ? undefined : await this.imageId(image, true);
    if (present) return { id: present, pulled: false };
    if (policy === 'Never') {
      throw new ImageError('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
    }
    // Like kubelet: try each matching credential, then anonymously; the first success wins.
    const attempts: (RegistryAuth | undefined)[] = [...(auth ?? []), undefined];
    let lastErr: unknown;
    for (const a of attempts) {
      try {
        await this.pull(image, a);
        lastErr = undefined;
        break;
      } catch (err) {
        lastErr = err;
      }
    }
    if (lastErr) throw new ImageError('ErrImagePull', `failed to pull image "${image}": ${errText(lastErr)}`);
    const id = await this.imageId(image);
    if (!id) throw new ImageError('ErrImagePull', `image "${image}" is absent after pulling it`);
    return { id, pulled: true };
  }

  private async pull(image: string, auth?: RegistryAuth): Promise<void> {
    this.log.info({ image, withCredentials: !!auth }, 'pulling image');
    const stream = await this.docker.pull(image, auth ? { authconfig: auth } : {});
    let lastLog = 0;
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (ev: { status?: string; id?: string; progress?: string }) => {
          const now = Date.now();
          if (now - lastLog >= 2000 || /complete|digest|status/i.test(ev.status ?? '')) {
            lastLog = now;
            this.log.info({ image, layer: ev.id, status: ev.status, progress: ev.progress }, 'pull progress');
          }
        },
      );
    });
    this.log.info({ image }, 'pulled image');
  }

  async runSandbox(spec: SandboxSpec): Promise<string> {
    const id = await this.createSandbox(spec);
    await this.startSandbox(id);
    return id;
  }

  async startSandbox(id: string, onStarted?: () => void): Promise<RuntimeContainer | undefined> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      // The start error is the one to report, even if the removal fails too.
      await this.removeContainer(id).catch(() => undefined);
      throw err;
    }
    onStarted?.();
    // Its view now (for the IP), cached: the pod's next listing needs no inspect of it.
    const rc = fromInspect(await this.docker.getContainer(id).inspect());
    if (rc.state === 'running') this.inspectCache.set(`${id}:running`, rc);
    return rc;
  }

  /** createContainer; a 404 (image gone behind this runtime's back) forgets the cached image ID. */
  private async create(image: string, opts: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    try {
      return await this.docker.createContainer(opts);
    } catch (err) {
      if (statusCode(err) === 404) this.imageIds.delete(image);
      throw err;
    }
  }

  async createSandbox(spec: SandboxSpec): Promise<string> {
    const c = await this.create(spec.image, sandboxCreateOptions(spec));
    return c.id;
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    if (spec.security?.requireNonRoot) {
      const user = (await this.docker.getImage(spec.image).inspect()).Config?.User ?? '';
      const uid = user.split(':')[0];
      if (uid === '' || uid === '0' || uid === 'root') throw new Error('container has runAsNonRoot and image will run as root');
      if (!/^\d+$/.test(uid)) throw new Error(`container has runAsNonRoot and image has non-numeric user (${uid}), cannot verify user is non-root`);
    }
    const c = await this.create(spec.image, containerCreateOptions(spec));
    return c.id;
  }

  async startContainer(id: string): Promise<void> {
    await this.docker.getContainer(id).start();
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.floor(timeoutSeconds)) });
    } catch (err) {
      const code = statusCode(err);
      if (code === 304 || code === 404) return; // already stopped / gone
      throw err;
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      const code = statusCode(err);
      if (code === 404) return;
      if (code === 409 && /already in progress/.test(errText(err))) return;
      throw err;
    }
  }

  /**
   * Frees `subnet` (the node's podCIDR) from Docker's networks before the
   * kubelet's own bridge takes it. A Coxswain-owned Docker network holding it
   * (pod networks of earlier Coxswain versions, which let Docker wire pods) is
   * removed, with the sandboxes still attached to it: their pods get new
   * sandboxes on the bridge at their next sync. Any other Docker network that
   * overlaps is an error naming it.
   */
  async releaseSubnet(subnet: string): Promise<void> {
    const want = parseCidr(subnet);
    if (!want) throw new Error(`podCIDR ${JSON.stringify(subnet)} is not an IPv4 CIDR`);
    for (const n of await this.docker.listNetworks()) {
      const info = (await this.docker.getNetwork(n.Id).inspect()) as Docker.NetworkInspectInfo;
      const overlaps = (info.IPAM?.Config ?? []).some((c) => {
        const have = c.Subnet ? parseCidr(c.Subnet) : undefined;
        if (!have) return false; // IPv6
        const mask = maskOf(Math.min(have.prefix, want.prefix));
        return ((have.base & mask) >>> 0) === ((want.base & mask) >>> 0);
      });
      if (!overlaps) continue;
      if (info.Labels?.[LABEL_OWNED] !== 'true') throw new Error(`podCIDR ${subnet} overlaps docker network ${info.Name} (${(info.IPAM?.Config ?? []).map((c) => c.Subnet).join(',')})`);
      const attached = Object.keys(info.Containers ?? {});
      this.log.warn({ network: info.Name, subnet, sandboxes: attached.length }, 'removing a Coxswain Docker pod network that holds this node\'s podCIDR (its pods get new sandboxes on the kubelet bridge)');
      for (const id of attached) await this.removeContainer(id);
      await this.docker.getNetwork(n.Id).remove().catch((err: unknown) => {
        if (statusCode(err) !== 404) throw err;
      });
    }
  }

  async execCommand(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
    return runExecCommand(this.docker, id, cmd, timeoutMs);
  }

  async removeVolumes(labels: Record<string, string>): Promise<void> {
    const r = await this.docker.listVolumes({ filters: { label: labelFilters(labels) } });
    for (const v of r.Volumes ?? []) {
      try {
        await this.docker.getVolume(v.Name).remove();
      } catch (err) {
        if (statusCode(err) !== 404) throw err;
      }
    }
  }

  async watchEvents(labels: Record<string, string>, onEvent: (ev: RuntimeEvent) => void, signal: AbortSignal, since?: Date): Promise<void> {
    if (signal.aborted) return;
    const stream = (await this.docker.getEvents({
      ...(since ? { since: Math.floor(since.getTime() / 1000) } : {}),
      filters: { type: ['container'], event: ['start', 'die', 'oom', 'destroy'], label: labelFilters(labels) },
    })) as NodeJS.ReadableStream & { destroy?: () => void };
    const onAbort = () => stream.destroy?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const line of ndjsonLines(stream as AsyncIterable<Buffer>)) {
        let ev: { Action?: string; status?: string; id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
        try {
          ev = JSON.parse(line);
        } catch {
          continue; // not an event line
        }
        onEvent({ action: ev.Action ?? ev.status ?? '', containerId: ev.Actor?.ID ?? ev.id ?? '', podUid: ev.Actor?.Attributes?.[LABEL_POD_UID] });
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async containerLogs(id: string, options: LogOptions): Promise<Readable> {
    return containerLogStream(this.docker.getContainer(id), options);
  }

  async execStream(id: string, options: ExecStreamOptions, onOutput: (stream: 'stdout' | 'stderr', data: Buffer) => void): Promise<ExecSession> {
    return startExecSession(this.docker.getContainer(id), options, onOutput);
  }

  async containerStats(id: string): Promise<ContainerStats | undefined> {
    // one-shot: the counters now, without Docker's wait for a second reading (rates come from two scrapes)
    const s = await this.docker.getContainer(id).stats({ stream: false, 'one-shot': true } as { stream: false }).catch(() => undefined);
    return s ? dockerContainerStats(s as DockerStatsSample) : undefined;
  }
}
