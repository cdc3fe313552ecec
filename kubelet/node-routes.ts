import type { Node } from 'kubernetes-types/core/v1';
import type { ApiClient } from '../lib/client';
import type { Clock } from '../lib/clock';
import type { EventRecorder } from '../lib/events';
import { Informer } from '../lib/informer';
import type { Logger } from '../lib/log';
import { NODES } from '../lib/resources';
import type { CommandRunner } from './pod-network';
import { RouteSync } from './route-sync';
import { internalIP, type NetworkCondition } from './routes';

export interface NodeRoutesOptions {
  client: ApiClient;
  nodeName: string;
  nodeIP: string;
  /** Where the condition goes: the node manager (its heartbeat writes it; a change is written at once). */
  node: { setCondition(c: NetworkCondition): boolean; readonly uid?: string };
  events: EventRecorder;
  log: Logger;
  /** `ip` commands (a test runs them in a network namespace). */
  run?: CommandRunner;
  periodMs?: number;
  clock?: Clock;
}

/**
 * The kubelet's host-gw routing: an informer on every Node feeds `RouteSync`
 * (route-sync.ts), whose verdict becomes the Node's `NetworkUnavailable`
 * condition, and an event on each new failure and on the recovery.
 */
export class NodeRoutes {
  readonly sync: RouteSync;
  private readonly nodes: Informer<Node & Record<string, unknown>>;
  private unavailable = false;
  private stopped = false;

  constructor(private readonly opts: NodeRoutesOptions) {
    this.nodes = new Informer<Node & Record<string, unknown>>(opts.client, NODES, { logger: opts.log });
    this.sync = new RouteSync({
      nodeName: opts.nodeName,
      nodeIP: opts.nodeIP,
      nodes: () => this.nodes.list(),
      log: opts.log,
      run: opts.run,
      periodMs: opts.periodMs,
      clock: opts.clock,
      report: (c) => this.report(c),
    });
    // Heartbeats update every Node every few seconds: only a podCIDR or InternalIP change moves a route.
    const routeKey = (n: Node) => `${n.spec?.podCIDR ?? n.spec?.podCIDRs?.[0] ?? ''} ${internalIP(n) ?? ''}`;
    this.nodes.on({
      add: () => void this.sync.trigger(),
      update: (a, b) => {
        if (routeKey(a) !== routeKey(b)) void this.sync.trigger();
      },
      delete: () => void this.sync.trigger(),
    });
  }

  /** Lists the Nodes, then runs the first pass; Node events and the period run the next ones. */
  async start(): Promise<void> {
    await this.nodes.start();
    if (!this.stopped) this.sync.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.sync.stop();
    await this.nodes.stop();
  }

  private report(c: NetworkCondition): void {
    if (!this.opts.node.setCondition(c)) return;
    const failed = c.status === 'True';
    this.opts.log[failed ? 'warn' : 'info']({ condition: c.type, status: c.status, reason: c.reason, message: c.message }, 'node network condition changed');
    // Not an event for every node that joins a healthy network.
    const recovered = !failed && this.unavailable;
    this.unavailable = failed;
    if (!failed && !recovered) return;
    const ref = { apiVersion: 'v1', kind: 'Node', metadata: { name: this.opts.nodeName, uid: this.opts.node.uid } };
    this.opts.events.event(ref, failed ? 'Warning' : 'Normal', c.reason, c.message);
  }
}
