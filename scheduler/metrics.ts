import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class SchedulerMetrics {
  readonly attempts: Counter<'result'>;
  readonly duration: Histogram<'result'>;
  readonly pending: Gauge<'queue'>;

  constructor(readonly registry: Registry = new Registry(), opts: { defaults?: boolean; pending?: () => { active: number; unschedulable: number } } = {}) {
    if (opts.defaults) collectDefaultMetrics({ register: registry });
    this.attempts = new Counter({ name: 'coxswain_scheduler_schedule_attempts_total', help: 'Scheduling attempts by result (scheduled, unschedulable, error).', labelNames: ['result'], registers: [registry] });
    this.duration = new Histogram({
      name: 'coxswain_scheduler_scheduling_attempt_duration_seconds',
      help: 'Time to filter, score and bind one pod.',
      labelNames: ['result'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    const pending = opts.pending;
    this.pending = new Gauge({
      name: 'coxswain_scheduler_pending_pods',
      help: 'Pods waiting to be scheduled, by queue (active, unschedulable).',
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        if (!pending) return;
        const p = pending();
        this.set({ queue: 'active' }, p.active);
        this.set({ queue: 'unschedulable' }, p.unschedulable);
      },
    });
  }
}
