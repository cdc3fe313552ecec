import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from './sync';

/**
 * What this controller last wrote to each slice (Kubernetes'
 * EndpointSliceTracker), so a reconcile never plans from a cache that has not
 * seen its own writes yet: planned from such a cache it would, for example,
 * create a second slice for endpoints it has just put into the first.
 * Versions are resourceVersions (store revisions, so they compare as numbers).
 */
export class SliceTracker {
  /** service key → slice uid → resourceVersion written, or 'deleted'. */
  private readonly bySvc = new Map<string, Map<string, number | 'deleted'>>();

  private of(svc: string): Map<string, number | 'deleted'> {
    let m = this.bySvc.get(svc);
    if (!m) this.bySvc.set(svc, (m = new Map()));
    return m;
  }

  /** Records a create or update the apiserver answered with `slice`. */
  written(svc: string, slice: EndpointSlice): void {
    const uid = slice.metadata?.uid;
    if (uid) this.of(svc).set(uid, Number(slice.metadata?.resourceVersion ?? 0));
  }

  /** Records a delete this controller sent. */
  deleted(svc: string, slice: EndpointSlice): void {
    const uid = slice.metadata?.uid;
    if (uid) this.of(svc).set(uid, 'deleted');
  }

  /** The informer saw a slice go: nothing to wait for any more. */
  gone(svc: string, slice: EndpointSlice): void {
    const m = this.bySvc.get(svc);
    if (!m || !slice.metadata?.uid) return;
    m.delete(slice.metadata.uid);
    if (m.size === 0) this.bySvc.delete(svc);
  }

  forget(svc: string): void {
    this.bySvc.delete(svc);
  }

  /** Whether the cached slices of `svc` are older than what this controller wrote. */
  stale(svc: string, cached: EndpointSlice[]): boolean {
    const m = this.bySvc.get(svc);
    if (!m) return false;
    const seen = new Set<string>();
    for (const s of cached) {
      const uid = s.metadata?.uid ?? '';
      seen.add(uid);
      const want = m.get(uid);
      if (want === undefined) continue;
      if (want === 'deleted' || want > Number(s.metadata?.resourceVersion ?? 0)) return true;
    }
    for (const [uid, want] of m) if (want !== 'deleted' && !seen.has(uid)) return true;
    return false;
  }
}

/** The slice-informer handlers both slice controllers need: a slice `managedBy` owns that someone changed or deleted enqueues its Service; a deleted one is also forgotten by the tracker. */
export function ownSliceHandlers(managedBy: string, tracker: SliceTracker, enqueue: (key: string) => void) {
  const serviceKey = (s: EndpointSlice) =>
    s.metadata?.labels?.[MANAGED_BY_LABEL] === managedBy && s.metadata.labels[SERVICE_NAME_LABEL] ? `${s.metadata.namespace}/${s.metadata.labels[SERVICE_NAME_LABEL]}` : undefined;
  const onSlice = (s: EndpointSlice) => {
    const key = serviceKey(s);
    if (key) enqueue(key);
  };
  return {
    add: onSlice,
    update: (_o: EndpointSlice, s: EndpointSlice) => onSlice(s),
    delete: (s: EndpointSlice) => {
      const key = serviceKey(s);
      if (key) tracker.gone(key, s);
      onSlice(s);
    },
  };
}
