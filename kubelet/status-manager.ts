import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import { ApiError, type ApiClient } from '../lib/client';
import type { Logger } from '../lib/log';
import { PODS } from '../lib/resources';
import type { KubeletMetrics } from './metrics';
import type { PodStatusSink } from './sync-pod';
import { statusEqual } from './pod-status';

interface Pending {
  pod: Pod;
  status: PodStatus;
}

/**
 * Writes pod statuses to the apiserver, only when they changed: a status equal
 * to the last one written (or, before any write, to the API's copy) is
 * dropped. Writes are a merge PATCH of pods/<name>/status carrying
 * metadata.uid, so a status never lands on a recreated pod of the same name;
 * when the server refuses merge patches it falls back to GET + PUT. Failed
 * writes are retried with the newest status for that pod.
 */
export class StatusManager implements PodStatusSink {
  private readonly written = new Map<string, PodStatus>();
  private readonly pending = new Map<string, Pending>();
  /** Pods whose status is being written: one write per pod at a time, so writes never overtake each other. */
  private readonly inFlight = new Map<string, PodStatus>();
  private readonly writers = new Set<Promise<void>>();
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly client: ApiClient,
    private readonly log: Logger,
    private readonly metrics?: KubeletMetrics,
    /** Writes in flight at once (different pods); a burst of pod starts is not reported one by one. */
    private readonly concurrency = 8,
  ) {}

  setStatus(pod: Pod, status: PodStatus): void {
    const uid = pod.metadata?.uid;
    if (!uid || this.stopped) return;
    // A status equal to the one being written needs no write of its own (a failed write is retried with it).
    const base = this.inFlight.get(uid) ?? this.written.get(uid) ?? pod.status;
    if (statusEqual(base, status)) {
      this.pending.delete(uid);
      return;
    }
    this.pending.set(uid, { pod, status });
    this.kick();
  }

  async deletePod(pod: Pod): Promise<void> {
    const uid = pod.metadata?.uid;
    try {
      await this.client.delete(PODS, pod.metadata!.name!, {
        namespace: pod.metadata?.namespace,
        gracePeriodSeconds: 0,
        preconditions: uid ? { uid } : undefined,
      });
    } catch (err) {
      // Gone already, or the name now belongs to another pod (uid precondition): nothing left to delete.
      if (!(err instanceof ApiError && (err.notFound || err.conflict))) throw err;
    }
    if (uid) {
      this.pending.delete(uid);
      this.written.delete(uid);
    }
  }

  /**
   * The API's copy of a pod changed. When another writer turned its Ready or
   * ContainersReady condition away from what this kubelet last wrote (the
   * node lifecycle controller sets them False on a node it could not reach)
   * and no write of ours is pending or in flight, our last status is written
   * again, as kubelet's status manager reconciles its cache with the API.
   * Only those conditions are compared, so fields the apiserver adds never
   * cause a write.
   */
  apiStatusChanged(pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid || this.stopped || this.pending.has(uid) || this.inFlight.has(uid)) return;
    const mine = this.written.get(uid);
    if (!mine || readiness(mine) === readiness(pod.status)) return;
    this.log.info({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` }, 'pod readiness was changed by another writer; writing ours again');
    this.pending.set(uid, { pod, status: mine });
    this.kick();
  }

  /** Drops what is known about a pod that left this node. */
  forget(uid: string): void {
    this.pending.delete(uid);
    this.written.delete(uid);
  }

  /** Resolves once everything pending was attempted. */
  async flush(): Promise<void> {
    while (this.writers.size > 0) await Promise.all([...this.writers]);
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /** Starts writers (up to `concurrency`) while some pending pod is not being written. */
  private kick(): void {
    while (!this.stopped && this.writers.size < this.concurrency && this.nextUid() !== undefined) {
      const w: Promise<void> = this.run().finally(() => {
        this.writers.delete(w);
        // A status that arrived for a pod while its write was in flight may have no writer left.
        if (this.writers.size === 0 && this.nextUid() !== undefined && !this.retryTimer) this.kick();
      });
      this.writers.add(w);
    }
  }

  private nextUid(): string | undefined {
    for (const uid of this.pending.keys()) if (!this.inFlight.has(uid)) return uid;
    return undefined;
  }

  /** One writer: takes pending pods not in flight, newest status each, until none is left or a write fails (then retries after 1 s). */
  private async run(): Promise<void> {
    for (let uid = this.nextUid(); uid !== undefined && !this.stopped; uid = this.nextUid()) {
      const p = this.pending.get(uid)!;
      this.pending.delete(uid);
      this.inFlight.set(uid, p.status);
      try {
        await this.write(p);
        this.written.set(uid, p.status);
        this.metrics?.statusWrites.inc({ result: 'ok' });
      } catch (err) {
        if (err instanceof ApiError && err.notFound) continue; // pod gone
        this.metrics?.statusWrites.inc({ result: 'error' });
        this.log.warn({ pod: `${p.pod.metadata?.namespace}/${p.pod.metadata?.name}`, err: (err as Error).message }, 'pod status write failed; will retry');
        if (!this.pending.has(uid)) this.pending.set(uid, p);
        if (!this.stopped && !this.retryTimer) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.kick();
          }, 1_000);
          this.retryTimer.unref();
        }
        return;
      } finally {
        this.inFlight.delete(uid);
      }
    }
  }

  private async write({ pod, status }: Pending): Promise<void> {
    const name = pod.metadata!.name!;
    const namespace = pod.metadata?.namespace;
    try {
      await this.client.patch(PODS, name, { metadata: { uid: pod.metadata?.uid }, status }, { namespace, subresource: 'status', type: 'merge' });
      return;
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 405 || err.code === 415))) throw err;
    }
    const current = await this.client.get<Pod>(PODS, name, namespace);
    if (current.metadata?.uid !== pod.metadata?.uid) throw new ApiError(404, 'NotFound', `pod ${namespace}/${name} was recreated`);
    await this.client.updateStatus(PODS, { ...current, status: { ...current.status, ...status } } as Pod & Record<string, unknown>);
  }
}

/** The pod's Ready and ContainersReady condition statuses, as one string. */
function readiness(s: PodStatus | undefined): string {
  const of = (t: string) => s?.conditions?.find((c) => c.type === t)?.status ?? '';
  return `${of('Ready')}/${of('ContainersReady')}`;
}
