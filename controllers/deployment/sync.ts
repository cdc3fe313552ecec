import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1';
type IntOrString = number | string;
import { canonicalJson, computeHash } from '../util/hash';
import { newControllerRef } from '../util/owners';
import { rfc3339 } from '../../lib/time';

export const HASH_LABEL = 'pod-template-hash';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
/** Longest revision-history annotation kept (kube-controller-manager's default, in characters). */
const REVISION_HISTORY_LIMIT_CHARS = 2000;

/** Deployment annotations that are not copied to its ReplicaSets (Kubernetes' list). */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration', REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, 'deprecated.deployment.rollback.to',
]);

/**
 * The new ReplicaSet's annotations given the Deployment's: its own, overwritten by the
 * Deployment's (`kubernetes.io/change-cause` among them) except the controller's
 * bookkeeping and kubectl's last-applied configuration.
 */
export function copiedAnnotations(d: Deployment, rsAnnotations: Record<string, string> = {}): Record<string, string> {
  const out = { ...rsAnnotations };
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) if (!NOT_COPIED.has(k)) out[k] = v;
  return out;
}

/**
 * The revision-history annotation after `old` gives way to a newer revision (a rollback
 * to this template): the old number appended, the oldest dropped beyond the length limit.
 */
export function appendRevisionHistory(history: string | undefined, old: string): string {
  const list = history ? history.split(',') : [];
  list.push(old);
  while (list.join(',').length > REVISION_HISTORY_LIMIT_CHARS && list.length > 1) list.shift();
  return list.join(',');
}

export interface ScaleAction {
  rs: ReplicaSet;
  from: number;
  to: number;
}

/**
 * One step of a Deployment's rollout, computed from observed state only:
 * what to create, which ReplicaSets to rewrite (scale and/or annotations),
 * which old ReplicaSets to delete (history limit), and the status to write.
 * Applying it and recomputing converges; each step is safe to repeat.
 */
export interface DeploymentPlan {
  /** The new ReplicaSet to create (its spec.replicas is its initial size). */
  create?: ReplicaSet;
  /** Full ReplicaSet objects to PUT (resourceVersion from the cache guards staleness). */
  update: ReplicaSet[];
  /** Scale changes among `create`/`update`, for events. */
  scales: ScaleAction[];
  /** Old ReplicaSets beyond revisionHistoryLimit to delete. */
  delete: ReplicaSet[];
  status: DeploymentStatus;
  /** The revision of the new ReplicaSet, for the Deployment's own annotation. */
  revision?: string;
  /** When to look again (progress deadline), in ms. */
  requeueAfterMs?: number;
}

/** Resolves an IntOrString ("25%" or 1) against `total`, rounding up or down. */
export function resolveIntOrPercent(v: IntOrString | undefined, total: number, roundUp: boolean, dflt: IntOrString): number {
  const x = v ?? dflt;
  if (typeof x === 'number') return x;
  const m = /^(\d+)%$/.exec(x);
  if (!m) {
    const n = Number(x);
    return Number.isFinite(n) ? n : 0;
  }
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}

/** maxSurge and maxUnavailable as numbers; both 0 becomes unavailable 1 (as Kubernetes does). */
export function surgeAndUnavailable(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  const replicas = d.spec?.replicas ?? 1;
  if (d.spec?.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: replicas };
  const ru = d.spec?.strategy?.rollingUpdate;
  const maxSurge = resolveIntOrPercent(ru?.maxSurge, replicas, true, '25%');
  let maxUnavailable = resolveIntOrPercent(ru?.maxUnavailable, replicas, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

/**
 * A value without nulls and empty objects or lists, at any depth: how a Go client writes a
 * template back (`kubectl rollout undo` sends `creationTimestamp: null`, `resources: {}`)
 * does not make it another template (Kubernetes compares the decoded structs).
 */
function pruned(v: unknown): unknown {
  if (Array.isArray(v)) {
    const a = v.map(pruned).filter((x) => x !== undefined);
    return a.length ? a : undefined;
  }
  if (v === null) return undefined;
  if (typeof v !== 'object') return v;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const p = pruned(x);
    if (p !== undefined) o[k] = p;
  }
  return Object.keys(o).length ? o : undefined;
}

function withoutHash(t: PodTemplateSpec | undefined): string {
  const c = structuredClone(t ?? {});
  if (c.metadata?.labels) delete c.metadata.labels[HASH_LABEL];
  return canonicalJson(pruned(c) ?? {});
}

/** Whether two pod templates are equal ignoring the pod-template-hash label. */
export function templatesEqual(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return withoutHash(a) === withoutHash(b);
}

function revisionOf(rs: ReplicaSet): number {
  const n = Number(rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? '0');
  return Number.isFinite(n) ? n : 0;
}

function specReplicas(rs: ReplicaSet): number {
  return rs.spec?.replicas ?? 0;
}

function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const ta = Date.parse(a.metadata?.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  const na = a.metadata?.name ?? '';
  const nb = b.metadata?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** The ReplicaSet the Deployment's current template would create (not yet persisted). */
function newReplicaSetFor(d: Deployment, replicas: number, revision: string, maxSurge: number): ReplicaSet {
  const hash = computeHash(d.spec?.template, d.status?.collisionCount);
  const template = structuredClone(d.spec?.template ?? {});
  template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash } };
  const selector = structuredClone(d.spec?.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata?.name}-${hash}`,
      namespace: d.metadata?.namespace,
      labels: { ...(template.metadata.labels ?? {}) },
      annotations: {
        ...copiedAnnotations(d),
        [REVISION_ANNOTATION]: revision,
        [DESIRED_REPLICAS_ANNOTATION]: String(d.spec?.replicas ?? 1),
        [MAX_REPLICAS_ANNOTATION]: String((d.spec?.replicas ?? 1) + maxSurge),
      },
      ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')],
    },
    spec: {
      replicas,
      minReadySeconds: d.spec?.minReadySeconds,
      selector,
      template,
    },
  };
}

class Working {
  /** Working copies, keyed by name, of ReplicaSets changed by this plan. */
  readonly changed = new Map<string, ReplicaSet>();
  readonly scales: ScaleAction[] = [];

  constructor(readonly d: Deployment) {}

  scale(rs: ReplicaSet, to: number): ReplicaSet {
    const from = specReplicas(rs);
    if (from === to) return rs;
    const c = this.changed.get(rs.metadata!.name!) ?? structuredClone(rs);
    c.spec = { ...(c.spec ?? { selector: {} }), replicas: to } as ReplicaSet['spec'];
    this.setAnnotations(c);
    this.changed.set(c.metadata!.name!, c);
    this.scales.push({ rs: c, from, to });
    return c;
  }

  setAnnotations(rs: ReplicaSet): void {
    const { maxSurge } = surgeAndUnavailable(this.d);
    const replicas = this.d.spec?.replicas ?? 1;
    const a = { ...(rs.metadata?.annotations ?? {}) };
    a[DESIRED_REPLICAS_ANNOTATION] = String(replicas);
    a[MAX_REPLICAS_ANNOTATION] = String(replicas + maxSurge);
    rs.metadata = { ...(rs.metadata ?? {}), annotations: a };
  }
}

/**
 * Computes one rollout step for `d` from `owned` (the ReplicaSets it controls,
 * as observed) at `nowMs`. Follows Kubernetes' deployment controller:
 * RollingUpdate scales the new ReplicaSet up within maxSurge, then old ones
 * down as new pods become available within maxUnavailable; Recreate scales old
 * ones to zero, waits for their pods to go, then scales the new one up.
 */
export function planDeployment(d: Deployment, owned: ReplicaSet[], nowMs: number): DeploymentPlan {
  const replicas = d.spec?.replicas ?? 1;
  const { maxSurge, maxUnavailable } = surgeAndUnavailable(d);
  const w = new Working(d);
  const plan: DeploymentPlan = { update: [], scales: w.scales, delete: [], status: {} };

  let newRS = owned.find((rs) => templatesEqual(rs.spec?.template, d.spec?.template));
  const oldRSs = owned.filter((rs) => rs !== newRS).sort(byCreation);
  const maxOldRevision = oldRSs.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
  const newRevision = String(maxOldRevision + 1);
  let created = false;

  // The existing new ReplicaSet carries the Deployment's annotations, and may need its
  // revision bumped (a rollback to an old template): the number it had moves to its
  // revision-history, so `rollout history` lists it once, as the newest.
  if (newRS) {
    const had = newRS.metadata?.annotations ?? {};
    const a = copiedAnnotations(d, had);
    if (revisionOf(newRS) < maxOldRevision + 1) {
      a[REVISION_ANNOTATION] = newRevision;
      if (had[REVISION_ANNOTATION]) a[REVISION_HISTORY_ANNOTATION] = appendRevisionHistory(had[REVISION_HISTORY_ANNOTATION], had[REVISION_ANNOTATION]);
    }
    if (canonicalJson(a) !== canonicalJson(had)) {
      const c = structuredClone(newRS);
      c.metadata = { ...(c.metadata ?? {}), annotations: a };
      w.setAnnotations(c);
      w.changed.set(c.metadata.name!, c);
      newRS = c;
    }
  }
  plan.revision = newRS ? String(revisionOf(newRS)) : newRevision;

  const current = (rs: ReplicaSet) => w.changed.get(rs.metadata!.name!) ?? rs;
  const olds = () => oldRSs.map(current);
  const sumSpec = (list: ReplicaSet[]) => list.reduce((s, rs) => s + specReplicas(rs), 0);

  if (d.spec?.paused && !d.metadata?.deletionTimestamp) {
    // Paused: no new ReplicaSet and no rollout, but a change of replicas still scales the
    // one active ReplicaSet (or the newest when none is active), as Kubernetes does; with
    // several active ones (a rollout paused half way) nothing is scaled (Kubernetes scales
    // them in proportion).
    const present = [...olds(), ...(newRS ? [current(newRS)] : [])];
    const active = present.filter((rs) => specReplicas(rs) > 0);
    const target = active.length === 1 ? active[0] : active.length === 0 ? (newRS ? current(newRS) : [...olds()].sort(byCreation).pop()) : undefined;
    if (target && specReplicas(target) !== replicas) {
      const scaled = w.scale(target, replicas);
      if (newRS && target.metadata?.name === newRS.metadata?.name) newRS = scaled;
    }
  } else if (!d.metadata?.deletionTimestamp) {
    if (d.spec?.strategy?.type === 'Recreate') {
      const active = olds().filter((rs) => specReplicas(rs) > 0);
      const oldPodsExist = olds().some((rs) => (rs.status?.replicas ?? 0) > 0 || (rs.status?.observedGeneration ?? 0) < (rs.metadata?.generation ?? 0));
      if (active.length > 0) {
        for (const rs of active) w.scale(rs, 0);
      } else if (!oldPodsExist) {
        if (!newRS) {
          plan.create = newReplicaSetFor(d, replicas, newRevision, 0);
          created = true;
        } else {
          newRS = w.scale(current(newRS), replicas);
        }
      }
    } else {
      // RollingUpdate: first the new ReplicaSet …
      let scaledUp = false;
      if (!newRS) {
        const currentPods = sumSpec(olds());
        const maxTotal = replicas + maxSurge;
        const size = currentPods >= maxTotal ? 0 : Math.min(maxTotal - currentPods, replicas);
        plan.create = newReplicaSetFor(d, size, newRevision, maxSurge);
        created = true;
        scaledUp = size > 0;
      } else {
        const cur = specReplicas(current(newRS));
        if (cur > replicas) {
          newRS = w.scale(current(newRS), replicas);
        } else if (cur < replicas) {
          const currentPods = sumSpec(olds()) + cur;
          const maxTotal = replicas + maxSurge;
          if (currentPods < maxTotal) {
            const to = cur + Math.min(maxTotal - currentPods, replicas - cur);
            newRS = w.scale(current(newRS), to);
            scaledUp = true;
          }
        }
      }
      // … then the old ones, as far as availability allows.
      if (!scaledUp) {
        const nrs = plan.create ?? (newRS ? current(newRS) : undefined);
        const all = [...olds(), ...(nrs ? [nrs] : [])];
        const allPods = sumSpec(all);
        const minAvailable = replicas - maxUnavailable;
        const newUnavailable = nrs ? Math.max(0, specReplicas(nrs) - (nrs.status?.availableReplicas ?? 0)) : 0;
        let maxScaledDown = allPods - minAvailable - newUnavailable;
        if (maxScaledDown > 0) {
          // Unhealthy old replicas can go first without reducing availability.
          for (const rs of olds()) {
            if (maxScaledDown <= 0) break;
            const unhealthy = specReplicas(rs) - (rs.status?.availableReplicas ?? 0);
            if (unhealthy <= 0) continue;
            const n = Math.min(maxScaledDown, unhealthy);
            w.scale(rs, specReplicas(rs) - n);
            maxScaledDown -= n;
          }
          const available = all.reduce((s, rs) => s + (rs.status?.availableReplicas ?? 0), 0);
          let budget = Math.min(available - minAvailable, maxScaledDown);
          for (const rs of olds()) {
            if (budget <= 0) break;
            const n = Math.min(specReplicas(rs), budget);
            if (n <= 0) continue;
            w.scale(rs, specReplicas(rs) - n);
            budget -= n;
          }
        }
      }
    }
  }

  const finalNew = plan.create ?? (newRS ? current(newRS) : undefined);
  const finalOlds = olds();
  plan.update = [...w.changed.values()];

  // Status, from the ReplicaSets as they will be (spec) and as observed (status).
  const all = [...finalOlds, ...(finalNew ? [finalNew] : [])];
  const available = all.reduce((s, rs) => s + (rs.status?.availableReplicas ?? 0), 0);
  const total = sumSpec(all);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation,
    replicas: all.reduce((s, rs) => s + (rs.status?.replicas ?? 0), 0),
    updatedReplicas: finalNew?.status?.replicas ?? 0,
    readyReplicas: all.reduce((s, rs) => s + (rs.status?.readyReplicas ?? 0), 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  const now = rfc3339(nowMs);
  const prev = d.status?.conditions ?? [];
  const conds: DeploymentCondition[] = [];
  conds.push(
    available >= replicas - maxUnavailable
      ? cond(prev, 'Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', now, false)
      : cond(prev, 'Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', now, false),
  );
  const complete =
    (status.updatedReplicas ?? 0) === replicas &&
    (status.replicas ?? 0) === replicas &&
    available === replicas &&
    finalOlds.every((rs) => (rs.status?.replicas ?? 0) === 0) &&
    !!finalNew &&
    specReplicas(finalNew) === replicas;
  const progressed = progressMade(d.status, status) || plan.scales.length > 0 || created;
  const nm = finalNew?.metadata?.name;
  const deadline = d.spec?.progressDeadlineSeconds ?? 600;
  if (d.spec?.paused) {
    conds.push(cond(prev, 'Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', now, false));
  } else if (complete) {
    conds.push(cond(prev, 'Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${nm}" has successfully progressed.`, now, progressed));
  } else if (created) {
    conds.push(cond(prev, 'Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${nm}"`, now, true));
  } else {
    const p = prev.find((c) => c.type === 'Progressing');
    const last = Date.parse(p?.lastUpdateTime ?? '') || nowMs;
    if (!progressed && p?.reason === 'ProgressDeadlineExceeded') {
      conds.push(p);
    } else if (!progressed && (p?.reason === 'DeploymentPaused' || p?.reason === 'DeploymentResumed')) {
      conds.push(cond(prev, 'Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed', now, false));
      plan.requeueAfterMs = deadline * 1000;
    } else if (!progressed && p && p.reason !== 'NewReplicaSetAvailable' && nowMs - last > deadline * 1000) {
      conds.push(cond(prev, 'Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${nm}" has timed out progressing.`, now, true));
    } else {
      const c = cond(prev, 'Progressing', 'True', 'ReplicaSetUpdated', nm ? `ReplicaSet "${nm}" is progressing.` : 'Deployment is progressing.', now, progressed);
      conds.push(c);
      const since = Date.parse(c.lastUpdateTime ?? '') || nowMs;
      plan.requeueAfterMs = Math.max(1000, since + deadline * 1000 - nowMs + 1000);
    }
  }
  status.conditions = conds;
  plan.status = status;

  // History cleanup once the rollout is done.
  if (complete) {
    const limit = d.spec?.revisionHistoryLimit ?? 10;
    const dead = finalOlds.filter((rs) => specReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata?.deletionTimestamp);
    dead.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    plan.delete = dead.slice(0, Math.max(0, dead.length - limit));
  }
  return plan;
}

function progressMade(prev: DeploymentStatus | undefined, next: DeploymentStatus): boolean {
  if (!prev) return true;
  return (
    (prev.replicas ?? 0) !== (next.replicas ?? 0) ||
    (prev.updatedReplicas ?? 0) !== (next.updatedReplicas ?? 0) ||
    (prev.readyReplicas ?? 0) !== (next.readyReplicas ?? 0) ||
    (prev.availableReplicas ?? 0) !== (next.availableReplicas ?? 0)
  );
}

/** A condition that keeps lastTransitionTime while status is unchanged and lastUpdateTime unless something changed. */
function cond(prev: DeploymentCondition[], type: string, status: string, reason: string, message: string, now: string, bump: boolean): DeploymentCondition {
  const p = prev.find((c) => c.type === type);
  const same = p?.status === status;
  const changed = !p || p.reason !== reason || p.message !== message || !same;
  return {
    type,
    status,
    lastUpdateTime: changed || bump ? now : (p?.lastUpdateTime ?? now),
    lastTransitionTime: same ? (p?.lastTransitionTime ?? now) : now,
    reason,
    message,
  };
}

/** Whether two statuses differ in anything but condition timestamps that did not change. */
export function deploymentStatusEqual(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b);
}
