import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../lib/log';
import { PAUSE_IMAGE } from './container-spec';
import { LABEL_NODE, SANDBOX_CONTAINER_NAME, type ContainerRuntime, type ImageFsStats, type RuntimeContainer, type RuntimeImage } from './runtime';

/**
 * Garbage collection of dead containers and unused images, modelled on
 * kubelet's `kuberuntime_gc.go` and `images/image_gc_manager.go`. The planners
 * (`containersToEvict`, `planImageGC`) are pure; `ContainerGC` and `ImageGC`
 * do the IO and run periodically from the Kubelet.
 */

export interface ContainerGCPolicy {
  /** Dead containers younger than this (since creation) are never removed (`--minimum-container-ttl-duration`). */
  minAgeMs: number;
  /** Dead instances kept per container of a live pod (`--maximum-dead-containers-per-container`); < 0 = no limit. */
  maxPerPodContainer: number;
  /** Dead containers kept on the node in all (`--maximum-dead-containers`); < 0 = no limit. */
  maxContainers: number;
}

export const DEFAULT_CONTAINER_GC_POLICY: ContainerGCPolicy = { minAgeMs: 0, maxPerPodContainer: 1, maxContainers: -1 };

function isDead(c: RuntimeContainer): boolean {
  return c.state !== 'running';
}

function newestFirst(a: RuntimeContainer, b: RuntimeContainer): number {
  return b.restartCount - a.restartCount || b.createdAt.localeCompare(a.createdAt);
}

/**
 * The dead containers to remove from this node. Containers of pods that are not
 * live (gone from the API) all go. Of a live pod, the newest instance of each
 * container and the newest sandbox are never removed: the kubelet derives
 * state, restartCount and backoff from them (where Kubernetes falls back on
 * the API status). Then each container keeps its newest `maxPerPodContainer`
 * dead instances, and the node at most `maxContainers` dead containers (each
 * container's share first, then oldest first), as far as the protected ones allow.
 */
export function containersToEvict(containers: RuntimeContainer[], isLivePod: (uid: string) => boolean, policy: ContainerGCPolicy, now: number): string[] {
  const evict = new Set<string>();
  const units = new Map<string, RuntimeContainer[]>();
  for (const c of containers) {
    const key = `${c.podUid}/${c.containerName}`;
    const list = units.get(key) ?? [];
    list.push(c);
    units.set(key, list);
  }
  /** Removable dead containers per unit, newest first, with how many dead ones the unit keeps anyway. */
  const candidates: { list: RuntimeContainer[]; keptDead: number }[] = [];
  for (const list of units.values()) {
    list.sort(newestFirst);
    const live = !!list[0].podUid && isLivePod(list[0].podUid);
    const protectedNewest = live ? list[0] : undefined;
    const removable = list.filter((c) => c !== protectedNewest && isDead(c) && now - Date.parse(c.createdAt) >= policy.minAgeMs);
    if (!live) {
      for (const c of removable) evict.add(c.id);
      continue;
    }
    const keptDead = protectedNewest && isDead(protectedNewest) ? 1 : 0;
    candidates.push({ list: removable, keptDead });
  }
  const trim = (max: number) => {
    for (const u of candidates) {
      const room = Math.max(0, max - u.keptDead);
      while (u.list.length > room) evict.add(u.list.pop()!.id);
    }
  };
  if (policy.maxPerPodContainer >= 0) trim(policy.maxPerPodContainer);
  if (policy.maxContainers >= 0) {
    const dead = () => containers.filter((c) => isDead(c) && !evict.has(c.id)).length;
    if (dead() > policy.maxContainers && candidates.length > 0) trim(Math.max(1, Math.floor(policy.maxContainers / candidates.length)));
    let excess = dead() - policy.maxContainers;
    if (excess > 0) {
      const oldestFirst = candidates.flatMap((u) => u.list).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      for (const c of oldestFirst) {
        if (excess <= 0) break;
        evict.add(c.id);
        excess--;
      }
    }
  }
  return [...evict];
}

export interface ContainerGCOptions {
  runtime: ContainerRuntime;
  nodeName: string;
  policy: ContainerGCPolicy;
  /** Whether a pod uid is one the kubelet runs (in the API); called only once the pod sources are ready. */
  isLivePod: (uid: string) => boolean;
  log: Logger;
  now?: () => number;
}

/** Removes dead containers of this node according to the policy. */
export class ContainerGC {
  constructor(private readonly opts: ContainerGCOptions) {}

  /** One pass; returns the IDs removed. */
  async collect(): Promise<string[]> {
    const { runtime, nodeName, policy, log } = this.opts;
    const all = await runtime.listContainers({ [LABEL_NODE]: nodeName });
    const ids = containersToEvict(all, this.opts.isLivePod, policy, (this.opts.now ?? Date.now)());
    const removed: string[] = [];
    for (const id of ids) {
      try {
        await runtime.removeContainer(id);
        removed.push(id);
      } catch (err) {
        log.warn({ container: id.slice(0, 12), err: (err as Error).message }, 'container GC: removal failed');
      }
    }
    if (removed.length) {
      const byId = new Map(all.map((c) => [c.id, c]));
      log.info({ removed: removed.map((id) => `${byId.get(id)?.name ?? id.slice(0, 12)}`) }, 'container GC removed dead containers');
    }
    return removed;
  }
}

export interface ImageGCPolicy {
  /** Disk usage (percent of the image filesystem) at or above which image GC runs (`--image-gc-high-threshold`); 100 disables it. */
  highThresholdPercent: number;
  /** Usage that GC frees down to (`--image-gc-low-threshold`). */
  lowThresholdPercent: number;
  /** Images first seen less than this long ago are kept (`--minimum-image-ttl-duration`). */
  minAgeMs: number;
}

export const DEFAULT_IMAGE_GC_POLICY: ImageGCPolicy = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 120_000 };

/** Throws a message naming the bad field when a policy cannot work (Kubernetes' validation). */
export function validateImageGCPolicy(p: ImageGCPolicy): void {
  for (const [k, v] of [['--image-gc-high-threshold', p.highThresholdPercent], ['--image-gc-low-threshold', p.lowThresholdPercent]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 100) throw new Error(`${k} must be an integer percentage in [0, 100], got ${v}`);
  }
  if (p.lowThresholdPercent > p.highThresholdPercent) {
    throw new Error(`--image-gc-low-threshold (${p.lowThresholdPercent}) must not be above --image-gc-high-threshold (${p.highThresholdPercent})`);
  }
}

/** What the kubelet remembers of an image its pods used. */
export interface ImageRecord {
  /** Epoch ms this kubelet first saw the image used. */
  firstDetected: number;
  /** Epoch ms it last saw a container of this node use it. */
  lastUsed: number;
}

export interface ImageGCPlan {
  usagePercent: number;
  /** Bytes to free to reach the low threshold (0 = below the high threshold). */
  amountToFree: number;
  /** Image IDs to remove, least recently used first. */
  toRemove: string[];
  /** Bytes the removals would free. */
  freeable: number;
}

/**
 * Which images to remove: when usage is at or above the high threshold, the
 * least recently used of the images this kubelet's pods used, skipping images
 * any container uses, pinned ones (the pause image) and those younger than
 * minAge, until usage would reach the low threshold.
 */
export function planImageGC(
  images: RuntimeImage[],
  records: Map<string, ImageRecord>,
  inUse: Set<string>,
  pinned: Set<string>,
  fs: ImageFsStats,
  policy: ImageGCPolicy,
  now: number,
): ImageGCPlan {
  const usagePercent = fs.capacityBytes > 0 ? 100 - Math.floor((fs.availableBytes * 100) / fs.capacityBytes) : 0;
  const plan: ImageGCPlan = { usagePercent, amountToFree: 0, toRemove: [], freeable: 0 };
  if (fs.capacityBytes <= 0 || usagePercent < policy.highThresholdPercent) return plan;
  plan.amountToFree = Math.max(0, Math.floor((fs.capacityBytes * (100 - policy.lowThresholdPercent)) / 100) - fs.availableBytes);
  const candidates = images
    .filter((i) => records.has(i.id) && !inUse.has(i.id) && !pinned.has(i.id) && now - records.get(i.id)!.firstDetected >= policy.minAgeMs)
    .sort((a, b) => records.get(a.id)!.lastUsed - records.get(b.id)!.lastUsed || records.get(a.id)!.firstDetected - records.get(b.id)!.firstDetected);
  for (const i of candidates) {
    if (plan.freeable >= plan.amountToFree) break;
    plan.toRemove.push(i.id);
    plan.freeable += i.sizeBytes;
  }
  return plan;
}

export interface ImageGCOptions {
  runtime: ContainerRuntime;
  nodeName: string;
  policy: ImageGCPolicy;
  /** Where the image records persist across kubelet restarts (`<root-dir>/image-gc.json`); in memory when absent. */
  stateFile?: string;
  log: Logger;
  now?: () => number;
  /** Called when a pass could not free enough (Kubernetes' FreeDiskSpaceFailed node event). */
  onFailure?: (message: string) => void;
}

/**
 * Removes unused images under disk pressure. Only images this kubelet's pods
 * used are candidates: the Docker engine is shared with the user's own images
 * (and other nodes), which a Kubernetes node's image store is not.
 */
export class ImageGC {
  private records = new Map<string, ImageRecord>();
  private loaded = false;

  constructor(private readonly opts: ImageGCOptions) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    if (!this.opts.stateFile) return;
    try {
      const data = JSON.parse(await fs.readFile(this.opts.stateFile, 'utf8')) as Record<string, ImageRecord>;
      for (const [id, r] of Object.entries(data)) if (Number.isFinite(r?.firstDetected) && Number.isFinite(r?.lastUsed)) this.records.set(id, r);
    } catch {
      // no state yet, or unreadable: start over
    }
  }

  private async save(): Promise<void> {
    if (!this.opts.stateFile) return;
    await fs.mkdir(path.dirname(this.opts.stateFile), { recursive: true });
    const tmp = `${this.opts.stateFile}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(Object.fromEntries(this.records)));
    await fs.rename(tmp, this.opts.stateFile);
  }

  /** A container of this node was started from `imageId` (called by the pod manager). */
  recordUse(imageId: string): void {
    if (!imageId) return;
    const now = this.now();
    const r = this.records.get(imageId);
    this.records.set(imageId, { firstDetected: r?.firstDetected ?? now, lastUsed: now });
  }

  /** Images this kubelet knows its pods used (for tests and diagnostics). */
  known(): string[] {
    return [...this.records.keys()];
  }

  /** One pass: records what this node's containers use, then frees space if the thresholds say so. */
  async collect(): Promise<ImageGCPlan & { removed: string[] }> {
    await this.load();
    const { runtime, log, policy } = this.opts;
    const now = this.now();
    const [mine, images, inUse, stats, pauseId] = await Promise.all([
      runtime.listContainers({ [LABEL_NODE]: this.opts.nodeName }),
      runtime.listImages(),
      runtime.imagesInUse(),
      runtime.imageFsStats(),
      runtime.imageIdOf(PAUSE_IMAGE),
    ]);
    for (const c of mine) if (c.containerName !== SANDBOX_CONTAINER_NAME) this.recordUse(c.imageId);
    const present = new Set(images.map((i) => i.id));
    for (const id of this.records.keys()) if (!present.has(id)) this.records.delete(id);
    const plan = planImageGC(images, this.records, inUse, new Set(pauseId ? [pauseId] : []), stats, policy, now);
    const removed: string[] = [];
    let freed = 0;
    for (const id of plan.toRemove) {
      const img = images.find((i) => i.id === id);
      if (await runtime.removeImage(id)) {
        removed.push(id);
        freed += img?.sizeBytes ?? 0;
        this.records.delete(id);
        log.info({ image: id, tags: img?.tags, bytes: img?.sizeBytes }, 'image GC removed an unused image');
      }
    }
    if (plan.amountToFree > 0 && freed < plan.amountToFree) {
      const message = `Failed to garbage collect required amount of images. Attempted to free ${plan.amountToFree} bytes, but only found ${freed} bytes eligible to free.`;
      log.warn({ usagePercent: plan.usagePercent, amountToFree: plan.amountToFree, freed }, 'image GC could not free enough');
      this.opts.onFailure?.(message);
    }
    await this.save().catch((err: Error) => log.warn({ err: err.message }, 'cannot save image GC state'));
    return { ...plan, removed };
  }
}
