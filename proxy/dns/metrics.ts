import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * Cluster DNS metrics, registered on the proxy's registry (its /metrics).
 * `zone` is `cluster` (answered from the informer caches) or `forward` (asked
 * upstream); `rcode` the response code sent (NOERROR, NXDOMAIN, SERVFAIL, ...).
 */
export class DnsMetrics {
  readonly responses: Counter<'protocol' | 'zone' | 'rcode'>;
  readonly duration: Histogram<'zone'>;
  readonly malformed: Counter<'protocol'>;
  readonly truncated: Counter;
  /** Labelled children, kept: looking a label set up per query costs more than answering it. */
  private readonly responseChildren = new Map<string, { inc(): void }>();
  private readonly durationChildren = new Map<string, { observe(v: number): void }>();

  constructor(registry: Registry) {
    this.responses = new Counter({
      name: 'coxswain_proxy_dns_responses_total',
      help: 'DNS responses sent, by transport, zone (cluster or forward) and response code',
      labelNames: ['protocol', 'zone', 'rcode'] as const,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'coxswain_proxy_dns_request_duration_seconds',
      help: 'Time from a DNS query arriving to its response being ready, by zone (cluster or forward)',
      labelNames: ['zone'] as const,
      buckets: [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    this.malformed = new Counter({
      name: 'coxswain_proxy_dns_malformed_total',
      help: 'DNS messages that could not be parsed (answered FORMERR when the header was readable, dropped otherwise)',
      labelNames: ['protocol'] as const,
      registers: [registry],
    });
    this.truncated = new Counter({
      name: 'coxswain_proxy_dns_truncated_total',
      help: 'UDP responses sent truncated (TC bit) because the answer did not fit the client’s UDP size',
      registers: [registry],
    });
  }

  /** Counts one response and its time (seconds). */
  observe(protocol: string, zone: string, rcode: string, seconds: number): void {
    const key = `${protocol}|${zone}|${rcode}`;
    let c = this.responseChildren.get(key);
    if (!c) this.responseChildren.set(key, (c = this.responses.labels(protocol, zone, rcode)));
    c.inc();
    let h = this.durationChildren.get(zone);
    if (!h) this.durationChildren.set(zone, (h = this.duration.labels(zone)));
    h.observe(seconds);
  }
}
