import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Metrics shared by every controller of one process (label `controller`). */
export class ControllerMetrics {
  readonly reconciles: Counter<'controller' | 'result'>;
  readonly duration: Histogram<'controller'>;
  readonly depth: Gauge<'controller'>;
  readonly retries: Counter<'controller'>;
  private readonly depthFns = new Map<string, () => number>();

  constructor(readonly registry: Registry = new Registry(), opts: { defaults?: boolean; prefix?: string } = {}) {
    const p = opts.prefix ?? 'coxswain_controller';
    if (opts.defaults) collectDefaultMetrics({ register: registry });
    this.reconciles = new Counter({ name: `${p}_reconcile_total`, help: 'Reconciles by controller and result (success, error, requeue, terminal).', labelNames: ['controller', 'result'], registers: [registry] });
    this.duration = new Histogram({
      name: `${p}_reconcile_duration_seconds`,
      help: 'Reconcile duration by controller.',
      labelNames: ['controller'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.retries = new Counter({ name: `${p}_workqueue_retries_total`, help: 'Keys re-added with backoff after an error.', labelNames: ['controller'], registers: [registry] });
    const fns = this.depthFns;
    this.depth = new Gauge({
      name: `${p}_workqueue_depth`,
      help: 'Keys waiting in the work queue.',
      labelNames: ['controller'],
      registers: [registry],
      collect() {
        for (const [name, fn] of fns) this.set({ controller: name }, fn());
      },
    });
  }

  trackDepth(controller: string, fn: () => number): void {
    this.depthFns.set(controller, fn);
  }
}
