import type { CronJob, Job } from 'kubernetes-types/batch/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { CRONJOBS, JOBS } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { QueueController } from '../queue-controller';
import { nsKey, splitKey, type ControllerContext } from '../context';
import { controllerRef } from '../util/owners';
import { syncCronJob } from './sync';

/**
 * Kubernetes' cronjob controller (v2): starts a Job per schedule time
 * (`syncCronJob` decides), keeps status.active, lastScheduleTime and
 * lastSuccessfulTime, and prunes finished Jobs beyond the history limits.
 * A reconcile reads the CronJob and its Jobs from the apiserver, not from
 * the informers, and a run's Job name is fixed by its schedule time, so a
 * restarted controller never starts one run twice.
 */
export class CronJobController extends QueueController {
  private readonly cronInformer;

  constructor(ctx: ControllerContext) {
    super('cronjob', ctx, 2);
    this.cronInformer = ctx.informers.for<CronJob>(CRONJOBS);
    this.enqueueOwnKey(this.cronInformer);
    const jobEvent = (j: Job) => {
      const r = controllerRef(j);
      if (r?.kind === 'CronJob') this.controller.enqueue(nsKey(j.metadata?.namespace, r.name));
    };
    ctx.informers.for<Job>(JOBS).on({ add: jobEvent, update: (_o, j) => jobEvent(j), delete: jobEvent });
  }

  protected override objectFor(key: string): KubeObject | undefined {
    return this.cronInformer.getObject(key);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const { client, recorder } = this.ctx;
    const cj = await client.tryGet<CronJob & KubeObject>(CRONJOBS, name, namespace);
    if (!cj) return;
    const jobs = (await client.list<Job & KubeObject>(JOBS, { namespace })).items.filter((j) => controllerRef(j)?.uid === cj.metadata?.uid);
    const plan = syncCronJob(cj, jobs, this.ctx.now());
    const obj = { ...cj, apiVersion: 'batch/v1', kind: 'CronJob' } as KubeObject;

    for (const j of plan.delete) {
      await client.delete(JOBS, j.metadata!.name!, { namespace, propagationPolicy: 'Background', preconditions: { uid: j.metadata?.uid }, ignoreNotFound: true }).catch((err: unknown) => {
        if (!(err instanceof ApiError && err.conflict)) throw err;
      });
    }
    if (plan.create) {
      try {
        const created = await client.create(JOBS, plan.create as KubeObject, namespace);
        recorder.event(obj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata?.name}`);
        plan.status.active = [...(plan.status.active ?? []), { apiVersion: 'batch/v1', kind: 'Job', name: created.metadata?.name, namespace, uid: created.metadata?.uid, resourceVersion: created.metadata?.resourceVersion }];
      } catch (err) {
        // the run's Job exists already (an earlier attempt of this controller, or its predecessor): nothing to do
        if (!(err instanceof ApiError && err.code === 409)) {
          recorder.event(obj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
          throw err;
        }
      }
    }
    for (const e of plan.events) recorder.event(obj, e.type, e.reason, e.message);
    if (JSON.stringify(plan.status) !== JSON.stringify(cj.status ?? {})) {
      try {
        await client.updateStatus(CRONJOBS, { ...structuredClone(cj), status: plan.status } as KubeObject);
      } catch (err) {
        if (!(err instanceof ApiError && err.notFound)) throw err;
      }
    }
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  }
}
