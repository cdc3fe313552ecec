import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The kubelet's Prometheus metrics, on a registry of its own (several kubelets may share a process in tests). */
export class KubeletMetrics {
  readonly registry = new Registry();
  readonly runningPods: Gauge;
  readonly runningContainers: Gauge;
  readonly podSyncDuration: Histogram;
  readonly runtimeErrors: Counter;
  readonly statusWrites: Counter;
  readonly heartbeats: Counter;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.runningPods = new Gauge({ name: 'kubelet_running_pods', help: 'Pods with a running sandbox', registers });
    this.runningContainers = new Gauge({ name: 'kubelet_running_containers', help: 'App containers by state', labelNames: ['container_state'], registers });
    this.podSyncDuration = new Histogram({
      name: 'kubelet_pod_worker_duration_seconds',
      help: 'Duration of one pod sync',
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.runtimeErrors = new Counter({ name: 'kubelet_runtime_operations_errors_total', help: 'Failed runtime operations', labelNames: ['operation_type'], registers });
    this.statusWrites = new Counter({ name: 'kubelet_pod_status_writes_total', help: 'Pod status writes to the apiserver', labelNames: ['result'], registers });
    this.heartbeats = new Counter({ name: 'kubelet_node_heartbeats_total', help: 'Node status heartbeats', labelNames: ['result'], registers });
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
