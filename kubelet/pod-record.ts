import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import type { PodObjects } from './pod-inputs';
import type { WaitingReason } from './pod-observe';
import type { RuntimeContainer } from './runtime';

/** When a pod's next sandbox creation may run, after a failed one (sandbox-start.ts). */
export interface SandboxBackoff {
  until: number;
  delayMs: number;
  /** The last failure's message: its FailedCreatePodSandBox event is recorded once, not per attempt. */
  message?: string;
}

/** When a container's next image pull may run, after a failed one (container-start.ts). */
export interface ImageBackoff {
  until: number;
  delay: number;
}

/** A node-wide listing's share for one pod, and the listing's place in the manager's sequence (see `PodRecord.syncEndSeq`). */
export interface ListedContainers {
  containers: RuntimeContainer[];
  seq: number;
}

/**
 * Everything the kubelet keeps about one pod (by UID) between its syncs, as
 * Kubernetes' pod workers keep a podSyncStatus: the desired pod, the status
 * last computed, why containers wait, backoffs, and what a sync is to act on
 * next. The runtime stays the source of truth for containers; this record
 * holds only what the runtime cannot show. A record lives from the first time
 * the pod (or a container of it) is seen until the pod is gone from the API and
 * from the runtime; forgetting a pod is dropping its record (plus stopping its
 * probe workers, which run on their own timers).
 */
export class PodRecord {
  /** The pod from the API (the informer's latest copy); undefined once removed from it, or for containers of a pod never seen. */
  pod?: Pod;
  /** Removed from the API while its containers may still run (a force delete): they get a short grace period. */
  forceDeleted = false;
  /** The status the last sync computed (fresher than the informer's copy). */
  lastStatus?: PodStatus;
  /** Why containers wait, by container name, when the runtime state alone does not show it (pull, config, mount errors). */
  readonly waiting = new Map<string, WaitingReason>();
  /** The ConfigMaps and Secrets last read for the pod: used when the API cannot be read. */
  objects?: PodObjects;
  /** The end of the backoff a BackOff event was last recorded for, by container name (one event per backoff period). */
  readonly backoffEvents = new Map<string, number>();
  /** Container instances (by ID → message) the prober gave up on; the next sync stops them. */
  readonly unhealthy = new Map<string, string>();
  /** Set after a failed sandbox creation. */
  sandboxBackoff?: SandboxBackoff;
  /** Image pull backoff by container name. */
  readonly imageBackoff = new Map<string, ImageBackoff>();
  /** Termination messages of dead containers by container ID (a dead container's message never changes). */
  readonly terminationMessages = new Map<string, string>();
  /**
   * The pod's containers from the last node-wide listing, used by its next sync
   * instead of a listing of its own when that listing began after the pod's
   * previous sync ended (`seq` > `syncEndSeq`): one runtime call per resync, not one per pod.
   */
  listed?: ListedContainers;
  /** The manager's sequence number when the pod's last sync ended (when the record was made, before any). */
  syncEndSeq: number;
  /** Callers waiting for a sync not begun yet (PodManager.updatePod, sync, ...): woken when it ends. */
  readonly waiters: (() => void)[] = [];
  /** Resolves when the sync in flight ends; undefined when none is. */
  syncing?: Promise<void>;

  constructor(
    readonly uid: string,
    seq: number,
  ) {
    this.syncEndSeq = seq;
  }

  /** `pod` (this pod, as a sync began with it) with the status last computed merged over the API's copy. */
  withLastStatus(pod: Pod): Pod {
    const last = this.lastStatus;
    return last ? { ...pod, status: { ...pod.status, ...last } } : pod;
  }

  /** The earlier of `at` and the end of the pod's image pull backoffs: when its next sync is due. */
  resyncAt(at: number | undefined): number | undefined {
    for (const b of this.imageBackoff.values()) at = Math.min(at ?? Infinity, b.until);
    return at;
  }
}
