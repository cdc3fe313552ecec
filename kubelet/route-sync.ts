import type { Node } from 'kubernetes-types/core/v1';
import type { Logger } from 'pino';
import { realClock, type Clock } from '../lib/clock';
import { runCommand, type CommandRunner } from './pod-network';
import { networkCondition, planRoutes, ROUTE_PROTOCOL, unansweredPeers, type HostRoute, type Neighbour, type NetworkCondition, type RouteFailure } from './routes';

export interface RouteSyncOptions {
  nodeName: string;
  nodeIP: string;
  /** The Node objects as last seen (the kubelet's node informer). */
  nodes: () => readonly Node[];
  log: Logger;
  /** `ip` commands (tests prefix them with a network namespace). */
  run?: CommandRunner;
  /** Called after every pass with the node's NetworkUnavailable condition. */
  report?: (condition: NetworkCondition) => void;
  /** Interval of the full pass that restores routes removed by hand (default 30 s). */
  periodMs?: number;
  clock?: Clock;
  protocol?: number;
}

/**
 * Keeps this host's routes to other nodes' podCIDRs in step with the Node
 * objects (host-gw): each pass lists the main table, plans with `planRoutes`
 * (routes.ts), replaces and deletes only routes tagged with Coxswain's routing
 * protocol number, checks the gateways' ARP entries, and reports
 * `NetworkUnavailable`. Passes run on `trigger()`
 * (Node events; several while one runs collapse into one more) and every
 * `periodMs`. Logs one line per route change, and a failure once per new error.
 */
export class RouteSync {
  private readonly run: CommandRunner;
  private readonly clock: Clock;
  private readonly protocol: number;
  private running?: Promise<void>;
  private again = false;
  private timer?: unknown;
  private stopped = false;
  /** The last error of each dst that failed, so a lasting failure is logged once. */
  private failing = new Map<string, string>();

  constructor(private readonly opts: RouteSyncOptions) {
    this.run = opts.run ?? runCommand;
    this.clock = opts.clock ?? realClock;
    this.protocol = opts.protocol ?? ROUTE_PROTOCOL;
  }

  /** A first pass now, then one every period. */
  start(): void {
    this.trigger();
  }

  /** Asks for a pass; returns when a pass that began after this call has ended. */
  trigger(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop();
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    await this.running;
  }

  private async loop(): Promise<void> {
    if (this.timer) this.clock.clearTimeout(this.timer);
    try {
      do {
        this.again = false;
        try {
          const condition = await this.sync();
          this.opts.report?.(condition);
        } catch (err) {
          this.opts.log.warn({ err: (err as Error).message }, 'route sync failed');
        }
      } while (this.again && !this.stopped);
    } finally {
      this.running = undefined;
      if (!this.stopped) this.timer = this.clock.setTimeout(() => void this.trigger(), this.opts.periodMs ?? 30_000);
    }
  }

  /** One pass: list, plan, apply; the condition it leaves the node in. */
  async sync(): Promise<NetworkCondition> {
    const { log } = this.opts;
    let current: HostRoute[];
    try {
      current = JSON.parse((await this.run('ip', ['-j', '-4', 'route', 'show', 'table', 'main'])) || '[]') as HostRoute[];
    } catch (err) {
      // No listing, no routing: every peer that needs a route is reported unreachable rather than assumed fine.
      const error = `cannot list this host's routes: ${(err as Error).message}`;
      const plan = planRoutes({ self: this.opts.nodeName, selfIP: this.opts.nodeIP, nodes: this.opts.nodes(), current: [], protocol: this.protocol });
      log.warn({ err: error }, 'route sync failed');
      return networkCondition(plan, plan.wanted.map((route) => ({ route, error })));
    }
    const nodes = this.opts.nodes();
    const plan = planRoutes({ self: this.opts.nodeName, selfIP: this.opts.nodeIP, nodes, current, protocol: this.protocol });
    for (const r of plan.remove) {
      try {
        await this.run('ip', ['route', 'del', r.dst, 'proto', String(this.protocol)]);
        log.info({ dst: r.dst, via: r.gateway }, 'pod route removed');
      } catch (err) {
        log.warn({ dst: r.dst, err: (err as Error).message }, 'cannot remove pod route');
      }
    }
    const failures: RouteFailure[] = [];
    const had = new Map(current.map((r) => [r.dst, r.gateway]));
    for (const route of plan.replace) {
      try {
        await this.run('ip', ['route', 'replace', route.dst, 'via', route.gateway, 'proto', String(this.protocol)]);
        const old = had.get(route.dst);
        log.info({ node: route.node, dst: route.dst, via: route.gateway, ...(old ? { was: old } : {}) }, old ? 'pod route replaced' : 'pod route added');
      } catch (err) {
        failures.push({ route, error: (err as Error).message.replace(/^.*?: (?=Error:)/, '') });
      }
    }
    const neighbours = JSON.parse((await this.run('ip', ['-j', '-4', 'neigh', 'show']).catch(() => '')) || '[]') as Neighbour[];
    failures.push(...unansweredPeers(plan, failures, nodes, neighbours));
    // Each failure logged when it starts or its error changes, not on every pass.
    const failing = new Map(failures.map((f) => [f.route.dst, f.error]));
    for (const f of failures) {
      if (this.failing.get(f.route.dst) === f.error) continue;
      log.warn({ node: f.route.node, dst: f.route.dst, via: f.route.gateway, err: f.error }, f.unanswered ? 'pod route gateway does not answer' : 'cannot install pod route');
    }
    this.failing = failing;
    return networkCondition(plan, failures);
  }
}
