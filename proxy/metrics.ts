import { Counter, Gauge, Registry } from 'prom-client';
import { baseTarget } from './external';

/**
 * The proxy's Prometheus metrics, in their own registry so several proxies
 * (tests) can live in one process. Labels: `service` is `namespace/name`,
 * `port` the Service port name ("" when unnamed).
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  readonly connections = new Counter({
    name: 'coxswain_proxy_connections_total',
    help: 'Connections accepted, per Service port',
    labelNames: ['service', 'port', 'protocol'] as const,
    registers: [this.registry],
  });
  readonly activeConnections = new Gauge({
    name: 'coxswain_proxy_active_connections',
    help: 'Connections currently proxied, per Service port',
    labelNames: ['service', 'port', 'protocol'] as const,
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: 'coxswain_proxy_bytes_total',
    help: 'Bytes proxied; direction "in" is client to backend, "out" backend to client',
    labelNames: ['service', 'port', 'protocol', 'direction'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'coxswain_proxy_errors_total',
    help: 'Errors per Service port; reason is no_endpoints, dial_failed, stream_error, bind_failed or backend_unreachable (UDP)',
    labelNames: ['service', 'port', 'protocol', 'reason'] as const,
    registers: [this.registry],
  });
  readonly listeners = new Gauge({
    name: 'coxswain_proxy_listeners',
    help: 'Sockets the proxy is listening on',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });
  readonly udpFlowsEvicted = new Counter({
    name: 'coxswain_proxy_udp_flows_evicted_total',
    help: 'UDP flows closed before their idle timeout because the flow table was full (least recently active first)',
    registers: [this.registry],
  });
  readonly syncs = new Counter({
    name: 'coxswain_proxy_sync_total',
    help: 'Reconciliations of listeners to Services and Endpoints',
    registers: [this.registry],
  });
}

/** Splits a ServicePortKey `ns/name:port` (or its local-only variant) into metric labels. */
export function targetLabels(scoped: string): { service: string; port: string } {
  const target = baseTarget(scoped);
  const i = target.lastIndexOf(':');
  return { service: target.slice(0, i), port: target.slice(i + 1) };
}
