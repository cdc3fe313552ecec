import type { ControllerRevision, StatefulSet } from 'kubernetes-types/apps/v1';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1';
import { canonicalJson, computeHash } from '../util/hash';
import { newControllerRef } from '../util/owners';

/**
 * A StatefulSet's history as ControllerRevisions, as Kubernetes keeps it:
 * each revision's `data` is the strategic merge patch
 * `{"spec":{"template":{…,"$patch":"replace"}}}` that puts that template back
 * (so `kubectl rollout undo` can PATCH it onto the set as is), its name is
 * `<set>-<hash of data>`, its `revision` a number one above the highest so
 * far. Pure.
 */

/** The label carrying a revision's hash (Kubernetes' ControllerRevisionHashLabelKey). */
export const REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';

export interface RevisionData {
  spec: { template: PodTemplateSpec & { $patch?: string } };
}

/** The patch a revision stores for `set`'s current template. */
export function revisionData(set: StatefulSet): RevisionData {
  return { spec: { template: { ...structuredClone(set.spec?.template ?? {}), $patch: 'replace' } } };
}

/** The template a revision restores (its data without the patch directive). */
export function templateOf(rev: ControllerRevision): PodTemplateSpec {
  const t = (rev.data as RevisionData | undefined)?.spec?.template ?? {};
  const { $patch: _directive, ...rest } = t;
  return structuredClone(rest);
}

/** Whether two revisions restore the same template. */
export function sameData(a: ControllerRevision, b: ControllerRevision): boolean {
  return canonicalJson(a.data ?? null) === canonicalJson(b.data ?? null);
}

/** A new (unsaved) revision of `set`'s current template, numbered `revision`. */
export function newRevision(set: StatefulSet, revision: number, collisionCount: number): ControllerRevision {
  const data = revisionData(set);
  const hash = computeHash(data, collisionCount);
  const prefix = (set.metadata?.name ?? '').slice(0, 222);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${prefix}-${hash}`,
      namespace: set.metadata?.namespace,
      labels: { ...(set.spec?.template?.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
      // Kubernetes copies the set's annotations (so kubernetes.io/change-cause shows in rollout history).
      ...(set.metadata?.annotations ? { annotations: { ...set.metadata.annotations } } : {}),
      ownerReferences: [newControllerRef(set, 'apps/v1', 'StatefulSet')],
    },
    data,
    revision,
  };
}

export function byRevision(a: ControllerRevision, b: ControllerRevision): number {
  return (a.revision ?? 0) - (b.revision ?? 0) || ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1);
}

export interface RevisionPlan {
  /** The revision pods are rolled back to or kept at (status.currentRevision). */
  current: ControllerRevision;
  /** The revision of the set's template now (status.updateRevision). */
  update: ControllerRevision;
  /** Set when `update` does not exist yet and must be created (then `update` is it). */
  create?: ControllerRevision;
  /** Set when an older revision equals the template (a rollback): it is renumbered to the newest. */
  renumber?: ControllerRevision;
}

/**
 * Finds or makes the update revision for `set` among `owned`, and its current
 * revision: the one status.currentRevision names, else the update revision.
 */
export function planRevisions(set: StatefulSet, owned: ControllerRevision[]): RevisionPlan {
  const sorted = [...owned].sort(byRevision);
  const next = sorted.length ? (sorted[sorted.length - 1].revision ?? 0) + 1 : 1;
  const candidate = newRevision(set, next, set.status?.collisionCount ?? 0);
  const equal = sorted.filter((r) => sameData(r, candidate));
  let update: ControllerRevision;
  const plan: Partial<RevisionPlan> = {};
  if (equal.length && equal[equal.length - 1] === sorted[sorted.length - 1]) {
    update = equal[equal.length - 1];
  } else if (equal.length) {
    update = { ...structuredClone(equal[equal.length - 1]), revision: next };
    plan.renumber = update;
  } else {
    update = candidate;
    plan.create = candidate;
  }
  const currentName = set.status?.currentRevision;
  const current = (currentName && currentName !== update.metadata?.name && sorted.find((r) => r.metadata?.name === currentName)) || update;
  return { ...plan, current, update };
}

/**
 * Revisions beyond spec.revisionHistoryLimit, oldest first, to delete: never
 * the current or update revision nor one a pod still runs.
 */
export function historyToTrim(set: StatefulSet, owned: ControllerRevision[], live: Set<string>): ControllerRevision[] {
  const limit = set.spec?.revisionHistoryLimit ?? 10;
  const old = owned.filter((r) => !live.has(r.metadata?.name ?? '') && !r.metadata?.deletionTimestamp).sort(byRevision);
  return old.slice(0, Math.max(0, old.length - limit));
}
