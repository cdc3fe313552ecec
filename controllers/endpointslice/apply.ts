import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { ApiError, type ApiClient, type KubeObject } from '../../lib/client';
import { ENDPOINT_SLICES } from '../../lib/resources';
import type { SlicePlan } from './sync';
import type { SliceTracker } from './tracker';

type Slice = EndpointSlice & KubeObject;

/**
 * Writes a plan (creates, then updates, then deletes, as upstream's
 * finalize), recording each write on `tracker` under `key`. Returns false
 * when a write met a conflict: the cache was behind, plan again.
 */
export async function applySlicePlan(client: ApiClient, tracker: SliceTracker, key: string, namespace: string | undefined, plan: SlicePlan, opts: { create: boolean }): Promise<boolean> {
  try {
    if (opts.create) for (const s of plan.create) tracker.written(key, await client.create<Slice>(ENDPOINT_SLICES, s as Slice, namespace));
    for (const s of plan.update) tracker.written(key, await client.update<Slice>(ENDPOINT_SLICES, s as Slice));
    for (const s of plan.delete) {
      tracker.deleted(key, s);
      await client.delete(ENDPOINT_SLICES, s.metadata?.name ?? '', { namespace, ignoreNotFound: true, preconditions: s.metadata?.uid ? { uid: s.metadata.uid } : undefined });
    }
  } catch (err) {
    if (err instanceof ApiError && err.conflict) return false;
    throw err;
  }
  return true;
}
