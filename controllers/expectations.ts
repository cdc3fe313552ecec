import type { Pod } from 'kubernetes-types/core/v1';
import type { Clock } from '../lib/clock';
import { realClock } from '../lib/clock';
import type { InformerHandlers } from '../lib/informer';

/**
 * Remembers which pods a controller has asked to create or delete for a key and
 * not yet seen in its informer (client-go's ControllerExpectations, by name).
 * While expectations are pending the controller must not act on its (stale)
 * cache, or it would create or delete the same pods twice. Names are recorded
 * *before* the API call, so a watch event that beats the response is not lost.
 * Expectations expire after `ttlMs` so a lost event cannot wedge a key.
 */
export class Expectations {
  private readonly entries = new Map<string, { adds: Set<string>; dels: Set<string>; at: number }>();

  constructor(private readonly ttlMs = 60_000, private readonly clock: Clock = realClock) {}

  private entry(key: string) {
    let e = this.entries.get(key);
    if (!e) {
      e = { adds: new Set(), dels: new Set(), at: this.clock.now() };
      this.entries.set(key, e);
    }
    return e;
  }

  expectCreations(key: string, names: string[]): void {
    const e = this.entry(key);
    e.at = this.clock.now();
    for (const n of names) e.adds.add(n);
  }

  expectDeletions(key: string, names: string[]): void {
    const e = this.entry(key);
    e.at = this.clock.now();
    for (const n of names) e.dels.add(n);
  }

  creationObserved(key: string, name: string): void {
    this.entries.get(key)?.adds.delete(name);
  }

  deletionObserved(key: string, name: string): void {
    this.entries.get(key)?.dels.delete(name);
  }

  /** True when nothing is pending for `key` or the pending expectations expired. */
  satisfied(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return true;
    if (e.adds.size === 0 && e.dels.size === 0) return true;
    if (this.clock.now() - e.at > this.ttlMs) {
      this.entries.delete(key);
      return true;
    }
    return false;
  }

  pending(key: string): { adds: number; dels: number } {
    const e = this.entries.get(key);
    return { adds: e?.adds.size ?? 0, dels: e?.dels.size ?? 0 };
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * Informer handlers for the pods a controller owns (client-go's addPod, updatePod
 * and deletePod): each event settles the expectations of the pod's owner (seen
 * created; seen terminating or deleted) and enqueues the owner, and the old owner
 * too when a pod changed owners.
 */
export function ownedPodHandlers(expectations: Expectations, ownerKey: (p: Pod) => string | undefined, enqueue: (key: string) => void): InformerHandlers<Pod> {
  const seen = (p: Pod, deleted: boolean) => {
    const k = ownerKey(p);
    if (!k) return;
    const name = p.metadata?.name ?? '';
    expectations.creationObserved(k, name);
    if (deleted || p.metadata?.deletionTimestamp) expectations.deletionObserved(k, name);
    enqueue(k);
  };
  return {
    add: (p) => seen(p, false),
    update: (o, p) => {
      const was = ownerKey(o);
      if (was && was !== ownerKey(p)) enqueue(was);
      seen(p, false);
    },
    delete: (p) => seen(p, true),
  };
}
