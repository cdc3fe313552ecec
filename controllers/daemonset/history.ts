import type { ControllerRevision, DaemonSet } from 'kubernetes-types/apps/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import { canonicalJson, computeHash } from '../util/hash';
import { newControllerRef } from '../util/owners';
import { HASH_LABEL } from './placement';

/**
 * A DaemonSet's history as ControllerRevisions, as Kubernetes keeps it: one
 * revision per distinct pod template, named `<ds>-<hash>`, whose `data` is the
 * strategic merge patch that restores that template (what `kubectl rollout
 * undo` sends back), numbered in order of use. Pure.
 */

/** The patch `{"spec":{"template":{…,"$patch":"replace"}}}` that restores the DaemonSet's current template. */
export function revisionData(ds: DaemonSet): Record<string, unknown> {
  return { spec: { template: { ...structuredClone(ds.spec?.template ?? {}), $patch: 'replace' } } };
}

/** Whether revision `cr` holds the DaemonSet's current template. */
export function revisionMatches(ds: DaemonSet, cr: ControllerRevision): boolean {
  return canonicalJson(cr.data ?? null) === canonicalJson(revisionData(ds));
}

/** The hash of the current template (plus status.collisionCount), the new revision's name suffix and pod label. */
export function templateHash(ds: DaemonSet): string {
  return computeHash(ds.spec?.template, ds.status?.collisionCount);
}

/** A revision of the DaemonSet's current template, number `revision`. */
export function newRevision(ds: DaemonSet, revision: number): ControllerRevision {
  const hash = templateHash(ds);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${ds.metadata?.name}-${hash}`,
      namespace: ds.metadata?.namespace,
      labels: { ...(ds.spec?.template?.metadata?.labels ?? {}), [HASH_LABEL]: hash },
      ...(ds.metadata?.annotations ? { annotations: { ...ds.metadata.annotations } } : {}),
      ownerReferences: [newControllerRef(ds, 'apps/v1', 'DaemonSet')],
    },
    data: revisionData(ds),
    revision,
  };
}

export interface HistoryPlan {
  /** The revision of the current template, when it exists already. */
  current?: ControllerRevision;
  /** The revision to create when none holds the current template. */
  create?: ControllerRevision;
  /** `current` renumbered to the newest revision (the template came back: a rollback). */
  renumber?: ControllerRevision;
  /** Extra revisions of the current template (left by a lost race), to delete. */
  duplicates: ControllerRevision[];
  /** Revisions of other templates. */
  old: ControllerRevision[];
  /** The current revision's hash: the label new pods carry. */
  hash: string;
}

const revNum = (cr: ControllerRevision) => cr.revision ?? 0;

/** From the revisions the DaemonSet controls: which one is current, and what to create, renumber or delete. */
export function planHistory(ds: DaemonSet, revisions: ControllerRevision[]): HistoryPlan {
  const matching = revisions.filter((cr) => revisionMatches(ds, cr));
  const old = revisions.filter((cr) => !revisionMatches(ds, cr));
  const next = old.reduce((m, cr) => Math.max(m, revNum(cr)), 0) + 1;
  if (matching.length === 0) {
    const create = newRevision(ds, next);
    return { create, duplicates: [], old, hash: create.metadata!.labels![HASH_LABEL] };
  }
  let keep = matching[0];
  for (const cr of matching) if (revNum(cr) >= revNum(keep)) keep = cr;
  const plan: HistoryPlan = {
    current: keep,
    duplicates: matching.filter((cr) => cr !== keep),
    old,
    hash: keep.metadata?.labels?.[HASH_LABEL] ?? keep.metadata?.name ?? '',
  };
  if (revNum(keep) < next) plan.renumber = { ...structuredClone(keep), revision: next };
  return plan;
}

/**
 * Old revisions beyond spec.revisionHistoryLimit (default 10) to delete,
 * oldest first; a revision some pod still carries is kept.
 */
export function revisionsToPrune(ds: DaemonSet, old: ControllerRevision[], pods: Pod[]): ControllerRevision[] {
  const limit = ds.spec?.revisionHistoryLimit ?? 10;
  let toKill = old.length - limit;
  if (toKill <= 0) return [];
  const live = new Set(pods.map((p) => p.metadata?.labels?.[HASH_LABEL]).filter(Boolean));
  const out: ControllerRevision[] = [];
  for (const cr of [...old].sort((a, b) => revNum(a) - revNum(b))) {
    if (toKill <= 0) break;
    if (live.has(cr.metadata?.labels?.[HASH_LABEL])) continue;
    out.push(cr);
    toKill--;
  }
  return out;
}
