import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PendingCounts } from './queue';

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The scheduler's metrics, named after kube-scheduler's (scheduler_*) with the coxswain_ prefix. */
export class SchedulerMetrics {
  /** Attempts by result: scheduled (bound), unschedulable, error (a failed attempt or binding). */
  readonly attempts: Counter<'result'>;
  /** One scheduling cycle (filter and score; the binding runs after it in the background). */
  readonly duration: Histogram<'result'>;
  /** From a pod's first entry into the queue to its successful binding (scheduler_pod_scheduling_sli_duration_seconds). */
  readonly e2eDuration: Histogram<string>;
  readonly pending: Gauge<'queue'>;

  constructor(readonly registry: Registry = new Registry(), opts: { defaults?: boolean; pending?: () => PendingCounts; bindingsInFlight?: () => number } = {}) {
    if (opts.defaults) collectDefaultMetrics({ register: registry });
    this.attempts = new Counter({ name: 'coxswain_scheduler_schedule_attempts_total', help: 'Scheduling attempts by result (scheduled, unschedulable, error).', labelNames: ['result'], registers: [registry] });
    this.duration = new Histogram({
      name: 'coxswain_scheduler_scheduling_attempt_duration_seconds',
      help: 'Time to filter and score one pod (the scheduling cycle; binding runs after it).',
      labelNames: ['result'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    this.e2eDuration = new Histogram({
      name: 'coxswain_scheduler_pod_scheduling_sli_duration_seconds',
      help: 'From a pod entering the scheduling queue to its binding, over every attempt.',
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    const pending = opts.pending;
    this.pending = new Gauge({
      name: 'coxswain_scheduler_pending_pods',
      help: 'Pods waiting to be scheduled, by queue (active, backoff, unschedulable).',
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        if (!pending) return;
        const p = pending();
        this.set({ queue: 'active' }, p.active);
        this.set({ queue: 'backoff' }, p.backoff);
        this.set({ queue: 'unschedulable' }, p.unschedulable);
      },
    });
    const inFlight = opts.bindingsInFlight;
    new Gauge({
      name: 'coxswain_scheduler_bindings_in_flight',
      help: 'Bindings running or waiting for one of the bounded binding slots.',
      registers: [registry],
      collect() {
        if (inFlight) this.set(inFlight());
      },
    });
  }
}
