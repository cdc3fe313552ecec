import type { Pod } from 'kubernetes-types/core/v1';
import type { Job } from 'kubernetes-types/batch/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { JOBS, PODS } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import { nsKey, splitKey, type ControllerContext } from '../context';
import { applyClaims, orphanHandlers } from '../claim-objects';
import { createPodsExpected } from '../create-pods';
import { planClaims } from '../util/claim';
import { Expectations, ownedPodHandlers } from '../expectations';
import { controllerRef } from '../util/owners';
import { parallelLimit } from '../util/batch';
import { hasTrackingFinalizer, JOB_TRACKING_FINALIZER, newJobPodName, newPodForJob } from './pods';
import { DEFAULT_BACKOFF_BASE_MS, isManagedByOther, jobStatusChanged, syncJob, ttlExpiry, type JobPlan } from './sync';

export interface JobControllerOptions {
  /** First pod creation delay after a failure (Kubernetes: 10 s); doubles per failure up to 6 min. */
  backoffBaseMs?: number;
}

/**
 * Kubernetes' job controller with its ttl-after-finished part: creates a
 * Job's pods (with the job-tracking finalizer), counts them as they finish,
 * and ends the Job Complete or Failed (syncJob in sync.ts decides); deletes
 * a finished Job once ttlSecondsAfterFinished passed, in the background.
 *
 * Each reconcile reads the Job from the apiserver (not the informer), so the
 * status it writes, with that resourceVersion, always builds on the last one
 * written: a stale cache can neither lose nor repeat a count.
 */
export class JobController extends QueueController {
  private readonly expectations = new Expectations(60_000);
  private readonly jobInformer;
  private readonly podInformer;

  constructor(ctx: ControllerContext, private readonly opts: JobControllerOptions = {}) {
    super('job', ctx, 4);
    this.jobInformer = ctx.informers.for<Job>(JOBS);
    this.podInformer = ctx.informers.for<Pod>(PODS);
    this.enqueueOwnKey(this.jobInformer);
    this.podInformer.on(ownedPodHandlers(this.expectations, (p) => this.ownerKey(p), (k) => this.controller.enqueue(k)));
    // orphans a Job's selector matches (a manualSelector): it adopts them
    this.podInformer.on(orphanHandlers(() => this.jobInformer.list(), (j) => j.spec?.selector, (k) => this.controller.enqueue(k)));
  }

  private ownerKey(p: Pod): string | undefined {
    const ref = controllerRef(p);
    if (!ref || ref.kind !== 'Job') return undefined;
    return nsKey(p.metadata?.namespace, ref.name);
  }

  protected override objectFor(key: string): KubeObject | undefined {
    return this.jobInformer.getObject(key);
  }


  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const job = await this.ctx.client.tryGet<Job & KubeObject>(JOBS, name, namespace);
    // spec.managedBy names another controller: its pods, status and lifetime are that one's business
    if (job && isManagedByOther(job)) return;
    // expectations first, then the pods, with no await between: a creation seen after the
    // snapshot would otherwise satisfy them while the snapshot misses its pod (one pod too many)
    const canManage = this.expectations.satisfied(key);
    const inNamespace = this.podInformer.list().filter((p) => p.metadata?.namespace === namespace);
    const all = inNamespace.filter((p) => this.ownerKey(p) === key);
    const uid = job?.metadata?.uid;
    // pods of a deleted Job (or of an earlier Job with this name) are released at once
    const orphans = all.filter((p) => hasTrackingFinalizer(p) && (!job || job.metadata?.deletionTimestamp || controllerRef(p)?.uid !== uid));
    await this.releasePods(orphans);
    if (!job || job.metadata?.deletionTimestamp) {
      this.expectations.forget(key);
      return;
    }

    const expiry = ttlExpiry(job);
    const now = this.ctx.now();
    if (expiry !== undefined && now >= expiry) {
      await this.ctx.client.delete(JOBS, name, { namespace, propagationPolicy: 'Background', preconditions: { uid }, ignoreNotFound: true });
      this.ctx.logger.info({ job: key }, 'deleted finished job: ttlSecondsAfterFinished passed');
      return;
    }

    const jobObj = { ...job, apiVersion: 'batch/v1', kind: 'Job' } as KubeObject;
    // its pods, orphans it adopts (with the tracking finalizer) and its pods it releases (Kubernetes' ClaimPods)
    const claims = planClaims(jobObj, job.spec?.selector, inNamespace.filter((p) => !controllerRef(p) || controllerRef(p)?.uid === uid));
    const pods = await applyClaims({ ctx: this.ctx, resource: PODS, owner: jobObj, finalizer: JOB_TRACKING_FINALIZER, fresh: () => this.ctx.client.tryGet(JOBS, name, namespace) }, claims);
    const plan = syncJob(job, pods, { now, backoffBaseMs: this.opts.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS });

    if (jobStatusChanged(job.status, plan.status)) {
      try {
        await this.ctx.client.updateStatus(JOBS, { ...structuredClone(job), status: plan.status } as KubeObject);
      } catch (err) {
        if (err instanceof ApiError && err.notFound) return;
        throw err; // a conflict: the next reconcile reads the newer Job
      }
    }
    for (const e of plan.events) this.ctx.recorder.event(jobObj, e.type, e.reason, e.message);
    await this.releasePods(plan.removeFinalizers);

    if (canManage) {
      await this.deletePods(key, jobObj, plan.delete);
      await this.createPods(key, job, jobObj, plan);
    }

    const expires = ttlExpiry({ ...job, status: plan.status });
    const waits = [plan.requeueAfterMs, expires === undefined ? undefined : Math.max(1, expires - now)].filter((x): x is number => x !== undefined);
    return waits.length ? { requeueAfterMs: Math.min(...waits) } : undefined;
  }

  /** Removes the tracking finalizer; a pod already gone or changed identity is skipped. */
  private async releasePods(pods: Pod[]): Promise<void> {
    const errors = await parallelLimit(pods, 16, async (p) => {
      const rest = (p.metadata?.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER);
      try {
        await this.ctx.client.patch(PODS, p.metadata!.name!, [
          { op: 'test', path: '/metadata/uid', value: p.metadata?.uid },
          // add, not replace: a stale cache may list a finalizer the pod no longer has
          { op: 'add', path: '/metadata/finalizers', value: rest },
        ], { namespace: p.metadata?.namespace, type: 'json' });
      } catch (err) {
        if (err instanceof ApiError && (err.notFound || err.code === 422 || err.conflict)) return;
        throw err;
      }
    });
    if (errors.length) throw errors[0];
  }

  private async deletePods(key: string, jobObj: KubeObject, pods: Pod[]): Promise<void> {
    if (!pods.length) return;
    this.expectations.expectDeletions(key, pods.map((p) => p.metadata!.name!));
    const errors = await parallelLimit(pods, 16, async (p) => {
      const name = p.metadata!.name!;
      try {
        await this.ctx.client.delete(PODS, name, { namespace: p.metadata?.namespace, preconditions: { uid: p.metadata?.uid } });
        this.ctx.recorder.event(jobObj, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
      } catch (err) {
        this.expectations.deletionObserved(key, name);
        if (err instanceof ApiError && (err.notFound || err.conflict)) return;
        this.ctx.recorder.event(jobObj, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
        throw err;
      }
    });
    if (errors.length) throw errors[0];
  }

  private async createPods(key: string, job: Job, jobObj: KubeObject, plan: JobPlan): Promise<void> {
    const { create, failureCounts } = plan;
    if (!create.length) return;
    const jobName = job.metadata!.name!;
    const errors = await createPodsExpected({
      ctx: this.ctx, expectations: this.expectations, key, owner: jobObj, namespace: job.metadata?.namespace,
      names: create.map((ix) => newJobPodName(jobName, ix)),
      build: (i, name) => newPodForJob(job, name, create[i], create[i] === undefined ? undefined : failureCounts?.get(create[i]!)),
    });
    if (errors.length) throw errors[0];
  }
}
