import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1';
import type { Job, PodFailurePolicyRule } from 'kubernetes-types/batch/v1';
import { generatedName } from '../../lib/names';
import { newControllerRef } from '../util/owners';
import { podFromTemplate } from '../util/pods';

/** Finalizer the Job controller puts on its pods until it has counted them in the Job's status. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
/** Annotation (and label) carrying an Indexed Job pod's completion index. */
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';

export function hasTrackingFinalizer(p: Pod): boolean {
  return p.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;
}

export function isFinished(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

/** Not finished and not being deleted. */
export function isActive(p: Pod): boolean {
  return !p.metadata?.deletionTimestamp && !isFinished(p);
}

/**
 * Whether the pod's node is done with it: a terminal phase, or its kubelet's
 * final DELETE (grace period 0) of a pod being deleted. Kubernetes' kubelet
 * writes a terminal phase then; Coxswain's deletes with grace 0 instead, which
 * leaves deletionGracePeriodSeconds 0 on a pod the tracking finalizer keeps.
 */
export function isTerminated(p: Pod): boolean {
  return isFinished(p) || (!!p.metadata?.deletionTimestamp && p.metadata.deletionGracePeriodSeconds === 0);
}

/** Being deleted and not terminated yet (Kubernetes' status.terminating). */
export function isTerminating(p: Pod): boolean {
  return !!p.metadata?.deletionTimestamp && !isTerminated(p);
}

/**
 * Whether a pod counts as failed (Kubernetes' isPodFailed): phase Failed, or
 * deleted before it succeeded. With podReplacementPolicy Failed (`onlyFailed`,
 * also implied by a podFailurePolicy) a deleted pod counts only once it is
 * terminated; with TerminatingOrFailed at once.
 */
export function isFailed(p: Pod, onlyFailed = false): boolean {
  if (p.status?.phase === 'Failed') return true;
  if (!p.metadata?.deletionTimestamp || p.status?.phase === 'Succeeded') return false;
  return !onlyFailed || isTerminated(p);
}

/** Annotation carrying how many pods of an index failed before this one (backoffLimitPerIndex). */
export const INDEX_FAILURE_COUNT_ANNOTATION = 'batch.kubernetes.io/job-index-failure-count';
/** Likewise for failures a podFailurePolicy Ignore rule did not count. */
export const INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = 'batch.kubernetes.io/job-index-ignored-failure-count';

/** A pod's failure count annotation (0 when absent or malformed). */
export function annotationCount(p: Pod, key: string): number {
  const v = p.metadata?.annotations?.[key];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : 0;
}

/** The pod's completion index, or undefined when absent or not below `completions`. */
export function completionIndex(p: Pod, completions: number): number | undefined {
  const v = p.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  const i = Number(v);
  return i < completions ? i : undefined;
}

/** When the pod finished: its last container's finishedAt, else its newest condition change, else its creation. */
export function finishTime(p: Pod): number {
  let t = NaN;
  for (const c of [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])]) {
    const f = c.state?.terminated?.finishedAt ? Date.parse(c.state.terminated.finishedAt) : NaN;
    if (Number.isFinite(f) && !(f <= t)) t = f;
  }
  if (Number.isFinite(t)) return t;
  for (const c of p.status?.conditions ?? []) {
    const f = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
    if (Number.isFinite(f) && !(f <= t)) t = f;
  }
  if (Number.isFinite(t)) return t;
  const c = p.metadata?.creationTimestamp ? Date.parse(p.metadata.creationTimestamp) : NaN;
  return Number.isFinite(c) ? c : 0;
}

/** Container restarts of a pod (restartPolicy OnFailure counts them toward backoffLimit). */
export function restartCount(p: Pod): number {
  let n = 0;
  for (const c of [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])]) n += c.restartCount ?? 0;
  return n;
}

export interface PolicyMatch {
  action: PodFailurePolicyRule['action'];
  /** For the Job's condition when the action is FailJob. */
  message: string;
}

/**
 * The first podFailurePolicy rule a failed pod matches (Kubernetes'
 * matchPodFailurePolicy), or undefined: then the failure counts as usual.
 */
export function matchPodFailurePolicy(job: Job, p: Pod): PolicyMatch | undefined {
  const rules = job.spec?.podFailurePolicy?.rules ?? [];
  const ref = `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name}`;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (r.onExitCodes) {
      const { containerName, operator, values } = r.onExitCodes;
      for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
        if (containerName && c.name !== containerName) continue;
        const code = c.state?.terminated?.exitCode;
        if (code === undefined || code === 0) continue;
        const inValues = values.includes(code);
        if ((operator === 'In' && inValues) || (operator === 'NotIn' && !inValues)) {
          return { action: r.action, message: `Container ${c.name} for pod ${ref} failed with exit code ${code} matching ${r.action} rule at index ${i}` };
        }
      }
    }
    for (const pc of r.onPodConditions ?? []) {
      const want = pc.status ?? 'True';
      if ((p.status?.conditions ?? []).some((c) => c.type === pc.type && c.status === want)) {
        return { action: r.action, message: `Pod ${ref} has condition ${pc.type} matching ${r.action} rule at index ${i}` };
      }
    }
  }
  return undefined;
}

/** Failures of an index so far, carried by its next pod (backoffLimitPerIndex). */
export interface IndexFailureCounts {
  failed: number;
  ignored: number;
}

/** `<job>-<5 random>` or, for an Indexed Job, `<job>-<index>-<5 random>`. */
export function newJobPodName(jobName: string, index?: number, rand?: () => number): string {
  return generatedName(index === undefined ? `${jobName}-` : `${jobName}-${index}-`, rand);
}

/**
 * A pod for `job` from its template, owned by the Job and carrying the
 * tracking finalizer. An Indexed Job's pod also gets its index as annotation,
 * label and JOB_COMPLETION_INDEX, and the hostname `<job>-<index>`; with
 * backoffLimitPerIndex, the index's failure counts so far as annotations.
 */
export function newPodForJob(job: Job, name: string, index?: number, counts?: IndexFailureCounts): Pod {
  const t: PodTemplateSpec = structuredClone(job.spec?.template ?? { spec: { containers: [] } });
  const spec = t.spec ?? { containers: [] };
  const labels = { ...(t.metadata?.labels ?? {}) };
  const annotations = { ...(t.metadata?.annotations ?? {}) };
  if (index !== undefined) {
    annotations[COMPLETION_INDEX_ANNOTATION] = String(index);
    labels[COMPLETION_INDEX_ANNOTATION] = String(index);
    const env = { name: COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } };
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) c.env = [...(c.env ?? []).filter((e) => e.name !== COMPLETION_INDEX_ENV), env];
    if (!spec.hostname) spec.hostname = `${job.metadata?.name}-${index}`.slice(0, 63);
    if (job.spec?.backoffLimitPerIndex != null) {
      annotations[INDEX_FAILURE_COUNT_ANNOTATION] = String(counts?.failed ?? 0);
      if (counts?.ignored) annotations[INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = String(counts.ignored);
    }
  }
  return podFromTemplate(undefined, spec, { name, namespace: job.metadata?.namespace, owner: newControllerRef(job, 'batch/v1', 'Job'), labels, annotations, finalizers: [JOB_TRACKING_FINALIZER] });
}
