import type { OwnerReference } from 'kubernetes-types/meta/v1';
import type { KubeObject } from '../../lib/client';

export type OwnerState = 'exists' | 'absent' | 'deleting-orphan' | 'deleting-foreground' | 'unknown';

/**
 * What the garbage collector does with one dependent, given the state of each
 * of its owners (looked up by uid):
 * - `delete`: every owner is absent (a dependent whose owners all went away);
 * - `orphan`: drop the ownerReferences to owners being deleted with
 *   propagationPolicy Orphan (the `orphan` finalizer);
 * - `none`: some owner still exists (or is of a kind we cannot look up).
 * Foreground deletion of an owner also deletes the dependent.
 */
export type GcDecision = { action: 'none' } | { action: 'delete' } | { action: 'orphan'; remove: string[] };

export function decide(obj: KubeObject, ownerState: (ref: OwnerReference) => OwnerState): GcDecision {
  const refs = obj.metadata?.ownerReferences ?? [];
  if (refs.length === 0 || obj.metadata?.deletionTimestamp) return { action: 'none' };
  const states = refs.map((r) => ({ r, s: ownerState(r) }));
  const orphanFrom = states.filter((x) => x.s === 'deleting-orphan').map((x) => x.r.uid);
  if (orphanFrom.length) return { action: 'orphan', remove: orphanFrom };
  const alive = states.filter((x) => x.s === 'exists' || x.s === 'unknown');
  if (alive.length === 0) return { action: 'delete' };
  return { action: 'none' };
}
