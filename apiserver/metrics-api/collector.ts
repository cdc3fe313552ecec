import type { Node } from 'kubernetes-types/core/v1';
import type { KubeletClientPool } from '../../kubelet/api/client';
import { Limiter } from '../../lib/limiter';
import type { Logger } from '../../lib/log';
import { type MetricsStore, type StatsResponse, scrapeFromStats } from './core';

/**
 * The Metrics API's collector, the IO side of core.ts: every `resolutionMs` it calls the
 * Stats RPC of every node's kubelet (in parallel, each bounded by the resolution or 5 s) and records
 * the answers. Nodes without a kubelet API are skipped quietly: hollow nodes (annotation
 * coxswain.io/hollow-node) and nodes with no address. A failed scrape forgets that node's
 * samples (as metrics-server: no usage is better than stale usage) and is logged once per
 * change of the node's state, not on every round.
 */

/** Kept in step with kubelet/hollow/node.ts (components share no code but lib/ and kubelet/api/). */
const HOLLOW_ANNOTATION = 'coxswain.io/hollow-node';

export interface CollectorDeps {
  store: MetricsStore;
  /** The nodes now (the apiserver's watch cache). */
  listNodes(): Promise<Node[]>;
  kubelets: KubeletClientPool;
  log: Logger;
  resolutionMs: number;
}

export class MetricsCollector {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly failing = new Set<string>();
  private readonly limiter = new Limiter(32);

  constructor(private readonly d: CollectorDeps) {}

  /** Scrapes now, then every resolution (a round that overruns delays the next, never overlaps it). */
  start(): void {
    const loop = async () => {
      const t0 = Date.now();
      await this.scrapeOnce().catch((err: Error) => this.d.log.warn({ err: err.message }, 'metrics scrape round failed'));
      if (!this.stopped) this.timer = setTimeout(loop, Math.max(0, this.d.resolutionMs - (Date.now() - t0)));
    };
    void loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One round over every node. */
  async scrapeOnce(): Promise<void> {
    const nodes = await this.d.listNodes();
    const names = new Set(nodes.map((n) => n.metadata?.name ?? ''));
    for (const n of this.d.store.nodeNames()) if (!names.has(n)) this.d.store.forgetNode(n);
    await Promise.all(nodes.filter(scrapable).map((n) => this.limiter.run(() => this.scrapeNode(n))));
  }

  private async scrapeNode(node: Node): Promise<void> {
    const name = node.metadata?.name ?? '';
    try {
      const res = await this.stats(node);
      this.d.store.record(name, scrapeFromStats(res));
      if (this.failing.delete(name)) this.d.log.info({ node: name }, 'metrics scrape of node works again');
    } catch (err) {
      this.d.store.forgetNode(name);
      if (!this.failing.has(name)) this.d.log.warn({ node: name, err: (err as Error).message }, 'metrics scrape of node failed');
      this.failing.add(name);
    }
  }

  private stats(node: Node): Promise<StatsResponse> {
    const client = this.d.kubelets.forNode(node);
    return new Promise((resolve, reject) => {
      client.Stats({}, { deadline: Date.now() + Math.max(5_000, this.d.resolutionMs) }, (err, res) => (err ? reject(err) : resolve((res ?? {}) as StatsResponse)));
    });
  }
}

/** Whether a node has a kubelet API to scrape. */
export function scrapable(node: Node): boolean {
  if (node.metadata?.annotations?.[HOLLOW_ANNOTATION] === 'true') return false;
  return (node.status?.addresses ?? []).length > 0;
}
