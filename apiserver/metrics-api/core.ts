/**
 * The Metrics API's pure core, computed as metrics-server does: the collector hands in one
 * scrape per node (cumulative CPU time and memory working set of the node and of each
 * container, each with the time it was read); the last two samples are kept per node and per
 * container, and usage is the CPU rate between them (nanocores) with the last working set.
 * A pod is listed only when every one of its containers has two samples. No IO, no clock:
 * times come in with the samples.
 */
import { goDuration } from '../../lib/duration';

/** One reading of cumulative counters. */
export interface Sample {
  /** When it was read (ms since the epoch). */
  time: number;
  /** Cumulative CPU time (ns). */
  cpuNanos: number;
  /** Memory working set (bytes). */
  memoryBytes: number;
  /** The container's start time, when known: a different one means a restart (its counters began again). */
  startTime?: string;
}

/** Usage over the window between two samples. */
export interface Usage {
  /** The later sample's time (ms). */
  timestamp: number;
  windowMs: number;
  cpuNanoCores: number;
  memoryBytes: number;
}

/** What one node's scrape gave. */
export interface NodeScrape {
  node?: Sample;
  pods: { namespace: string; name: string; uid: string; containers: { name: string; sample: Sample }[] }[];
}

interface Pair { prev?: Sample; last: Sample }

/** The usage between two samples; undefined when they give no rate (same time, counters went back, restarted container). */
export function usageBetween(prev: Sample, last: Sample): Usage | undefined {
  const windowMs = last.time - prev.time;
  if (!(windowMs > 0)) return undefined;
  if (last.cpuNanos < prev.cpuNanos) return undefined;
  if (prev.startTime !== undefined && last.startTime !== undefined && prev.startTime !== last.startTime) return undefined;
  return { timestamp: last.time, windowMs, cpuNanoCores: Math.round(((last.cpuNanos - prev.cpuNanos) * 1000) / windowMs), memoryBytes: last.memoryBytes };
}

function advance(old: Pair | undefined, s: Sample): Pair {
  if (!old) return { last: s };
  if (s.time <= old.last.time) return old; // the same reading twice: keep the window
  // a restarted container starts a new series
  if (old.last.startTime !== undefined && s.startTime !== undefined && old.last.startTime !== s.startTime) return { last: s };
  return { prev: old.last, last: s };
}

interface PodEntry { node: string; uid: string; containers: Map<string, Pair> }

/** The last two samples of every node and container the collector has seen. */
export class MetricsStore {
  private readonly nodes = new Map<string, Pair>();
  private readonly pods = new Map<string, PodEntry>();

  /** Records a node's scrape: its pods not in it (gone, or moved) are forgotten. */
  record(nodeName: string, scrape: NodeScrape): void {
    if (scrape.node) this.nodes.set(nodeName, advance(this.nodes.get(nodeName), scrape.node));
    else this.nodes.delete(nodeName);
    const seen = new Set<string>();
    for (const p of scrape.pods) {
      const key = `${p.namespace}/${p.name}`;
      seen.add(key);
      const old = this.pods.get(key);
      const entry: PodEntry = old && old.uid === p.uid && old.node === nodeName ? old : { node: nodeName, uid: p.uid, containers: new Map() };
      const next = new Map<string, Pair>();
      for (const c of p.containers) next.set(c.name, advance(entry.containers.get(c.name), c.sample));
      entry.containers = next;
      this.pods.set(key, entry);
    }
    for (const [key, e] of this.pods) if (e.node === nodeName && !seen.has(key)) this.pods.delete(key);
  }

  /** Forgets a node (its scrape failed, or it is gone) and its pods. */
  forgetNode(nodeName: string): void {
    this.nodes.delete(nodeName);
    for (const [key, e] of this.pods) if (e.node === nodeName) this.pods.delete(key);
  }

  /** The nodes with samples (to forget the ones that left the cluster). */
  nodeNames(): string[] {
    return [...new Set([...this.nodes.keys(), ...[...this.pods.values()].map((e) => e.node)])];
  }

  nodeUsage(name: string): Usage | undefined {
    const p = this.nodes.get(name);
    return p?.prev ? usageBetween(p.prev, p.last) : undefined;
  }

  /**
   * A pod's container usage, timestamp and window those of its earliest container (as
   * metrics-server); undefined until every container has two samples. `uid`: only that pod.
   */
  podUsage(namespace: string, name: string, uid?: string): { timestamp: number; windowMs: number; containers: { name: string; usage: Usage }[] } | undefined {
    const e = this.pods.get(`${namespace}/${name}`);
    if (!e || (uid && e.uid && uid !== e.uid) || e.containers.size === 0) return undefined;
    const containers: { name: string; usage: Usage }[] = [];
    let earliest: Usage | undefined;
    for (const [cname, pair] of e.containers) {
      if (!pair.prev) return undefined;
      const u = usageBetween(pair.prev, pair.last);
      if (!u) continue;
      containers.push({ name: cname, usage: u });
      if (!earliest || u.timestamp < earliest.timestamp) earliest = u;
    }
    if (!earliest) return undefined;
    return { timestamp: earliest.timestamp, windowMs: earliest.windowMs, containers };
  }
}

// ------------------------------------------------------------------ wire format

/** CPU as metrics-server writes it: a Quantity of nanocores in canonical form ("123456n", "2m", "0"). */
export function formatNanoCores(n: number): string {
  const v = Math.max(0, Math.round(n));
  if (v === 0) return '0';
  if (v % 1e9 === 0) return String(v / 1e9);
  if (v % 1e6 === 0) return `${v / 1e6}m`;
  if (v % 1e3 === 0) return `${v / 1e3}u`;
  return `${v}n`;
}

/** Memory as metrics-server writes it: a binary-SI Quantity of bytes in canonical form ("1234Ki", "5Mi", "1536"). */
export function formatBytes(n: number): string {
  let v = Math.max(0, Math.round(n));
  if (v < 1024) return String(v);
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  let i = 0;
  while (i < suffixes.length - 1 && v % 1024 === 0) {
    v /= 1024;
    i++;
  }
  return `${v}${suffixes[i]}`;
}

/** metav1.Time: RFC 3339 in whole seconds. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

interface Meta { name?: string; namespace?: string; labels?: Record<string, string> }

const usageOf = (u: Pick<Usage, 'cpuNanoCores' | 'memoryBytes'>) => ({ cpu: formatNanoCores(u.cpuNanoCores), memory: formatBytes(u.memoryBytes) });

/** A NodeMetrics object (metadata from the Node: name and labels; created "now", as metrics-server). */
export function nodeMetrics(node: Meta, u: Usage, now: number): Record<string, unknown> {
  return {
    kind: 'NodeMetrics', apiVersion: API_VERSION,
    metadata: { name: node.name, creationTimestamp: rfc3339(now), ...(node.labels ? { labels: node.labels } : {}) },
    timestamp: rfc3339(u.timestamp), window: goDuration(u.windowMs), usage: usageOf(u),
  };
}

/** A PodMetrics object (metadata from the Pod: name, namespace and labels). */
export function podMetrics(pod: Meta, u: NonNullable<ReturnType<MetricsStore['podUsage']>>, now: number): Record<string, unknown> {
  return {
    kind: 'PodMetrics', apiVersion: API_VERSION,
    metadata: { name: pod.name, namespace: pod.namespace, creationTimestamp: rfc3339(now), ...(pod.labels ? { labels: pod.labels } : {}) },
    timestamp: rfc3339(u.timestamp), window: goDuration(u.windowMs),
    containers: u.containers.map((c) => ({ name: c.name, usage: usageOf(c.usage) })),
  };
}

export function metricsList(kind: 'NodeMetricsList' | 'PodMetricsList', items: unknown[]): Record<string, unknown> {
  return { kind, apiVersion: API_VERSION, metadata: {}, items };
}

// ------------------------------------------------------------------ the kubelet's Stats answer

/** The parts of a kubelet Stats response (kubelet.proto, proto field names) read here. */
export interface StatsResponse {
  node?: { time?: string; cpu?: { usage_core_nano_seconds?: number }; memory?: { working_set_bytes?: number } };
  pods?: { pod?: { namespace?: string; name?: string; uid?: string }; time?: string; containers?: { name?: string; start_time?: string; time?: string; cpu?: { usage_core_nano_seconds?: number }; memory?: { working_set_bytes?: number } }[] }[];
}

/** A kubelet's Stats answer as a NodeScrape; entries without a readable time are skipped. */
export function scrapeFromStats(r: StatsResponse): NodeScrape {
  const t = (s: string | undefined) => {
    const v = Date.parse(s ?? '');
    return Number.isFinite(v) ? v : undefined;
  };
  const nodeTime = t(r.node?.time);
  const node = r.node && nodeTime !== undefined ? { time: nodeTime, cpuNanos: Number(r.node.cpu?.usage_core_nano_seconds ?? 0), memoryBytes: Number(r.node.memory?.working_set_bytes ?? 0) } : undefined;
  const pods: NodeScrape['pods'] = [];
  for (const p of r.pods ?? []) {
    if (!p.pod?.namespace || !p.pod.name) continue;
    const containers: NodeScrape['pods'][number]['containers'] = [];
    for (const c of p.containers ?? []) {
      const time = t(c.time) ?? t(p.time);
      if (!c.name || time === undefined) continue;
      containers.push({ name: c.name, sample: { time, cpuNanos: Number(c.cpu?.usage_core_nano_seconds ?? 0), memoryBytes: Number(c.memory?.working_set_bytes ?? 0), startTime: c.start_time || undefined } });
    }
    pods.push({ namespace: p.pod.namespace, name: p.pod.name, uid: p.pod.uid ?? '', containers });
  }
  return { node, pods };
}
