import type { LabelSelector } from 'kubernetes-types/meta/v1';
import type { KubeObject } from '../../lib/client';
import { controllerRef } from './owners';
import { matchesSelector } from './selectors';

/**
 * Kubernetes' ControllerRefManager as a pure decision: which of the objects
 * in an owner's namespace it owns, which orphans it adopts and which of its
 * own it releases. Shared by the ReplicaSet, DaemonSet, StatefulSet and Job
 * controllers (pods) and the DaemonSet and StatefulSet ones (ControllerRevisions).
 */
export interface ClaimPlan<T> {
  /** Controlled by the owner and still matching: its objects. */
  owned: T[];
  /** No controller, matching, not being deleted: to get the owner as controller (then owned). */
  adopt: T[];
  /** Controlled by the owner but no longer matching: to lose that ownerReference. */
  release: T[];
}

export interface ClaimOptions<T> {
  /** Besides the selector, what else an object must satisfy to belong (StatefulSet: its name is `<set>-<ordinal>`). */
  filter?: (o: T) => boolean;
}

/**
 * Sorts `objects` (already limited to the owner's namespace) as ClaimObject
 * does: owned by another controller → ignored; owned by this one → kept if it
 * matches, else released (unless the owner is being deleted); an orphan is
 * adopted when it matches and neither it nor the owner is being deleted.
 * An owner without a selector, or with an empty one, matches nothing here:
 * the apiserver refuses those, and an empty one would adopt every orphan.
 */
export function planClaims<T extends KubeObject>(owner: KubeObject, selector: LabelSelector | undefined, objects: T[], o: ClaimOptions<T> = {}): ClaimPlan<T> {
  const plan: ClaimPlan<T> = { owned: [], adopt: [], release: [] };
  const uid = owner.metadata?.uid;
  const ownerDeleting = !!owner.metadata?.deletionTimestamp;
  const usable = !!selector && (Object.keys(selector.matchLabels ?? {}).length > 0 || (selector.matchExpressions ?? []).length > 0);
  const match = (x: T) => usable && matchesSelector(selector, x.metadata?.labels) && (o.filter?.(x) ?? true);
  for (const x of objects) {
    if (x.metadata?.namespace !== owner.metadata?.namespace) continue;
    const ref = controllerRef(x);
    if (ref) {
      if (!uid || ref.uid !== uid) continue;
      if (match(x)) plan.owned.push(x);
      else if (!ownerDeleting) plan.release.push(x);
      continue;
    }
    if (ownerDeleting || x.metadata?.deletionTimestamp || !match(x)) continue;
    plan.adopt.push(x);
  }
  return plan;
}

/** The owners among `owners` (same namespace, matching selector) that would adopt orphan `obj`; none when it has a controller. */
export function adoptersOf<O extends KubeObject>(obj: KubeObject, owners: O[], selectorOf: (o: O) => LabelSelector | undefined): O[] {
  if (controllerRef(obj) || obj.metadata?.deletionTimestamp) return [];
  return owners.filter((o) => o.metadata?.namespace === obj.metadata?.namespace && planClaims(o, selectorOf(o), [obj]).adopt.length > 0);
}
